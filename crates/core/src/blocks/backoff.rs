//! Capped exponential backoff with full jitter, the retry schedule AWS recommends for
//! clients of a shared, struggling service (Marc Brooker, "Exponential Backoff And Jitter",
//! AWS Architecture Blog, 2015): before retry `n` (counting from 0) wait a uniformly random
//! time in `[0, min(cap, base · 2^n)]`.
//!
//! Why full jitter: a plain exponential schedule keeps every client that failed together
//! in lock-step, so their retries arrive together and fail together again; spreading each
//! wait over the whole interval breaks the herd up at the cost of an occasional quick
//! retry. The ceiling doubles, so a long outage costs few calls; the cap bounds how long a
//! client sleeps after the outage ends. Integer arithmetic only (microseconds), drawn from
//! the caller's `Prng`, so a seed decides every wait.

use crate::sim::rng::Prng;
use crate::sim::time::SimDuration;

/// A retry schedule: the first ceiling `base_us`, doubling up to `cap_us`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base_us: u64,
    pub cap_us: u64,
}

impl Backoff {
    pub fn from_ms(base_ms: u64, cap_ms: u64) -> Backoff {
        Backoff { base_us: base_ms.max(1) * 1_000, cap_us: cap_ms.max(base_ms.max(1)) * 1_000 }
    }

    /// The largest wait before retry `retry` (0-based): `min(cap, base · 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> u64 {
        let shifted = if retry >= 63 { u64::MAX } else { self.base_us.saturating_mul(1u64 << retry) };
        shifted.min(self.cap_us)
    }

    /// A wait before retry `retry`, uniform in `[0, ceiling]` ("full jitter").
    pub fn full_jitter(&self, retry: u32, rng: &mut Prng) -> SimDuration {
        SimDuration(rng.between(0, self.ceiling(retry)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force twin of the ceiling: double step by step from the base, clamp at the cap.
    fn twin(b: &Backoff, retry: u32) -> u64 {
        let mut c = b.base_us as u128;
        for _ in 0..retry {
            c = (c * 2).min(u128::from(u64::MAX));
        }
        (c.min(u128::from(b.cap_us))) as u64
    }

    #[test]
    fn the_ceiling_doubles_then_stays_at_the_cap() {
        let b = Backoff::from_ms(50, 2_000);
        let got: Vec<u64> = (0..8).map(|r| b.ceiling(r) / 1_000).collect();
        assert_eq!(got, vec![50, 100, 200, 400, 800, 1_600, 2_000, 2_000]);
        for r in 0..100 {
            assert_eq!(b.ceiling(r), twin(&b, r), "retry {r}");
        }
    }

    #[test]
    fn full_jitter_spreads_waits_over_the_whole_interval() {
        let b = Backoff::from_ms(100, 1_000);
        let mut rng = Prng::new(7);
        let draws = 20_000;
        let waits: Vec<u64> = (0..draws).map(|_| b.full_jitter(3, &mut rng).0).collect();
        assert!(waits.iter().all(|&w| w <= 800_000));
        let mean = waits.iter().sum::<u64>() as f64 / draws as f64;
        // Uniform on [0, 800 ms]: mean 400 ms; below a tenth of the ceiling about 10 %.
        assert!((mean - 400_000.0).abs() < 10_000.0, "mean {mean}");
        let low = waits.iter().filter(|&&w| w < 80_000).count() as f64 / draws as f64;
        assert!((low - 0.1).abs() < 0.02, "share below 80 ms: {low}");
    }
}
