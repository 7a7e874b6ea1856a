//! The outcome of a run and of a seed sweep: [`run_validated`] runs a validated scenario
//! to its end and reports hash, metrics and check verdicts (`Simulation::checks` adds
//! `event-budget` when the budget cut the run short, for the page and the CLI alike); [`explore`] sweeps seeds, optionally with a swarm fault plan per
//! seed. Neither needs the catalog: a validated scenario carries its system's definition.

use super::def::BuildOptions;
use crate::check::CheckResult;
use crate::metrics::MetricsSummary;
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::rng::Prng;
use crate::sim::swarm;
use crate::sim::world::Stop;
use serde::Serialize;

/// What `sdlab run --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub system: String,
    pub strategy: String,
    pub seed: u64,
    pub events: u64,
    pub trace_hash: String,
    pub sim_time_ms: f64,
    pub stop: Stop,
    pub metrics: MetricsSummary,
    pub checks: Vec<CheckResult>,
    /// Checks that held only because they observed nothing (0 samples): the run proves
    /// nothing about them, and says so (every worker crashed, every link lost, …).
    pub unexercised: Vec<String>,
    pub link: String,
}

impl RunReport {
    pub fn all_ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// Every check held *and* was exercised: the verdict a user can trust as a pass.
    pub fn all_judged_ok(&self) -> bool {
        self.all_ok() && self.unexercised.is_empty()
    }
}

/// Formats a trace hash the way links, the CLI and the UI show it.
pub fn hash_hex(h: u64) -> String {
    format!("{h:016x}")
}

pub fn run_validated(scenario: &Scenario, opts: &BuildOptions) -> Result<RunReport, ScenarioError> {
    let mut sim = scenario.build(opts).map_err(|e| ScenarioError::Invalid(e.0))?;
    let stop = sim.run_to_end();
    let checks = sim.checks();
    Ok(RunReport {
        system: scenario.def.id.to_string(),
        strategy: scenario.strategy.id.to_string(),
        seed: scenario.seed,
        events: sim.events(),
        trace_hash: hash_hex(sim.trace_hash()),
        sim_time_ms: sim.now().as_ms(),
        stop,
        metrics: sim.metrics().summary(),
        unexercised: checks.iter().filter(|c| c.ok && c.samples == 0).map(|c| c.name.clone()).collect(),
        checks,
        link: scenario.link(),
    })
}

/// One failing check found by a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Found {
    pub seed: u64,
    pub check: String,
    pub detail: String,
    pub link: String,
}

/// What `sdlab explore` prints.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExploreReport {
    pub seeds_run: u64,
    pub violations: Vec<Found>,
}

/// The scenario a sweep runs for `seed`: the base with that seed and, with `swarm`, a fault
/// plan drawn from the seed (replacing the base's faults).
pub fn sweep_scenario(base: &Scenario, seed: u64, swarm_mode: bool) -> Scenario {
    let mut s = base.clone();
    s.seed = seed;
    if swarm_mode {
        let mut rng = Prng::new(seed).fork("swarm");
        let targets = (s.def.swarm_targets)(&s.params);
        s.faults = swarm::plan(&mut rng, s.def.swarm_faults, &targets, s.workload.duration_ms);
    }
    s
}

/// Runs one seed of a sweep: its failing checks (none when every check held) and the run.
pub fn sweep_one(base: &Scenario, seed: u64, swarm_mode: bool) -> Result<(Vec<Found>, RunReport), ScenarioError> {
    let s = sweep_scenario(base, seed, swarm_mode);
    let r = run_validated(&s, &BuildOptions::default())?;
    let found = r
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| Found { seed, check: c.name.clone(), detail: c.detail.clone(), link: r.link.clone() })
        .collect();
    Ok((found, r))
}

/// Runs `seeds` seeds starting at `first_seed`; `progress` is called after each.
pub fn explore(
    base: &Scenario,
    first_seed: u64,
    seeds: u64,
    swarm_mode: bool,
    mut progress: impl FnMut(u64, &RunReport),
) -> Result<ExploreReport, ScenarioError> {
    let mut report = ExploreReport::default();
    for seed in first_seed..first_seed.saturating_add(seeds) {
        let (found, r) = sweep_one(base, seed, swarm_mode)?;
        report.violations.extend(found);
        report.seeds_run += 1;
        progress(seed, &r);
    }
    Ok(report)
}
