//! Adaptive bitrate: which rung a player asks for next. Three rules:
//!
//! - **fixed**: always the top rung ("HD for everyone"), whatever the link does.
//! - **throughput** (rate-based, as in dash.js's ThroughputRule): the harmonic mean of
//!   the last few segments' measured throughput, times a 0.9 safety factor; the highest
//!   rung below it. It reacts only after a slow download has been measured, so a drop that
//!   begins under a big segment is met with an empty buffer.
//! - **buffer** (BBA-0: Huang, Johnson, Mancuso, McKeown, Watson, "A Buffer-Based
//!   Approach to Rate Adaptation", SIGCOMM 2014, Algorithm 1): the rung is a function of
//!   the buffer level alone. Below the *reservoir* `r` the lowest rung; above `r + c` (the
//!   *cushion*) the highest; in between a linear map `f(B)`, with the paper's hysteresis —
//!   move up only when `f(B)` passes the next rung up, down only when it falls below the
//!   next rung down. A top-rung segment is fetched only with a deep buffer, which is what
//!   rides out a sudden drop.

/// Which rule a player runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abr {
    Fixed,
    Throughput,
    Buffer,
}

/// Throughput samples the rate rule averages.
pub const SAMPLES: usize = 4;

/// The reservoir and cushion for a buffer of `max_ms` (the paper's proportions, scaled:
/// reservoir one sixth of the buffer, cushion two thirds).
pub fn reservoir_cushion(max_ms: u64) -> (f64, f64) {
    let max = max_ms as f64 / 1_000.0;
    (max / 6.0, max * 2.0 / 3.0)
}

/// BBA-0's rate map `f(B)`, kbit/s.
pub fn rate_map(ladder: &[u64], buffer_s: f64, r: f64, c: f64) -> f64 {
    let (lo, hi) = (ladder[0] as f64, ladder[ladder.len() - 1] as f64);
    if buffer_s <= r {
        lo
    } else if buffer_s >= r + c {
        hi
    } else {
        lo + (buffer_s - r) / c * (hi - lo)
    }
}

/// BBA-0, Algorithm 1 of the paper.
pub fn bba0(ladder: &[u64], prev: usize, buffer_s: f64, r: f64, c: f64) -> usize {
    let top = ladder.len() - 1;
    let prev = prev.min(top);
    if buffer_s <= r {
        return 0;
    }
    if buffer_s >= r + c {
        return top;
    }
    let f = rate_map(ladder, buffer_s, r, c);
    let plus = ladder[(prev + 1).min(top)] as f64;
    let minus = ladder[prev.saturating_sub(1)] as f64;
    if f >= plus {
        // the highest rung strictly below f(B)
        (0..=top).rev().find(|&i| (ladder[i] as f64) < f).unwrap_or(0)
    } else if f <= minus {
        // the lowest rung strictly above f(B)
        (0..=top).find(|&i| (ladder[i] as f64) > f).unwrap_or(top)
    } else {
        prev
    }
}

/// The rate rule: the highest rung at most 0.9 × the harmonic mean of `samples` (kbit/s);
/// the lowest rung before anything was measured.
pub fn throughput(ladder: &[u64], samples: &[f64]) -> usize {
    if samples.is_empty() {
        return 0;
    }
    let inv: f64 = samples.iter().map(|s| 1.0 / s.max(1.0)).sum();
    let estimate = 0.9 * samples.len() as f64 / inv;
    (0..ladder.len()).rev().find(|&i| ladder[i] as f64 <= estimate).unwrap_or(0)
}

/// The next rung for rule `abr`.
pub fn choose(abr: Abr, ladder: &[u64], prev: usize, buffer_s: f64, samples: &[f64], max_ms: u64) -> usize {
    match abr {
        Abr::Fixed => ladder.len() - 1,
        Abr::Throughput => throughput(ladder, samples),
        Abr::Buffer => {
            let (r, c) = reservoir_cushion(max_ms);
            bba0(ladder, prev, buffer_s, r, c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const L: [u64; 6] = [200, 500, 1_000, 2_000, 3_500, 6_000];

    /// Brute-force twin of Algorithm 1, written from the paper's pseudo-code with sets.
    fn twin(prev: usize, b: f64, r: f64, c: f64) -> usize {
        let f = rate_map(&L, b, r, c);
        let rate_plus = if prev == L.len() - 1 { L[prev] } else { L[prev + 1] } as f64;
        let rate_minus = if prev == 0 { L[0] } else { L[prev - 1] } as f64;
        let rate = if b <= r {
            L[0] as f64
        } else if b >= r + c {
            L[5] as f64
        } else if f >= rate_plus {
            L.iter().map(|&x| x as f64).filter(|&x| x < f).fold(L[0] as f64, f64::max)
        } else if f <= rate_minus {
            L.iter().map(|&x| x as f64).filter(|&x| x > f).fold(L[5] as f64, f64::min)
        } else {
            L[prev] as f64
        };
        L.iter().position(|&x| x as f64 == rate).unwrap()
    }

    #[test]
    fn bba0_matches_the_papers_algorithm() {
        let (r, c) = reservoir_cushion(30_000);
        assert_eq!((r, c), (5.0, 20.0));
        for prev in 0..6 {
            for tenth in 0..320 {
                let b = tenth as f64 / 10.0;
                assert_eq!(bba0(&L, prev, b, r, c), twin(prev, b, r, c), "prev {prev}, buffer {b}");
            }
        }
        // The map climbs with the buffer: lowest rung in the reservoir, top past the cushion.
        assert_eq!(bba0(&L, 3, 4.0, r, c), 0);
        assert_eq!(bba0(&L, 0, 25.0, r, c), 5);
    }

    #[test]
    fn the_rate_rule_takes_the_harmonic_mean() {
        assert_eq!(throughput(&L, &[]), 0);
        // Harmonic mean of 8000 and 800 is ~1455; × 0.9 = 1309: the 1000 rung.
        assert_eq!(throughput(&L, &[8_000.0, 800.0]), 2);
        assert_eq!(throughput(&L, &[8_000.0; 4]), 5);
    }
}
