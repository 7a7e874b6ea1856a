//! The differences compare mode shows between two finished runs: the request-path numbers
//! (requests, errors, p50/p99 latency), every counter either side has, and every check
//! either side declares. Pure functions over `RunReport`, so they are tested natively.
//!
//! Rows follow the union of names in sorted order (counters live in a `BTreeMap`), so a
//! counter only one strategy increments still shows, as 0 on the other side.

use sdlab_core::metrics::{ERRORS, LATENCY, REQUESTS};
use sdlab_core::system::RunReport;
use std::collections::BTreeSet;

/// One metric, both sides, and B − A.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    pub name: String,
    pub a: f64,
    pub b: f64,
    /// Shown with this many decimals (latencies in ms get one).
    pub decimals: usize,
}

impl MetricRow {
    pub fn delta(&self) -> f64 {
        self.b - self.a
    }

    pub fn fmt(&self, v: f64) -> String {
        format!("{v:.*}", self.decimals)
    }

    pub fn fmt_delta(&self) -> String {
        let d = self.delta();
        if d == 0.0 {
            "=".to_string()
        } else {
            format!("{}{}", if d > 0.0 { "+" } else { "−" }, self.fmt(d.abs()))
        }
    }
}

fn counter(r: &RunReport, name: &str) -> f64 {
    r.metrics.counters.get(name).copied().unwrap_or(0) as f64
}

fn latency_ms(r: &RunReport, pick: fn(&sdlab_core::metrics::histogram::Quantiles) -> u64) -> f64 {
    r.metrics.latency_us.get(LATENCY).map(|q| pick(q) as f64 / 1000.0).unwrap_or(0.0)
}

/// The headline rows first, then every other counter.
pub fn metric_rows(a: &RunReport, b: &RunReport) -> Vec<MetricRow> {
    let row = |name: &str, a: f64, b: f64, decimals| MetricRow { name: name.to_string(), a, b, decimals };
    let mut rows = vec![
        row(REQUESTS, counter(a, REQUESTS), counter(b, REQUESTS), 0),
        row(ERRORS, counter(a, ERRORS), counter(b, ERRORS), 0),
        row("p50 latency (ms)", latency_ms(a, |q| q.p50), latency_ms(b, |q| q.p50), 1),
        row("p99 latency (ms)", latency_ms(a, |q| q.p99), latency_ms(b, |q| q.p99), 1),
    ];
    let names: BTreeSet<&String> = a.metrics.counters.keys().chain(b.metrics.counters.keys()).collect();
    for name in names.into_iter().filter(|n| *n != REQUESTS && *n != ERRORS) {
        rows.push(row(name, counter(a, name), counter(b, name), 0));
    }
    rows
}

/// One check on both sides (`None` where that side has no such check).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRow {
    pub name: String,
    pub a: Option<(bool, String)>,
    pub b: Option<(bool, String)>,
}

impl CheckRow {
    /// The two sides disagree (pass vs fail, or only one side has the check).
    pub fn differs(&self) -> bool {
        self.a.as_ref().map(|c| c.0) != self.b.as_ref().map(|c| c.0)
    }
}

/// Checks in A's order, then any that only B has.
pub fn check_rows(a: &RunReport, b: &RunReport) -> Vec<CheckRow> {
    let mut names: Vec<&String> = a.checks.iter().map(|c| &c.name).collect();
    for c in &b.checks {
        if !names.contains(&&c.name) {
            names.push(&c.name);
        }
    }
    let find = |r: &RunReport, n: &str| r.checks.iter().find(|c| c.name == n).map(|c| (c.ok, c.detail.clone()));
    names.into_iter().map(|n| CheckRow { name: n.clone(), a: find(a, n), b: find(b, n) }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdlab_core::catalog::CATALOG;
    use sdlab_core::run::run_scenario;

    fn reports(def: &sdlab_core::system::SystemDef) -> (RunReport, RunReport) {
        let mut a = def.default_spec();
        a.strategy = Some(def.strategies.iter().find(|s| !s.robust).unwrap().id.to_string());
        let mut b = a.clone();
        b.strategy = Some(def.strategies.iter().find(|s| s.robust).unwrap().id.to_string());
        (run_scenario(&a).unwrap(), run_scenario(&b).unwrap())
    }

    #[test]
    fn rows_cover_both_sides_and_deltas_are_b_minus_a() {
        let def = &CATALOG[0];
        let (a, b) = reports(def);
        let rows = metric_rows(&a, &b);
        assert_eq!(rows[0].name, REQUESTS);
        assert_eq!(rows[0].a, a.metrics.counters.get(REQUESTS).copied().unwrap_or(0) as f64);
        for name in a.metrics.counters.keys().chain(b.metrics.counters.keys()) {
            assert!(rows.iter().any(|r| &r.name == name), "{name} missing");
        }
        let r = MetricRow { name: "x".into(), a: 5.0, b: 3.0, decimals: 0 };
        assert_eq!((r.delta(), r.fmt_delta()), (-2.0, "−2".to_string()));
        assert_eq!(MetricRow { name: "x".into(), a: 1.0, b: 1.0, decimals: 1 }.fmt_delta(), "=");
        let checks = check_rows(&a, &b);
        assert_eq!(checks.len(), def.checks.len().max(a.checks.len()));
    }

    #[test]
    fn a_check_only_one_side_has_counts_as_a_difference() {
        let row = CheckRow { name: "c".into(), a: Some((true, String::new())), b: None };
        assert!(row.differs());
        let same = CheckRow { name: "c".into(), a: Some((false, "x".into())), b: Some((false, "y".into())) };
        assert!(!same.differs());
    }
}
