//! The catalog: one [`SystemDef`] per system — what it is, its strategies (naive and
//! robust), its knobs, its checks, its default scenario, which faults a swarm may throw at
//! it, and how to build it. Front end and CLI learn everything about a system from here.

use crate::check::CheckKind;
use crate::run::Simulation;
use crate::scenario::estimate::Estimate;
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::{Scenario, ScenarioSpec, SPEC_VERSION};
use crate::sim::fault::TimedFault;
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::WorkloadSpec;
use crate::sim::world::{BuildError, WorldConfig};
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

/// A check the system declares.
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
    /// Position in the catalog users see.
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
    #[serde(skip)]
    pub default_faults: fn(&Params) -> Vec<TimedFault>,
    /// Node names a swarm may target.
    #[serde(skip)]
    pub swarm_targets: fn(&Params) -> Vec<String>,
    #[serde(skip)]
    pub build: BuildFn,
    /// The system page's text (Markdown, our own words): requirements, scope, design,
    /// deep dive, bottlenecks, trade-offs, and follow-up answers with "Show me:" scenarios.
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
        let params = Params::defaults(self.params);
        ScenarioSpec {
            version: SPEC_VERSION,
            system: self.id.to_string(),
            strategy: Some(self.strategies[0].id.to_string()),
            params: Default::default(),
            seed: 1,
            faults: (self.default_faults)(&params),
            workload: None,
            playhead_ms: None,
        }
    }

    pub fn strategy(&self, id: &str) -> Option<&'static StrategyDef> {
        let all: &'static [StrategyDef] = self.strategies;
        all.iter().find(|s| s.id == id)
    }
}

/// Every system, in catalog order.
pub static CATALOG: &[SystemDef] = &[
    crate::systems::url_shortener::DEF,
    crate::systems::rate_limiter::DEF,
    crate::systems::distributed_cache::DEF,
    crate::systems::distributed_lock::DEF,
];

pub fn find(id: &str) -> Option<&'static SystemDef> {
    CATALOG.iter().find(|d| d.id == id)
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

/// Builds a runnable simulation from a validated scenario.
pub fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    (scenario.def.build)(scenario, opts)
}
