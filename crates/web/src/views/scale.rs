//! Number crunching shared by every renderer: linear scales, "nice" axis ticks, compact
//! number and duration labels, and palette classes. Kept free of Yew so it is tested
//! natively. Coordinates are printed with one decimal: SVG user units are already scaled
//! by the viewBox, so more digits only make the DOM bigger.

/// How many distinct palette colours `views.css` defines (`.vw-c0` .. `.vw-c7`).
pub const PALETTE: usize = 8;

/// The palette class for the `i`-th series, owner or kind (wraps around).
pub fn palette_class(i: usize) -> String {
    format!("vw-c{}", i % PALETTE)
}

/// Maps a domain `[d0, d1]` onto a range `[r0, r1]`; a degenerate domain maps to the
/// middle of the range instead of dividing by zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Linear {
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Linear {
        Linear { d0: domain.0, d1: domain.1, r0: range.0, r1: range.1 }
    }

    pub fn map(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if !span.is_finite() || span.abs() < f64::EPSILON {
            return (self.r0 + self.r1) / 2.0;
        }
        self.r0 + (v - self.d0) / span * (self.r1 - self.r0)
    }
}

/// A coordinate as SVG text, one decimal.
pub fn coord(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "0".into()
    }
}

/// Round steps (1, 2, 5 × 10ⁿ) covering `[lo, hi]` in about `count` ticks. Returns the
/// widened domain (aligned to the step) and the ticks inside it. Never more than 64 ticks.
pub fn nice_domain(lo: f64, hi: f64, count: usize) -> (f64, f64, Vec<f64>) {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    if hi < lo {
        std::mem::swap(&mut lo, &mut hi);
    }
    if hi - lo < 1e-12 {
        // A flat line: give it room above (and below when it is not at zero).
        let pad = if lo.abs() < 1e-12 { 1.0 } else { lo.abs() * 0.1 };
        hi += pad;
        if lo != 0.0 {
            lo -= pad;
        }
    }
    let step = nice_step((hi - lo) / count.max(1) as f64);
    // Multiples of a fractional step are computed as k / (1 / step): 3 / 10 is exactly the
    // double nearest 0.3, while 3 * 0.1 is not, and labels would read 0.30000000000000004.
    let at = |k: f64| if step < 1.0 { k / (1.0 / step).round() } else { k * step };
    let k0 = (lo / step).floor();
    let k1 = (hi / step).ceil();
    let ticks: Vec<f64> = (0..64).map(|i| k0 + i as f64).take_while(|k| *k <= k1).map(at).collect();
    let (lo, hi) = (at(k0), at(k1));
    (lo, hi, ticks)
}

/// The smallest 1, 2 or 5 × 10ⁿ at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powi(raw.log10().floor() as i32);
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// A short label for a number: `0.25`, `12.5`, `340`, `12.3k`, `4.5M`.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let sa = scaled.abs();
    let digits = if sa >= 100.0 {
        0
    } else if sa >= 10.0 {
        1
    } else {
        2
    };
    let mut s = format!("{scaled:.digits$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s + suffix
}

/// A duration label from milliseconds: `250 ms`, `1.5 s`.
pub fn ms(v: f64) -> String {
    if v.abs() >= 1_000.0 {
        format!("{} s", num(v / 1_000.0))
    } else {
        format!("{} ms", num(v))
    }
}

/// Labels for evenly spaced time ticks, with as many decimals as the step needs, so a
/// window of a few ms late in a run reads `3247 ms`, `3248 ms` rather than `3.25 s` twice.
/// Seconds are used once ticks pass a second and the step is at least 100 ms.
pub fn ms_ticks(ticks: &[f64]) -> Vec<String> {
    let step = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => 1.0,
    };
    let decimals = |step: f64| {
        if step.is_finite() && step > 0.0 {
            (-step.log10()).ceil().clamp(0.0, 3.0) as usize
        } else {
            0
        }
    };
    let biggest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    if biggest >= 1_000.0 && step >= 100.0 {
        let d = decimals(step / 1_000.0);
        ticks.iter().map(|t| format!("{:.d$} s", t / 1_000.0)).collect()
    } else {
        let d = decimals(step);
        ticks.iter().map(|t| format!("{t:.d$} ms")).collect()
    }
}

/// "1 token", "3 tokens": a count with its noun in the right number.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Cuts a label to `max` characters (by char, not byte), with an ellipsis.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_maps_ends_and_survives_a_flat_domain() {
        let s = Linear::new((0.0, 10.0), (100.0, 0.0));
        assert_eq!(s.map(0.0), 100.0);
        assert_eq!(s.map(10.0), 0.0);
        assert_eq!(s.map(5.0), 50.0);
        assert_eq!(Linear::new((3.0, 3.0), (0.0, 10.0)).map(3.0), 5.0);
    }

    #[test]
    fn nice_domain_uses_round_steps() {
        let (lo, hi, ticks) = nice_domain(0.0, 97.0, 5);
        assert_eq!((lo, hi), (0.0, 100.0));
        assert_eq!(ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let (lo, hi, ticks) = nice_domain(0.0, 0.3, 3);
        assert_eq!((lo, hi), (0.0, 0.3));
        assert_eq!(ticks, vec![0.0, 0.1, 0.2, 0.3]);
    }

    #[test]
    fn nice_domain_handles_flat_negative_and_garbage() {
        let (lo, hi, ticks) = nice_domain(0.0, 0.0, 4);
        assert!(lo <= 0.0 && hi > 0.0 && ticks.len() >= 2);
        let (lo, hi, _) = nice_domain(5.0, 5.0, 4);
        assert!(lo < 5.0 && hi > 5.0);
        let (lo, hi, _) = nice_domain(-7.0, 3.0, 4);
        assert!(lo <= -7.0 && hi >= 3.0);
        let (lo, hi, ticks) = nice_domain(f64::NAN, f64::INFINITY, 4);
        assert_eq!((lo, hi), (0.0, 1.0));
        assert!(!ticks.is_empty() && ticks.len() <= 64);
        let (_, _, ticks) = nice_domain(0.0, 1e300, 1000);
        assert!(ticks.len() <= 64);
    }

    #[test]
    fn numbers_read_short() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(340.0), "340");
        assert_eq!(num(12_345.0), "12.3k");
        assert_eq!(num(4_500_000.0), "4.5M");
        assert_eq!(num(-2.0), "-2");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(num(f64::NAN), "–");
        assert_eq!(ms(250.0), "250 ms");
        assert_eq!(ms(1_500.0), "1.5 s");
    }

    #[test]
    fn time_ticks_keep_the_digits_that_differ() {
        assert_eq!(ms_ticks(&[3247.0, 3248.0, 3249.0]), ["3247 ms", "3248 ms", "3249 ms"]);
        assert_eq!(ms_ticks(&[0.0, 0.5, 1.0]), ["0.0 ms", "0.5 ms", "1.0 ms"]);
        assert_eq!(ms_ticks(&[0.0, 500.0, 1000.0, 1500.0]), ["0.0 s", "0.5 s", "1.0 s", "1.5 s"]);
        assert_eq!(ms_ticks(&[0.0, 2000.0, 4000.0]), ["0 s", "2 s", "4 s"]);
        assert_eq!(ms_ticks(&[0.0, 20.0, 40.0]), ["0 ms", "20 ms", "40 ms"]);
        assert_eq!(ms_ticks(&[5.0]), ["5 ms"]);
    }

    #[test]
    fn clip_counts_chars() {
        assert_eq!(clip("héllo", 10), "héllo");
        assert_eq!(clip("héllo world", 4), "hél…");
        assert_eq!(palette_class(9), "vw-c1");
        assert_eq!(count(1, "key", "keys"), "1 key");
        assert_eq!(count(0, "key", "keys"), "0 keys");
    }
}
