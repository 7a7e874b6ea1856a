//! The only source of randomness in a run: xoshiro256++ (Blackman & Vigna, 2019) from
//! `rand_xoshiro`, seeded from one `u64`. Each component draws from its own stream made by
//! [`Prng::fork`] with a label, so adding a draw in one component never shifts another's
//! numbers — the trick TigerBeetle's VOPR and madsim use to keep seeds meaningful as code
//! changes. All sampling is integer or IEEE basic arithmetic plus `libm` (pure Rust), so the
//! same seed gives the same numbers on x86-64 and wasm32.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A seeded pseudo-random stream.
#[derive(Clone, Debug)]
pub struct Prng {
    seed: u64,
    inner: Xoshiro256PlusPlus,
}

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes: used only to turn fork labels into numbers.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng {
            seed,
            inner: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The seed this stream started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// An independent stream named `label`. It depends only on this stream's seed and the
    /// label, never on how many numbers were drawn so far.
    pub fn fork(&self, label: &str) -> Prng {
        Prng::new(mix64(self.seed ^ mix64(fnv1a(label.as_bytes()))))
    }

    /// Like [`fork`](Self::fork) with a numeric suffix, without formatting a string.
    pub fn fork_n(&self, label: &str, n: u64) -> Prng {
        Prng::new(mix64(
            self.seed ^ mix64(fnv1a(label.as_bytes()) ^ mix64(n.wrapping_add(1))),
        ))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in `0..n` without modulo bias (Lemire 2019); `n == 0` gives 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        let mut low = m as u64;
        if low < n {
            let threshold = n.wrapping_neg() % n;
            while low < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
                low = m as u64;
            }
        }
        (m >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.unit() < p
    }

    /// Exponentially distributed with the given mean (inverse transform with `libm::log`).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        if mean <= 0.0 {
            return 0.0;
        }
        -mean * libm::log(1.0 - self.unit())
    }

    /// A uniformly chosen element, or `None` for an empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.below(items.len() as u64) as usize)
        }
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forks_do_not_depend_on_draws() {
        let mut a = Prng::new(7);
        let before = a.fork("net").next_u64();
        a.next_u64();
        assert_eq!(a.fork("net").next_u64(), before);
        assert_ne!(a.fork("net").next_u64(), a.fork("disk").next_u64());
        assert_ne!(
            a.fork_n("client", 1).next_u64(),
            a.fork_n("client", 2).next_u64()
        );
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = Prng::new(1);
        let mut seen = [0u32; 6];
        for _ in 0..6_000 {
            seen[r.below(6) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
        assert_eq!(r.below(0), 0);
        assert_eq!(r.between(5, 5), 5);
    }

    #[test]
    fn exponential_mean_is_close() {
        let mut r = Prng::new(3);
        let n = 20_000;
        let mean: f64 = (0..n).map(|_| r.exponential(4.0)).sum::<f64>() / n as f64;
        assert!((mean - 4.0).abs() < 0.15, "{mean}");
    }

    /// Pins the stream so a dependency bump that changes numbers is noticed.
    #[test]
    fn stream_is_pinned() {
        let mut r = Prng::new(42);
        let got: Vec<u64> = (0..2).map(|_| r.next_u64() % 1_000_000).collect();
        expect_test::expect!["[233951, 364753]"].assert_eq(&format!("{got:?}"));
    }
}
