//! The arithmetic of local-periodic-sync, kept apart from messages and timers so that the
//! overshoot bound can be tested against every interleaving a proptest can think of.
//!
//! Each gateway counts its own admissions per key and aligned window. Every sync interval
//! it sends the store its own running count (not a delta: a count is idempotent, so a lost,
//! repeated or late push does no harm) and the store keeps, per window, the highest count
//! each writer has sent — a grow-only counter. The reply carries the writer's entry and the
//! window's total, read at one instant. A gateway admits while
//!
//! * `others + own < limit`, where `others = total − entry` from the latest reply, and
//! * `own − entry < allowance`: it never runs more than `allowance` admissions ahead of
//!   what the store has confirmed.
//!
//! **Bound.** Per key and aligned window, with `N` gateways, admissions never exceed
//! `limit + (N − 1) · min(allowance, limit)`. Take each gateway `h` at its last admission
//! and the reply it was using, read at store instant `σ_h`. Its own count is at most
//! `entry_h(σ_h) + min(allowance, limit − total(σ_h))` (the second rule, and the first
//! rewritten). Let `m` be the gateway whose `σ_m` is latest. Entries only grow, so
//! `Σ entry_h(σ_h) ≤ total(σ_m)`; on top of that gateway `m` adds at most
//! `limit − total(σ_m)` and every other at most `min(allowance, limit)`, which sums to the
//! bound. It is tight: gateways that all read a total of `limit − allowance` then admit
//! `allowance` each.
//!
//! A crash loses the admissions a gateway had not pushed. A restarted gateway writes under
//! a new boot number and starts the window it restarts in with `allowance` phantom
//! admissions already counted, which stand in for whatever its previous life lost, so the
//! bound holds across restarts too (the proptest crashes gateways).

use std::collections::BTreeMap;

/// Who pushed a count: a gateway in one of its lives (node id, boot number).
pub type Writer = (u32, u32);

/// How far a gateway may run ahead of the store: one sync interval at the policy's rate,
/// `⌈limit · sync / window⌉`, at least one.
pub fn allowance(limit: u64, window_us: u64, sync_us: u64) -> u64 {
    let num = u128::from(limit) * u128::from(sync_us);
    let den = u128::from(window_us.max(1));
    num.div_ceil(den).clamp(1, u128::from(u64::MAX)) as u64
}

/// The most a key can exceed its limit in one aligned window.
pub fn overshoot(gateways: u64, limit: u64, allowance: u64) -> u64 {
    gateways.saturating_sub(1).saturating_mul(allowance.min(limit))
}

/// A gateway's count for one key in one aligned window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LocalCount {
    pub window: u64,
    /// Admissions made here this window (plus the phantom allowance after a restart).
    pub own: u64,
    /// Our entry at the store in the reply we hold: what the store has confirmed.
    pub acked: u64,
    /// The window's total at the store in that reply.
    pub total: u64,
}

/// What the local rules say about one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Local {
    Admit,
    /// Everyone's count, as far as this gateway knows, has reached the limit.
    OverLimit,
    /// This gateway is `allowance` admissions ahead of what the store has confirmed.
    Unconfirmed,
}

impl LocalCount {
    pub fn new(window: u64, phantom: u64) -> LocalCount {
        LocalCount { window, own: phantom, acked: 0, total: 0 }
    }

    /// Admissions by other gateways, as of the reply we hold.
    pub fn others(&self) -> u64 {
        self.total - self.acked
    }

    /// Decides one request and, when it admits, counts it.
    pub fn decide(&mut self, limit: u64, allowance: u64) -> Local {
        if self.others().saturating_add(self.own) >= limit {
            Local::OverLimit
        } else if self.own - self.acked >= allowance {
            Local::Unconfirmed
        } else {
            self.own += 1;
            Local::Admit
        }
    }

    /// Takes a reply that read `entry` for us and `total` overall — unless we hold a newer
    /// one (totals only grow, so a larger total is a later instant). The bound needs only
    /// that entry and total come from the same reply, never mixed from two; keeping the
    /// newest is for accuracy.
    pub fn confirm(&mut self, entry: u64, total: u64) {
        if total >= self.total && entry <= self.own {
            self.acked = entry;
            self.total = total;
        }
    }
}

/// The store's grow-only counter for one key in one window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub entries: BTreeMap<Writer, u64>,
    pub total: u64,
}

impl Tally {
    /// Applies a pushed count; returns the writer's entry and the total, read together.
    pub fn push(&mut self, writer: Writer, count: u64) -> (u64, u64) {
        let e = self.entries.entry(writer).or_default();
        if count > *e {
            self.total += count - *e;
            *e = count;
        }
        (*e, self.total)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn allowance_is_one_interval_of_the_policy_rate() {
        assert_eq!(allowance(50, 1_000_000, 100_000), 5);
        assert_eq!(allowance(50, 1_000_000, 110_000), 6, "rounded up");
        assert_eq!(allowance(1, 60_000_000, 10_000), 1, "never zero");
        assert_eq!(overshoot(3, 50, 5), 10);
        assert_eq!(overshoot(3, 4, 5), 8, "a gateway never admits more than the limit alone");
        assert_eq!(overshoot(1, 50, 5), 0, "one gateway is exact");
    }

    /// Three gateways all holding a reply that says `limit − allowance`: each admits its
    /// whole allowance, and the window ends exactly at the bound — it cannot be lowered.
    #[test]
    fn the_bound_is_reached() {
        let (limit, q) = (10, 3);
        let mut store = Tally::default();
        let mut gws: Vec<LocalCount> = (0..3).map(|_| LocalCount::new(0, 0)).collect();
        // Gateway 0 alone brings the total to limit − q in confirmed steps.
        let mut admitted = 0;
        while store.total < limit - q {
            assert_eq!(gws[0].decide(limit, q), Local::Admit);
            admitted += 1;
            let (e, t) = store.push((1, 0), gws[0].own);
            gws[0].confirm(e, t);
        }
        for (i, g) in gws.iter_mut().enumerate() {
            let (e, t) = store.push((i as u32 + 1, 0), g.own);
            g.confirm(e, t);
        }
        for g in gws.iter_mut() {
            while g.decide(limit, q) == Local::Admit {
                admitted += 1;
            }
        }
        assert_eq!(admitted, limit + overshoot(3, limit, q));
    }

    /// One step of an adversarial schedule.
    #[derive(Clone, Debug)]
    enum Step {
        /// A request at gateway `g`.
        Request(usize),
        /// Gateway `g` pushes its count.
        Push(usize),
        /// The store applies the pending push at this position (mod the pool).
        Apply(usize),
        /// Gateway receives the pending reply at this position (mod the pool).
        Reply(usize),
        /// A message at this position is lost.
        LosePush(usize),
        LoseReply(usize),
        /// Gateway `g` crashes and restarts at once.
        Crash(usize),
    }

    fn step(n: usize) -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0..n).prop_map(Step::Request),
            2 => (0..n).prop_map(Step::Push),
            2 => any::<usize>().prop_map(Step::Apply),
            2 => any::<usize>().prop_map(Step::Reply),
            1 => any::<usize>().prop_map(Step::LosePush),
            1 => any::<usize>().prop_map(Step::LoseReply),
            1 => (0..n).prop_map(Step::Crash),
        ]
    }

    fn schedule() -> impl Strategy<Value = (usize, u64, u64, Vec<Step>)> {
        (1usize..5, 1u64..20, 1u64..8)
            .prop_flat_map(|(n, limit, q)| (Just(n), Just(limit), Just(q), proptest::collection::vec(step(n), 0..400)))
    }

    proptest! {
        /// Brute force over schedules: pushes and replies applied in any order, lost, late,
        /// or overtaken; gateways crashing with unpushed admissions. However the messages
        /// fall, real admissions in the window never pass `limit + (N−1)·min(q, limit)`.
        #[test]
        fn admissions_never_pass_the_stated_bound((n, limit, q, steps) in schedule()) {
            let bound = limit + overshoot(n as u64, limit, q);
            let mut store = Tally::default();
            let mut gws: Vec<(u32, LocalCount)> = (0..n).map(|_| (0, LocalCount::new(0, 0))).collect();
            let mut pushes: Vec<(usize, Writer, u64)> = Vec::new();
            let mut replies: Vec<(usize, u32, u64, u64)> = Vec::new();
            let mut real = 0u64;
            for s in steps {
                match s {
                    Step::Request(g) => real += u64::from(gws[g].1.decide(limit, q) == Local::Admit),
                    Step::Push(g) => pushes.push((g, (g as u32, gws[g].0), gws[g].1.own)),
                    Step::Apply(i) if !pushes.is_empty() => {
                        let (g, w, c) = pushes.remove(i % pushes.len());
                        let (e, t) = store.push(w, c);
                        replies.push((g, w.1, e, t));
                    }
                    Step::Reply(i) if !replies.is_empty() => {
                        let (g, boot, e, t) = replies.remove(i % replies.len());
                        if gws[g].0 == boot {
                            gws[g].1.confirm(e, t);
                        }
                    }
                    Step::LosePush(i) if !pushes.is_empty() => {
                        pushes.remove(i % pushes.len());
                    }
                    Step::LoseReply(i) if !replies.is_empty() => {
                        replies.remove(i % replies.len());
                    }
                    Step::Crash(g) => gws[g] = (gws[g].0 + 1, LocalCount::new(0, q)),
                    _ => {}
                }
                prop_assert!(real <= bound, "{} admitted, bound {}", real, bound);
            }
        }
    }

    /// Without the allowance rule a gateway that hears nothing admits the whole limit on
    /// its own: the schedule the proptest would find first.
    #[test]
    fn without_the_allowance_silent_gateways_each_spend_the_limit() {
        let (limit, n) = (10, 3);
        let mut admitted = 0;
        for _ in 0..n {
            let mut g = LocalCount::new(0, 0);
            while g.decide(limit, u64::MAX) == Local::Admit {
                admitted += 1;
            }
        }
        assert_eq!(admitted, n * limit);
        assert!(admitted > limit + overshoot(n, limit, 2));
    }
}
