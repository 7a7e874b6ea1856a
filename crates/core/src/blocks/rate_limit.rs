//! Rate-limiting algorithms as pure state machines over `(now, key)`: fixed window,
//! sliding log, sliding-window counter, token bucket, leaky bucket (as a meter) and GCRA.
//!
//! Each algorithm also *states* its guarantee as data ([`Claim`]s: "at most `max`
//! admissions in any window of `len_us`", sliding or aligned), so a checker can hold it to
//! exactly what it promises. Sources: the sliding-window counter is the approximation
//! Cloudflare described ("How we built rate limiting capable of scaling to millions of
//! domains", 2017); GCRA is the Generic Cell Rate Algorithm of the ATM Forum UNI 3.1 /
//! ITU-T I.371 (virtual-scheduling form); token and leaky buckets follow Tanenbaum's
//! *Computer Networks*. The leaky bucket here is the *meter* (policer), not the queue
//! (shaper): it admits or rejects at once, which is what an API gateway does.
//!
//! Everything is integer arithmetic so that the three bucket algorithms are exactly
//! equivalent (a test checks they decide identically on any stream): tokens are counted in
//! units of `1 / window_us` of a token, and GCRA's clock is scaled by `limit`, so the
//! emission interval `window_us / limit` never needs a fraction. Time must not run
//! backwards per key; if it does, elapsed time is taken as zero.

use std::collections::{BTreeMap, VecDeque};

/// Which algorithm a [`Limiter`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// A counter per aligned window `[k·W, (k+1)·W)`.
    FixedWindow,
    /// Every admission's timestamp; admits while fewer than `limit` lie in the last `W`.
    SlidingLog,
    /// Previous and current aligned counters, the previous one weighted by how much of it
    /// the sliding window still covers.
    SlidingCounter,
    /// `burst` tokens, refilled at `limit / W`.
    TokenBucket,
    /// A bucket that leaks at `limit / W` and holds `burst`; each request pours in one.
    LeakyBucket,
    /// One timestamp per key: the theoretical arrival time of the next conforming request.
    Gcra,
}

/// The policy: `limit` admissions per `window_us`, with `burst` for the bucket algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    pub limit: u64,
    pub window_us: u64,
    pub burst: u64,
}

/// How a claimed window is placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Span {
    /// Any closed interval `[t - len, t]`.
    Sliding,
    /// The aligned intervals `[k·len, (k+1)·len)`.
    Aligned,
}

/// One promise: at most `max` admissions per key in every window of `len_us` of `span`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Claim {
    pub span: Span,
    pub len_us: u64,
    pub max: u64,
}

impl Claim {
    pub fn sliding(len_us: u64, max: u64) -> Claim {
        Claim { span: Span::Sliding, len_us: len_us.max(1), max }
    }
    pub fn aligned(len_us: u64, max: u64) -> Claim {
        Claim { span: Span::Aligned, len_us: len_us.max(1), max }
    }
    pub fn describe(&self) -> String {
        let span = match self.span {
            Span::Sliding => "any",
            Span::Aligned => "each aligned",
        };
        format!("≤ {} in {span} {} ms window", self.max, fmt_ms(self.len_us))
    }
}

fn fmt_ms(us: u64) -> String {
    if us / 1_000 * 1_000 == us {
        format!("{}", us / 1_000)
    } else {
        format!("{:.1}", us as f64 / 1_000.0)
    }
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [
        Algorithm::FixedWindow,
        Algorithm::SlidingLog,
        Algorithm::SlidingCounter,
        Algorithm::TokenBucket,
        Algorithm::LeakyBucket,
        Algorithm::Gcra,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::FixedWindow => "fixed window",
            Algorithm::SlidingLog => "sliding log",
            Algorithm::SlidingCounter => "sliding-window counter",
            Algorithm::TokenBucket => "token bucket",
            Algorithm::LeakyBucket => "leaky bucket",
            Algorithm::Gcra => "GCRA",
        }
    }

    /// What the algorithm guarantees, per key.
    ///
    /// * fixed window and the sliding-window counter keep every aligned window at `limit`;
    ///   a sliding window spans two aligned ones, so up to `2·limit` (the boundary burst);
    /// * the sliding log keeps every sliding window at `limit`;
    /// * the bucket family admits at most `burst + limit·t/W` in any window of length `t`
    ///   (a full bucket plus what refills meanwhile); stated for `t = W` and `t = W/10`.
    pub fn claims(&self, p: &Policy) -> Vec<Claim> {
        let w = p.window_us.max(1);
        match self {
            Algorithm::FixedWindow | Algorithm::SlidingCounter => {
                vec![Claim::aligned(w, p.limit), Claim::sliding(w, 2 * p.limit)]
            }
            Algorithm::SlidingLog => vec![Claim::sliding(w, p.limit)],
            Algorithm::TokenBucket | Algorithm::LeakyBucket | Algorithm::Gcra => {
                [w, (w / 10).max(1)].iter().map(|&t| Claim::sliding(t, bucket_bound(p, t))).collect()
            }
        }
    }
}

/// `burst + ⌊limit · t / W⌋`: the most a bucket admits in a closed window of length `t`.
pub fn bucket_bound(p: &Policy, t_us: u64) -> u64 {
    let refill = u128::from(p.limit) * u128::from(t_us) / u128::from(p.window_us.max(1));
    p.burst.saturating_add(refill.min(u128::from(u64::MAX)) as u64)
}

/// One key's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyState {
    Fixed {
        window: u64,
        count: u64,
    },
    Log {
        stamps: VecDeque<u64>,
    },
    Counter {
        window: u64,
        prev: u64,
        curr: u64,
    },
    /// Tokens in units of `1/W` token.
    Tokens {
        units: u64,
        last_us: u64,
    },
    /// Water level in units of `1/W` request.
    Level {
        units: u64,
        last_us: u64,
    },
    /// Theoretical arrival time, on a clock scaled by `limit`.
    Tat {
        tat: u128,
    },
}

/// A limiter over many keys.
#[derive(Clone, Debug)]
pub struct Limiter {
    pub algo: Algorithm,
    pub policy: Policy,
    keys: BTreeMap<u32, KeyState>,
}

impl Limiter {
    pub fn new(algo: Algorithm, policy: Policy) -> Limiter {
        let policy =
            Policy { limit: policy.limit.max(1), window_us: policy.window_us.max(1), burst: policy.burst.max(1) };
        Limiter { algo, policy, keys: BTreeMap::new() }
    }

    pub fn keys(&self) -> impl Iterator<Item = (&u32, &KeyState)> {
        self.keys.iter()
    }

    pub fn state(&self, key: u32) -> Option<&KeyState> {
        self.keys.get(&key)
    }

    fn fresh(&self, now: u64) -> KeyState {
        let p = &self.policy;
        match self.algo {
            Algorithm::FixedWindow => KeyState::Fixed { window: now / p.window_us, count: 0 },
            Algorithm::SlidingLog => KeyState::Log { stamps: VecDeque::new() },
            Algorithm::SlidingCounter => KeyState::Counter { window: now / p.window_us, prev: 0, curr: 0 },
            Algorithm::TokenBucket => KeyState::Tokens { units: p.burst * p.window_us, last_us: now },
            Algorithm::LeakyBucket => KeyState::Level { units: 0, last_us: now },
            Algorithm::Gcra => KeyState::Tat { tat: 0 },
        }
    }

    /// Decides one request for `key` at `now_us`; `true` admits it (and charges for it).
    pub fn check(&mut self, now_us: u64, key: u32) -> bool {
        let fresh = self.fresh(now_us);
        let p = self.policy;
        let st = self.keys.entry(key).or_insert(fresh);
        decide(st, &p, now_us)
    }

    /// How long from `now_us` until `key` could be admitted again, if nothing else is
    /// admitted meanwhile: 0 when it would be admitted now. A refusal never changes what
    /// any of these algorithms will decide later, and each becomes only more willing to
    /// admit as time passes with no admissions, so a gateway may refuse the key locally for
    /// this long without ever refusing a request the limiter would have admitted.
    pub fn retry_after(&self, now_us: u64, key: u32) -> u64 {
        let Some(st) = self.keys.get(&key) else { return 0 };
        let p = &self.policy;
        let admits = |t: u64| decide(&mut st.clone(), p, t);
        if admits(now_us) {
            return 0;
        }
        // Every algorithm admits again within two windows of quiet (the sliding-window
        // counter forgets its previous window last); search for the first such instant.
        let (mut lo, mut hi) = (0u64, 2 * p.window_us + 1);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if admits(now_us.saturating_add(mid)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// How full the key is at `now_us`, in requests: tokens left for the token bucket,
    /// requests counted for the others (what the level chart draws).
    pub fn level(&self, now_us: u64, key: u32) -> f64 {
        match self.keys.get(&key) {
            Some(st) => level_of(st, &self.policy, now_us),
            None => match self.algo {
                Algorithm::TokenBucket => self.policy.burst as f64,
                _ => 0.0,
            },
        }
    }
}

fn decide(st: &mut KeyState, p: &Policy, now: u64) -> bool {
    let w = p.window_us;
    match st {
        KeyState::Fixed { window, count } => {
            let idx = now / w;
            if idx != *window {
                *window = idx;
                *count = 0;
            }
            let ok = *count < p.limit;
            if ok {
                *count += 1;
            }
            ok
        }
        KeyState::Log { stamps } => {
            // Keep stamps inside the closed window [now - W, now].
            let floor = now.saturating_sub(w);
            while stamps.front().is_some_and(|&s| s < floor) {
                stamps.pop_front();
            }
            let ok = (stamps.len() as u64) < p.limit;
            if ok {
                stamps.push_back(now);
            }
            ok
        }
        KeyState::Counter { window, prev, curr } => {
            let idx = now / w;
            if idx == *window + 1 {
                *prev = *curr;
                *curr = 0;
            } else if idx > *window + 1 {
                *prev = 0;
                *curr = 0;
            }
            if idx > *window {
                *window = idx;
            }
            let elapsed = u128::from(now - idx * w);
            let estimate = u128::from(*prev) * (u128::from(w) - elapsed) + u128::from(*curr) * u128::from(w);
            let ok = estimate < u128::from(p.limit) * u128::from(w);
            if ok {
                *curr += 1;
            }
            ok
        }
        KeyState::Tokens { units, last_us } => {
            let cap = p.burst * w;
            let refill = now.saturating_sub(*last_us).saturating_mul(p.limit);
            *units = units.saturating_add(refill).min(cap);
            *last_us = (*last_us).max(now);
            let ok = *units >= w;
            if ok {
                *units -= w;
            }
            ok
        }
        KeyState::Level { units, last_us } => {
            let cap = p.burst * w;
            let leaked = now.saturating_sub(*last_us).saturating_mul(p.limit);
            *units = units.saturating_sub(leaked);
            *last_us = (*last_us).max(now);
            let ok = *units + w <= cap;
            if ok {
                *units += w;
            }
            ok
        }
        KeyState::Tat { tat } => {
            let t = u128::from(now) * u128::from(p.limit);
            let emission = u128::from(w);
            let tolerance = u128::from(p.burst - 1) * emission;
            let ok = tat.saturating_sub(t) <= tolerance;
            if ok {
                *tat = (*tat).max(t) + emission;
            }
            ok
        }
    }
}

fn level_of(st: &KeyState, p: &Policy, now: u64) -> f64 {
    let w = p.window_us as f64;
    match st {
        KeyState::Fixed { window, count } => {
            if now / p.window_us == *window {
                *count as f64
            } else {
                0.0
            }
        }
        KeyState::Log { stamps } => {
            let floor = now.saturating_sub(p.window_us);
            stamps.iter().filter(|&&s| s >= floor).count() as f64
        }
        KeyState::Counter { window, prev, curr } => {
            let idx = now / p.window_us;
            let (prev, curr) = match idx.saturating_sub(*window) {
                0 => (*prev, *curr),
                1 => (*curr, 0),
                _ => (0, 0),
            };
            let elapsed = (now - idx * p.window_us) as f64;
            prev as f64 * (w - elapsed) / w + curr as f64
        }
        KeyState::Tokens { units, last_us } => {
            let refill = now.saturating_sub(*last_us).saturating_mul(p.limit);
            units.saturating_add(refill).min(p.burst * p.window_us) as f64 / w
        }
        KeyState::Level { units, last_us } => {
            let leaked = now.saturating_sub(*last_us).saturating_mul(p.limit);
            units.saturating_sub(leaked) as f64 / w
        }
        KeyState::Tat { tat } => {
            let t = u128::from(now) * u128::from(p.limit);
            (tat.saturating_sub(t) as f64) / w
        }
    }
}

impl KeyState {
    /// A few words for the per-key table.
    pub fn describe(&self, p: &Policy, now: u64) -> String {
        let lvl = level_of(self, p, now);
        match self {
            KeyState::Fixed { window, .. } => format!("window #{window}: {lvl:.0}/{}", p.limit),
            KeyState::Log { stamps } => {
                format!("{lvl:.0}/{} in log ({} stamps kept)", p.limit, stamps.len())
            }
            KeyState::Counter { .. } => format!("estimate {lvl:.1}/{}", p.limit),
            KeyState::Tokens { .. } => format!("{lvl:.2}/{} tokens", p.burst),
            KeyState::Level { .. } => format!("level {lvl:.2}/{}", p.burst),
            KeyState::Tat { tat } => format!("TAT {:.1} ms (debt {lvl:.2})", *tat as f64 / p.limit as f64 / 1_000.0),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const P: Policy = Policy { limit: 10, window_us: 1_000_000, burst: 3 };

    /// Brute force: the most stamps in any window of the claim's shape.
    fn worst(stamps: &[u64], c: &Claim) -> u64 {
        match c.span {
            Span::Sliding => stamps
                .iter()
                .map(|&t| stamps.iter().filter(|&&s| s <= t && s + c.len_us >= t).count() as u64)
                .max()
                .unwrap_or(0),
            Span::Aligned => {
                let mut per: BTreeMap<u64, u64> = BTreeMap::new();
                for s in stamps {
                    *per.entry(s / c.len_us).or_default() += 1;
                }
                per.values().copied().max().unwrap_or(0)
            }
        }
    }

    #[test]
    fn token_bucket_published_shape_burst_then_rate() {
        // A full bucket of 3 admits 3 at once, then one every W/limit = 100 ms.
        let mut l = Limiter::new(Algorithm::TokenBucket, P);
        let got: Vec<bool> = (0..5).map(|_| l.check(0, 1)).collect();
        assert_eq!(got, [true, true, true, false, false]);
        assert!(!l.check(99_999, 1));
        assert!(l.check(100_000, 1));
        assert!(!l.check(100_000, 1));
    }

    #[test]
    fn fixed_window_lets_twice_the_limit_through_a_boundary() {
        let mut l = Limiter::new(Algorithm::FixedWindow, P);
        let mut stamps = Vec::new();
        for t in (900_000..1_100_000).step_by(5_000) {
            if l.check(t, 0) {
                stamps.push(t);
            }
        }
        assert_eq!(worst(&stamps, &Claim::sliding(1_000_000, 0)), 20);
        // The sliding log, same traffic, holds the line.
        let mut l = Limiter::new(Algorithm::SlidingLog, P);
        let admitted: Vec<u64> = (900_000..1_100_000).step_by(5_000).filter(|&t| l.check(t, 0)).collect();
        assert_eq!(worst(&admitted, &Claim::sliding(1_000_000, 0)), 10);
    }

    use proptest::prelude::*;

    fn arrivals() -> impl Strategy<Value = Vec<(u64, u32)>> {
        proptest::collection::vec((0u64..40_000, 0u32..3), 0..300).prop_map(|gaps| {
            let mut t = 0;
            gaps.into_iter()
                .map(|(g, k)| {
                    t += g;
                    (t, k)
                })
                .collect()
        })
    }

    proptest! {
        /// Every algorithm keeps every claim it states, on any arrival stream.
        #[test]
        fn each_algorithm_keeps_its_stated_bound(
            stream in arrivals(),
            limit in 1u64..12,
            burst in 1u64..6,
            w in prop_oneof![Just(1_000_000u64), Just(333_333u64), Just(50_000u64)],
        ) {
            let p = Policy { limit, window_us: w, burst };
            for algo in Algorithm::ALL {
                let mut l = Limiter::new(algo, p);
                let mut per_key: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
                for &(t, k) in &stream {
                    if l.check(t, k) {
                        per_key.entry(k).or_default().push(t);
                    }
                }
                for c in algo.claims(&l.policy) {
                    for stamps in per_key.values() {
                        prop_assert!(worst(stamps, &c) <= c.max, "{:?} broke {:?}", algo, c);
                    }
                }
            }
        }

        /// Token bucket, leaky bucket (meter) and GCRA are the same policer written three
        /// ways: they decide identically on every stream.
        #[test]
        fn bucket_family_decides_identically(stream in arrivals(), limit in 1u64..12, burst in 1u64..6) {
            let p = Policy { limit, window_us: 1_000_000, burst };
            let mut tb = Limiter::new(Algorithm::TokenBucket, p);
            let mut lb = Limiter::new(Algorithm::LeakyBucket, p);
            let mut g = Limiter::new(Algorithm::Gcra, p);
            for &(t, k) in &stream {
                let a = tb.check(t, k);
                prop_assert_eq!(a, lb.check(t, k));
                prop_assert_eq!(a, g.check(t, k));
            }
        }

        /// `retry_after` is exactly the first instant a refused key is admitted again: one
        /// microsecond earlier it is still refused (checked on a copy of the limiter).
        #[test]
        fn retry_after_is_the_first_admitting_instant(
            stream in arrivals(),
            limit in 1u64..12,
            burst in 1u64..6,
            w in prop_oneof![Just(1_000_000u64), Just(333_333u64), Just(50_000u64)],
        ) {
            let p = Policy { limit, window_us: w, burst };
            for algo in Algorithm::ALL {
                let mut l = Limiter::new(algo, p);
                for &(t, k) in &stream {
                    if l.check(t, k) {
                        prop_assert_eq!(l.retry_after(t, k) == 0, l.clone().check(t, k), "{:?}", algo);
                        continue;
                    }
                    let d = l.retry_after(t, k);
                    prop_assert!(d > 0 && d <= 2 * w + 1, "{:?}: retry after {}", algo, d);
                    prop_assert!(l.clone().check(t + d, k), "{:?}: still refused after {}", algo, d);
                    prop_assert!(!l.clone().check(t + d - 1, k), "{:?}: admitted before {}", algo, d);
                }
            }
        }

        /// The token bucket never holds more than its capacity, nor less than nothing.
        #[test]
        fn token_bucket_never_exceeds_capacity(stream in arrivals(), limit in 1u64..12, burst in 1u64..6) {
            let p = Policy { limit, window_us: 1_000_000, burst };
            let mut tb = Limiter::new(Algorithm::TokenBucket, p);
            for &(t, k) in &stream {
                tb.check(t, k);
                let lvl = tb.level(t, k);
                prop_assert!((0.0..=burst as f64).contains(&lvl), "level {}", lvl);
            }
        }

        /// The sliding log admits exactly when a brute-force count over all past
        /// admissions says fewer than `limit` lie in the last window.
        #[test]
        fn sliding_log_matches_brute_force(stream in arrivals(), limit in 1u64..8) {
            let p = Policy { limit, window_us: 100_000, burst: 1 };
            let mut l = Limiter::new(Algorithm::SlidingLog, p);
            let mut admitted: Vec<(u64, u32)> = Vec::new();
            for &(t, k) in &stream {
                let inside = admitted.iter().filter(|&&(s, kk)| kk == k && s + p.window_us >= t).count() as u64;
                let want = inside < limit;
                prop_assert_eq!(l.check(t, k), want);
                if want {
                    admitted.push((t, k));
                }
            }
        }
    }
}
