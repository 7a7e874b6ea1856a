//! Tests of the feature-flag system.

use super::*;
use crate::check::CheckResult;
use crate::system::run_validated;

fn scenario(strategy: &str) -> Scenario {
    let mut spec = DEF.default_spec();
    spec.strategy = Some(strategy.to_string());
    Scenario::validate(&DEF, &spec).expect("valid default scenario")
}

fn failing(checks: &[CheckResult]) -> Vec<(String, String)> {
    checks.iter().filter(|c| !c.ok).map(|c| (c.name.clone(), c.detail.clone())).collect()
}

#[test]
fn default_runs() {
    for st in ["random-per-request", "polling", "streaming"] {
        let r = run_validated(&scenario(st), &BuildOptions::default()).unwrap();
        eprintln!("{st}: {} events", r.events);
        for c in &r.checks {
            eprintln!("  {} ok={} samples={} {}", c.name, c.ok, c.samples, c.detail);
        }
        let _ = failing(&r.checks);
    }
}
