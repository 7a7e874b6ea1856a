//! Load generators. A scenario's [`WorkloadSpec`] says how requests arrive — open loop
//! (Poisson: arrivals ignore how the system copes, which is how overload really builds) or
//! closed loop (each client waits for its answer, then thinks) — with bursts that multiply
//! the rate for a while, and which keys they touch: uniform or Zipf-distributed (a few hot
//! keys, a long tail), the shape of real traffic.

use super::rng::Prng;
use super::time::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// Limits every workload must respect.
pub const MAX_RATE_PER_S: f64 = 200_000.0;
pub const MAX_DURATION_MS: u64 = 600_000;
pub const MAX_KEYS: u64 = 10_000_000;
pub const MAX_BURST_FACTOR: f64 = 100.0;
pub const MAX_BURSTS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// Poisson arrivals at `rate_per_s` in total, whatever the system does.
    Open,
    /// Each client sends, waits for the answer, thinks `think_ms`, sends again.
    Closed,
}

/// A time window in which the request rate is multiplied by `factor`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    pub at_ms: u64,
    pub for_ms: u64,
    pub factor: f64,
}

/// How requests arrive and what they touch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub arrival: Arrival,
    /// Total request rate (open loop) across all clients.
    pub rate_per_s: f64,
    /// Think time between requests of one client (closed loop).
    #[serde(default)]
    pub think_ms: u64,
    /// How long clients send requests.
    pub duration_ms: u64,
    /// Number of distinct keys.
    pub keys: u64,
    /// Zipf exponent; 0 means uniform keys.
    #[serde(default)]
    pub zipf_s: f64,
    #[serde(default)]
    pub bursts: Vec<Burst>,
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            arrival: Arrival::Open,
            rate_per_s: 1_000.0,
            think_ms: 0,
            duration_ms: 5_000,
            keys: 1_000,
            zipf_s: 0.0,
            bursts: Vec::new(),
        }
    }
}

impl WorkloadSpec {
    /// This workload held to a system's own limits: its base rate to `max_rate`, its
    /// length to `max_duration_ms`, and its bursts so that even all of them overlapping
    /// never push the rate past `max_rate`. Bursts multiply where they overlap, so each
    /// gets an equal share of the headroom (the n-th root of `max_rate / rate`); capping
    /// each burst alone at the headroom would let sixteen overlapping bursts reach the
    /// headroom to the sixteenth power.
    pub fn capped(&self, max_rate: f64, max_duration_ms: u64) -> WorkloadSpec {
        let mut w = self.clone();
        w.rate_per_s = w.rate_per_s.min(max_rate);
        w.duration_ms = w.duration_ms.min(max_duration_ms);
        if !w.bursts.is_empty() {
            let each = libm::pow(max_rate / w.rate_per_s, 1.0 / w.bursts.len() as f64);
            for b in &mut w.bursts {
                b.factor = b.factor.min(each);
            }
        }
        w
    }

    /// Checks every field against its bounds; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let finite = |v: f64| v.is_finite();
        if !finite(self.rate_per_s) || self.rate_per_s <= 0.0 || self.rate_per_s > MAX_RATE_PER_S {
            return Err(format!("workload.rate_per_s must be in (0, {MAX_RATE_PER_S}], got {}", self.rate_per_s));
        }
        if self.duration_ms == 0 || self.duration_ms > MAX_DURATION_MS {
            return Err(format!("workload.duration_ms must be in 1..={MAX_DURATION_MS}, got {}", self.duration_ms));
        }
        if self.think_ms > 60_000 {
            return Err(format!("workload.think_ms must be at most 60000, got {}", self.think_ms));
        }
        if self.keys == 0 || self.keys > MAX_KEYS {
            return Err(format!("workload.keys must be in 1..={MAX_KEYS}, got {}", self.keys));
        }
        if !finite(self.zipf_s) || !(0.0..=3.0).contains(&self.zipf_s) {
            return Err(format!("workload.zipf_s must be in [0, 3], got {}", self.zipf_s));
        }
        if self.bursts.len() > MAX_BURSTS {
            return Err(format!("workload.bursts: at most {MAX_BURSTS}, got {}", self.bursts.len()));
        }
        for b in &self.bursts {
            if !finite(b.factor) || b.factor <= 0.0 || b.factor > MAX_BURST_FACTOR {
                return Err(format!("workload.bursts.factor must be in (0, {MAX_BURST_FACTOR}], got {}", b.factor));
            }
            if b.at_ms > MAX_DURATION_MS || b.for_ms > MAX_DURATION_MS {
                return Err(format!("workload.bursts must lie within {MAX_DURATION_MS} ms"));
            }
        }
        Ok(())
    }

    /// Rate multiplier in force at `t`, and when it next changes.
    fn factor_at(&self, t: SimTime) -> (f64, SimTime) {
        let mut factor = 1.0;
        let mut next = SimTime::from_ms(self.duration_ms);
        for b in &self.bursts {
            let start = SimTime::from_ms(b.at_ms);
            let end = SimTime::from_ms(b.at_ms.saturating_add(b.for_ms));
            if t >= start && t < end {
                factor *= b.factor;
                next = next.min(end);
            } else if start > t {
                next = next.min(start);
            }
        }
        (factor, next)
    }

    /// Next open-loop arrival after `now` for one of `clients` clients sharing the total
    /// rate, or `None` once the workload is over. Bursts are exact: a piecewise-constant
    /// Poisson process is sampled segment by segment (the exponential is memoryless).
    pub fn next_arrival(&self, now: SimTime, clients: u32, rng: &mut Prng) -> Option<SimTime> {
        let per_client = self.rate_per_s / f64::from(clients.max(1));
        let end = SimTime::from_ms(self.duration_ms);
        let mut t = now;
        for _ in 0..=2 * MAX_BURSTS + 2 {
            if t >= end {
                return None;
            }
            let (factor, change) = self.factor_at(t);
            let gap_s = rng.exponential(1.0 / (per_client * factor));
            let candidate = t + SimDuration::from_ms_f64(gap_s * 1_000.0).max(SimDuration(1));
            if candidate < change {
                return Some(candidate);
            }
            t = change;
        }
        None
    }

    /// Whether a closed-loop client should keep sending at `now`.
    pub fn active(&self, now: SimTime) -> bool {
        now < SimTime::from_ms(self.duration_ms)
    }

    pub fn key_sampler(&self) -> KeySampler {
        KeySampler::new(self.keys, self.zipf_s)
    }
}

/// Draws keys in `0..n`, uniformly or Zipf(s) with key 0 the hottest.
///
/// Zipf uses rejection-inversion sampling (W. Hörmann and G. Derflinger, "Rejection-
/// inversion to generate variates from monotone discrete distributions", ACM TOMACS 1996):
/// O(1) memory and expected O(1) time for any `n`, so a link cannot make us allocate a
/// table of ten million probabilities.
#[derive(Clone, Debug)]
pub struct KeySampler {
    n: u64,
    s: f64,
    h_x1: f64,
    h_n: f64,
    squeeze: f64,
}

impl KeySampler {
    pub fn new(n: u64, s: f64) -> KeySampler {
        let n = n.max(1);
        let mut k = KeySampler { n, s, h_x1: 0.0, h_n: 0.0, squeeze: 0.0 };
        if s > 0.0 {
            k.h_x1 = k.big_h(1.5) - 1.0;
            k.h_n = k.big_h(n as f64 + 0.5);
            k.squeeze = 2.0 - k.big_h_inv(k.big_h(2.5) - k.h(2.0));
        }
        k
    }

    pub fn keys(&self) -> u64 {
        self.n
    }

    /// `h(x) = x^-s`.
    fn h(&self, x: f64) -> f64 {
        libm::exp(-self.s * libm::log(x))
    }

    /// `H(x) = ∫ h = (x^(1-s) - 1) / (1 - s)`, or `ln x` when `s = 1`.
    fn big_h(&self, x: f64) -> f64 {
        let lx = libm::log(x);
        let t = (1.0 - self.s) * lx;
        if t.abs() < 1e-8 {
            lx * (1.0 + t / 2.0)
        } else {
            libm::expm1(t) / (1.0 - self.s)
        }
    }

    fn big_h_inv(&self, y: f64) -> f64 {
        let t = (y * (1.0 - self.s)).max(-1.0 + 1e-12);
        if t.abs() < 1e-8 {
            libm::exp(y * (1.0 - t / 2.0))
        } else {
            libm::exp(libm::log1p(t) / (1.0 - self.s))
        }
    }

    pub fn sample(&self, rng: &mut Prng) -> u64 {
        if self.s <= 0.0 || self.n == 1 {
            return rng.below(self.n);
        }
        loop {
            let u = self.h_n + rng.unit() * (self.h_x1 - self.h_n);
            let x = self.big_h_inv(u);
            let k = (x + 0.5).floor().clamp(1.0, self.n as f64);
            if k - x <= self.squeeze || u >= self.big_h(k + 0.5) - self.h(k) {
                return k as u64 - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// The highest rate in force at any moment, found by trying every burst edge (the
    /// rate is constant between edges): the brute-force twin of [`WorkloadSpec::capped`].
    fn peak_rate(w: &WorkloadSpec) -> f64 {
        let mut edges = vec![0];
        for b in &w.bursts {
            edges.push(b.at_ms);
            edges.push(b.at_ms.saturating_add(b.for_ms));
        }
        edges.iter().map(|&t| w.rate_per_s * w.factor_at(SimTime::from_ms(t)).0).fold(0.0, f64::max)
    }

    #[test]
    fn capped_workloads_never_exceed_the_limit_even_when_every_burst_overlaps() {
        let mut rng = Prng::new(9);
        for case in 0..500 {
            let n = rng.below(MAX_BURSTS as u64 + 1) as usize;
            let w = WorkloadSpec {
                rate_per_s: 0.5 + rng.unit() * 400.0,
                duration_ms: 1 + rng.below(MAX_DURATION_MS),
                bursts: (0..n)
                    .map(|_| Burst {
                        at_ms: rng.below(10_000),
                        for_ms: rng.below(10_000),
                        factor: 0.01 + rng.unit() * MAX_BURST_FACTOR,
                    })
                    .collect(),
                ..WorkloadSpec::default()
            };
            let c = w.capped(100.0, 30_000);
            assert!(peak_rate(&c) <= 100.0 * (1.0 + 1e-9), "case {case}: peak {} from {w:?}", peak_rate(&c));
            assert!(c.duration_ms <= 30_000 && c.duration_ms == w.duration_ms.min(30_000));
            // Below the limit nothing changes.
            if peak_rate(&w) <= 100.0 {
                assert_eq!(c.bursts, w.bursts, "case {case}");
            }
        }
        // Sixteen overlapping bursts at the highest factor on the slowest rate: the peak is
        // the limit itself, not 100 × 100¹⁶.
        let all = WorkloadSpec {
            rate_per_s: 1.0,
            bursts: vec![Burst { at_ms: 0, for_ms: 1_000, factor: MAX_BURST_FACTOR }; MAX_BURSTS],
            ..WorkloadSpec::default()
        };
        let peak = peak_rate(&all.capped(100.0, 30_000));
        assert!((peak - 100.0).abs() < 1e-6, "{peak}");
    }
    use super::*;

    /// Brute-force twin: empirical frequencies against the exact Zipf pmf.
    #[test]
    fn zipf_matches_exact_pmf() {
        for &(n, s) in &[(10u64, 1.0f64), (50, 0.8), (5, 2.0)] {
            let k = KeySampler::new(n, s);
            let mut rng = Prng::new(11);
            let draws = 200_000;
            let mut counts = vec![0u64; n as usize];
            for _ in 0..draws {
                counts[k.sample(&mut rng) as usize] += 1;
            }
            let norm: f64 = (1..=n).map(|i| 1.0 / (i as f64).powf_det(s)).sum();
            for (i, &c) in counts.iter().enumerate() {
                let p = 1.0 / ((i + 1) as f64).powf_det(s) / norm;
                let got = c as f64 / draws as f64;
                assert!((got - p).abs() < 0.01 + 0.05 * p, "n={n} s={s} key {i}: {got} vs {p}");
            }
        }
    }

    trait PowDet {
        fn powf_det(self, e: f64) -> f64;
    }
    impl PowDet for f64 {
        fn powf_det(self, e: f64) -> f64 {
            libm::pow(self, e)
        }
    }

    #[test]
    fn bursts_raise_the_rate_inside_their_window() {
        let spec = WorkloadSpec {
            rate_per_s: 1_000.0,
            duration_ms: 3_000,
            bursts: vec![Burst { at_ms: 1_000, for_ms: 1_000, factor: 5.0 }],
            ..WorkloadSpec::default()
        };
        let mut rng = Prng::new(5);
        let mut t = SimTime::ZERO;
        let mut per_second = [0u32; 3];
        while let Some(next) = spec.next_arrival(t, 1, &mut rng) {
            per_second[(next.0 / 1_000_000) as usize] += 1;
            t = next;
        }
        assert!((900..1100).contains(&per_second[0]), "{per_second:?}");
        assert!((4700..5300).contains(&per_second[1]), "{per_second:?}");
        assert!((900..1100).contains(&per_second[2]), "{per_second:?}");
    }

    #[test]
    fn validation_names_the_field() {
        let bad = WorkloadSpec { rate_per_s: f64::NAN, ..WorkloadSpec::default() };
        assert!(bad.validate().unwrap_err().contains("rate_per_s"));
        let bad = WorkloadSpec { keys: 0, ..WorkloadSpec::default() };
        assert!(bad.validate().unwrap_err().contains("keys"));
    }
}
