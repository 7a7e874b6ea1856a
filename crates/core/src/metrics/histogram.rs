//! A log-linear latency histogram in the spirit of HdrHistogram: values below 64 get a
//! bucket each, larger ones 32 sub-buckets per power of two, so any quantile is within
//! ~3 % of the true value while memory stays a few kilobytes whatever the range.

use serde::Serialize;

const LINEAR: u64 = 64;
const SUB_BITS: u32 = 5;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    counts: Vec<u32>,
    total: u64,
    sum: u128,
    max: u64,
}

/// Quantiles of a histogram, in the recorded unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Quantiles {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

fn bucket_of(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= 6
    let shift = exp - SUB_BITS;
    let mantissa = (v >> shift) & ((1 << SUB_BITS) - 1);
    (LINEAR + u64::from(exp - 6) * (1 << SUB_BITS) + mantissa) as usize
}

/// Highest value that falls in `bucket`.
fn bucket_high(bucket: usize) -> u64 {
    let b = bucket as u64;
    if b < LINEAR {
        return b;
    }
    let exp = (b - LINEAR) / (1 << SUB_BITS) + 6;
    let mantissa = (b - LINEAR) % (1 << SUB_BITS);
    let shift = exp as u32 - SUB_BITS;
    let low = ((1u64 << SUB_BITS) | mantissa) << shift;
    low + ((1u64 << shift) - 1)
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        let b = bucket_of(v);
        if b >= self.counts.len() {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] = self.counts[b].saturating_add(1);
        self.total += 1;
        self.sum += u128::from(v);
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value at quantile `q` in `[0, 1]` (upper edge of its bucket, capped at max).
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return bucket_high(b).min(self.max);
            }
        }
        self.max
    }

    pub fn merge(&mut self, other: &Histogram) {
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }

    pub fn summary(&self) -> Quantiles {
        Quantiles {
            count: self.total,
            mean: if self.total == 0 {
                0.0
            } else {
                self.sum as f64 / self.total as f64
            },
            p50: self.quantile(0.50),
            p99: self.quantile(0.99),
            p999: self.quantile(0.999),
            max: self.max,
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_round_trip() {
        for v in [0, 1, 63, 64, 65, 100, 1_000, 123_456, u64::MAX / 3] {
            let b = bucket_of(v);
            assert!(bucket_high(b) >= v, "{v}");
            if b > 0 {
                assert!(bucket_high(b - 1) < v, "{v}");
            }
        }
    }

    proptest! {
        /// Brute-force twin: the quantile is within 1/32 of the exact order statistic.
        #[test]
        fn quantiles_match_sorted_values(mut values in proptest::collection::vec(0u64..10_000_000, 1..400),
                                         q in 0.0f64..=1.0) {
            let mut h = Histogram::default();
            for &v in &values { h.record(v); }
            values.sort_unstable();
            let rank = ((q * values.len() as f64).ceil() as usize).max(1);
            let exact = values[rank - 1];
            let got = h.quantile(q);
            prop_assert!(got >= exact);
            prop_assert!(got as f64 <= exact as f64 * (1.0 + 1.0 / 32.0) + 1.0, "got {got} exact {exact}");
        }
    }
}
