//! A system's definition: everything the playground, the CLI and the conformance suite
//! learn about a system — its strategies (naive and robust), its knobs, its checks, its
//! default scenario, the faults a swarm may throw at it, its explainer, and how to build it.
//! Each system folder exports one `DEF`; `catalog` lists them.

use super::simulation::{Run, Simulation};
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::Estimate;
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::{Scenario, ScenarioSpec, SPEC_VERSION};
use crate::sim::fault::TimedFault;
use crate::sim::node::Actor;
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::WorkloadSpec;
use crate::sim::world::{BuildError, NodeSpec, World, WorldConfig};
use crate::view::View;
use serde::Serialize;

/// One way to build the system.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StrategyDef {
    pub id: &'static str,
    pub title: &'static str,
    /// Robust strategies must pass every check on every seed; naive ones fail one.
    pub robust: bool,
    pub summary: &'static str,
}

/// A check the system declares. Its `name` must be the name its `Property` reports (the
/// conformance suite compares them).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CheckDef {
    pub name: &'static str,
    pub kind: CheckKind,
    pub description: &'static str,
}

/// Builds a runnable simulation from a validated scenario.
pub type BuildFn = fn(&Scenario, &BuildOptions) -> Result<Box<dyn Simulation>, BuildError>;

/// Everything the rest of sdlab knows about a system.
#[derive(Clone, Copy, Serialize)]
pub struct SystemDef {
    pub id: &'static str,
    /// Position in the catalog users see (as in SYSTEMS.md).
    pub number: u32,
    pub title: &'static str,
    pub theme: &'static str,
    /// The interview question, in one sentence.
    pub question: &'static str,
    pub strategies: &'static [StrategyDef],
    pub params: &'static [ParamSpec],
    pub checks: &'static [CheckDef],
    /// Fault kinds a swarm run may inject, and at which nodes.
    pub swarm_faults: &'static [FaultKind],
    /// Virtual time after the workload ends, for in-flight work to finish.
    pub drain_ms: u64,
    #[serde(skip)]
    pub default_workload: fn(&Params) -> WorkloadSpec,
    /// The faults a page opens with; they must name only nodes that exist for these
    /// parameters and follow them (a pause as long as the `gc_pause_ms` knob, say).
    #[serde(skip)]
    pub default_faults: fn(&Params) -> Vec<TimedFault>,
    /// Node names a swarm may target.
    #[serde(skip)]
    pub swarm_targets: fn(&Params) -> Vec<String>,
    #[serde(skip)]
    pub build: BuildFn,
    /// The system page's text (Markdown, our own words): requirements, scope, design,
    /// deep dive, bottlenecks, trade-offs, and follow-up answers with "Show me:" scenarios
    /// whose claimed outcome the conformance suite verifies.
    #[serde(skip)]
    pub explainer: &'static str,
    /// Back-of-the-envelope figures for the current parameters.
    #[serde(skip)]
    pub estimates: fn(&Scenario) -> Vec<Estimate>,
}

impl std::fmt::Debug for SystemDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemDef").field("id", &self.id).finish_non_exhaustive()
    }
}

/// How a run is observed (not part of the scenario: it never changes the trace hash).
#[derive(Clone, Copy, Debug)]
pub struct BuildOptions {
    /// Recent trace events kept for display; 0 keeps only the hash.
    pub keep_trace: usize,
    pub budget: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { keep_trace: 0, budget: 20_000_000 }
    }
}

impl SystemDef {
    /// The scenario a system page opens with.
    pub fn default_spec(&self) -> ScenarioSpec {
        self.spec_with(Default::default()).expect("a system's default parameters are within their own bounds")
    }

    /// The default scenario with some parameters set: the default faults are drawn for
    /// those parameters, so every value inside the bounds gives a runnable scenario.
    pub fn spec_with(
        &self,
        params: std::collections::BTreeMap<String, crate::scenario::params::ParamValue>,
    ) -> Result<ScenarioSpec, String> {
        let resolved = Params::resolve(self.params, &params)?;
        Ok(ScenarioSpec {
            version: SPEC_VERSION,
            system: self.id.to_string(),
            strategy: Some(self.strategies[0].id.to_string()),
            params,
            seed: 1,
            faults: (self.default_faults)(&resolved),
            workload: None,
            playhead_ms: None,
        })
    }

    /// `spec` with its parameters replaced by `params`; if its faults were the defaults
    /// for its old parameters (the user has not edited them), they follow to the defaults
    /// for the new ones. Edited faults are kept as they are.
    pub fn refit(
        &self,
        spec: &ScenarioSpec,
        params: std::collections::BTreeMap<String, crate::scenario::params::ParamValue>,
    ) -> Result<ScenarioSpec, String> {
        let old = Params::resolve(self.params, &spec.params)?;
        let new = Params::resolve(self.params, &params)?;
        let mut out = spec.clone();
        if spec.faults == (self.default_faults)(&old) {
            out.faults = (self.default_faults)(&new);
        }
        out.params = params;
        Ok(out)
    }

    pub fn strategy(&self, id: &str) -> Option<&'static StrategyDef> {
        let all: &'static [StrategyDef] = self.strategies;
        all.iter().find(|s| s.id == id)
    }

    pub fn check(&self, name: &str) -> Option<&'static CheckDef> {
        let all: &'static [CheckDef] = self.checks;
        all.iter().find(|c| c.name == name)
    }
}

/// The kernel settings every system's world starts from: the scenario's seed and
/// horizon, the caller's budget and trace window, the default network.
pub fn world_config(s: &Scenario, opts: &BuildOptions) -> WorldConfig {
    WorldConfig {
        seed: s.seed,
        horizon: SimTime::from_ms(s.horizon_ms()),
        budget: opts.budget,
        keep_trace: opts.keep_trace,
        ..WorldConfig::default()
    }
}

/// The tail every system's world shares: `nodes` with `checks`, the scenario's seed,
/// horizon and faults, and the caller's budget.
pub fn world<A: Actor>(
    scenario: &Scenario,
    opts: &BuildOptions,
    nodes: Vec<NodeSpec<A>>,
    checks: Vec<Box<dyn Property<A::Obs>>>,
) -> Result<World<A>, BuildError> {
    World::new(world_config(scenario, opts), nodes, checks, scenario.faults.clone())
}

/// [`world`], wrapped with the function that draws its views: a whole `build`.
pub fn assemble<A: Actor>(
    scenario: &Scenario,
    opts: &BuildOptions,
    nodes: Vec<NodeSpec<A>>,
    checks: Vec<Box<dyn Property<A::Obs>>>,
    views: fn(&World<A>) -> Vec<View>,
) -> Result<Box<dyn Simulation>, BuildError> {
    Ok(Run::boxed(world(scenario, opts, nodes, checks)?, views))
}
