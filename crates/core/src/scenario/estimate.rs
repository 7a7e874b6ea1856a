//! Back-of-the-envelope figures for a system page: the arithmetic an interviewer expects
//! (requests per second at peak, per day, storage, bandwidth), computed from the same
//! parameters the simulation runs with, so moving a slider moves the numbers.

use super::Scenario;
use serde::Serialize;

/// One figure: what it is, its value with unit, and how it was derived.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub label: String,
    pub value: String,
    pub how: String,
}

impl Estimate {
    pub fn new(label: &str, value: String, how: impl Into<String>) -> Estimate {
        Estimate { label: label.to_string(), value, how: how.into() }
    }
}

/// 1234567.0 → "1.23 M"; keeps three significant figures.
pub fn si(x: f64) -> String {
    let (v, unit) = match x.abs() {
        a if a >= 1e12 => (x / 1e12, " T"),
        a if a >= 1e9 => (x / 1e9, " G"),
        a if a >= 1e6 => (x / 1e6, " M"),
        a if a >= 1e3 => (x / 1e3, " k"),
        _ => (x, " "),
    };
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{unit}").trim_end().to_string()
}

/// Bytes with binary-ish units people use in interviews (KB, MB, GB, TB as powers of 1000).
pub fn bytes(b: f64) -> String {
    format!("{}B", si(b))
}

/// The figures every request-driven system shares.
pub fn workload(s: &Scenario) -> Vec<Estimate> {
    let w = &s.workload;
    let peak_factor = w.bursts.iter().map(|b| b.factor).fold(1.0, f64::max);
    vec![
        Estimate::new("Average load", format!("{} req/s", si(w.rate_per_s)), "the workload's rate"),
        Estimate::new(
            "Peak load",
            format!("{} req/s", si(w.rate_per_s * peak_factor)),
            format!("× {peak_factor} during the burst"),
        ),
        Estimate::new("Per day at average", format!("{} req", si(w.rate_per_s * 86_400.0)), "rate × 86,400 s"),
        Estimate::new(
            "Distinct keys",
            si(w.keys as f64),
            if w.zipf_s > 0.0 { format!("Zipf s = {}", w.zipf_s) } else { "uniform".into() },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_formats_three_figures() {
        assert_eq!(si(0.5), "0.50");
        assert_eq!(si(86_400_000.0), "86.4 M");
        assert_eq!(si(1_234.0), "1.23 k");
        assert_eq!(bytes(2.5e12), "2.50 TB");
    }
}
