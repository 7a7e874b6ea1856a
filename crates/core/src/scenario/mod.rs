//! Scenarios: what a user sets ([`ScenarioSpec`]), how it travels ([`link`]), and the
//! validated form systems are built from ([`Scenario`]). Validation is handed the system's
//! definition (looking a system up by id is the `run` layer's job, so this module needs no
//! catalog) and checks everything against it — strategy, every parameter's type and
//! bounds, faults, workload, seed — reporting the first problem in words, before anything
//! is allocated.

pub mod estimate;
pub mod link;
pub mod params;
pub mod show_me;
pub mod spec;

use crate::sim::fault::{Fault, TimedFault};
use crate::sim::workload::{WorkloadSpec, MAX_DURATION_MS};
use crate::sim::world::BuildError;
use crate::system::{BuildOptions, Simulation, StrategyDef, SystemDef};
pub use link::LinkError;
use params::Params;
pub use spec::{ScenarioSpec, MAX_FAULTS, MAX_SEED, SPEC_VERSION};
use std::fmt;

/// A spec that passed validation: safe to build.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub def: &'static SystemDef,
    pub strategy: &'static StrategyDef,
    pub params: Params,
    pub seed: u64,
    pub faults: Vec<TimedFault>,
    pub workload: WorkloadSpec,
    pub playhead_ms: Option<u64>,
}

/// Why a scenario cannot run.
#[derive(Clone, Debug, PartialEq)]
pub enum ScenarioError {
    Link(LinkError),
    UnknownSystem { id: String, known: Vec<&'static str> },
    UnknownStrategy { system: &'static str, id: String, known: Vec<&'static str> },
    Invalid(String),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Link(e) => e.fmt(f),
            ScenarioError::UnknownSystem { id, known } => {
                write!(f, "unknown system {id:?}; known systems: {}", known.join(", "))
            }
            ScenarioError::UnknownStrategy { system, id, known } => {
                write!(f, "{system} has no strategy {id:?}; choose one of: {}", known.join(", "))
            }
            ScenarioError::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ScenarioError {}

impl From<LinkError> for ScenarioError {
    fn from(e: LinkError) -> Self {
        ScenarioError::Link(e)
    }
}

impl Scenario {
    /// Validates a spec against the definition of the system it is for.
    pub fn validate(def: &'static SystemDef, spec: &ScenarioSpec) -> Result<Scenario, ScenarioError> {
        if spec.system != def.id {
            return Err(ScenarioError::Invalid(format!("this scenario is for {:?}, not {:?}", spec.system, def.id)));
        }
        let strategy = match &spec.strategy {
            None => &def.strategies[0],
            Some(id) => def.strategies.iter().find(|s| s.id == id).ok_or_else(|| ScenarioError::UnknownStrategy {
                system: def.id,
                id: id.clone(),
                known: def.strategies.iter().map(|s| s.id).collect(),
            })?,
        };
        if spec.seed > MAX_SEED {
            return Err(ScenarioError::Invalid(format!(
                "seed {} is too large; seeds are at most {MAX_SEED}",
                spec.seed
            )));
        }
        let params = Params::resolve(def.params, &spec.params).map_err(ScenarioError::Invalid)?;
        let workload = spec.workload.clone().unwrap_or_else(|| (def.default_workload)(&params));
        workload.validate().map_err(ScenarioError::Invalid)?;
        validate_faults(&spec.faults)?;
        let end_ms = workload.duration_ms + def.drain_ms;
        if let Some(f) = spec.faults.iter().find(|f| f.at_ms > end_ms) {
            return Err(ScenarioError::Invalid(format!(
                "fault `{}` at {} ms is after the run ends ({end_ms} ms), so it would never happen",
                f.fault.describe(),
                f.at_ms
            )));
        }
        if let Some(p) = spec.playhead_ms {
            if p > MAX_DURATION_MS * 2 {
                return Err(ScenarioError::Invalid(format!("playhead_ms {p} is past any run's end")));
            }
        }
        Ok(Scenario {
            def,
            strategy,
            params,
            seed: spec.seed,
            faults: spec.faults.clone(),
            workload,
            playhead_ms: spec.playhead_ms,
        })
    }

    /// Builds the runnable simulation of this scenario.
    pub fn build(&self, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
        (self.def.build)(self, opts)
    }

    /// The spec that reproduces this scenario exactly (defaults written out).
    pub fn to_spec(&self) -> ScenarioSpec {
        ScenarioSpec {
            version: SPEC_VERSION,
            system: self.def.id.to_string(),
            strategy: Some(self.strategy.id.to_string()),
            params: self.params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            seed: self.seed,
            faults: self.faults.clone(),
            workload: Some(self.workload.clone()),
            playhead_ms: self.playhead_ms,
        }
    }

    pub fn link(&self) -> String {
        link::encode(&self.to_spec())
    }

    /// When the run ends: the workload plus time to drain what is in flight.
    pub fn horizon_ms(&self) -> u64 {
        self.workload.duration_ms + self.def.drain_ms
    }
}

fn validate_faults(faults: &[TimedFault]) -> Result<(), ScenarioError> {
    if faults.len() > MAX_FAULTS {
        return Err(ScenarioError::Invalid(format!("{} faults; a scenario holds at most {MAX_FAULTS}", faults.len())));
    }
    for f in faults {
        if f.at_ms > MAX_DURATION_MS {
            return Err(ScenarioError::Invalid(format!(
                "fault at {} ms is past the longest run ({MAX_DURATION_MS} ms)",
                f.at_ms
            )));
        }
        let bad = match &f.fault {
            Fault::Pause { for_ms, .. } if *for_ms > MAX_DURATION_MS => Some("pause longer than the longest run"),
            Fault::Skew { offset_ms, drift_ppm, .. }
                if offset_ms.unsigned_abs() > 3_600_000 || drift_ppm.unsigned_abs() > 500_000 =>
            {
                Some("clock skew beyond ±1 h or ±500000 ppm")
            }
            Fault::Clog { extra_ms, .. } if *extra_ms > 60_000 => Some("clog delay beyond 60 s"),
            Fault::Loss { rate } if !(0.0..=1.0).contains(rate) => Some("loss rate outside 0..1"),
            Fault::Partition { a, b, .. } if a.is_empty() || b.is_empty() || a.len() + b.len() > 512 => {
                Some("partition sides must be non-empty (and name at most 512 nodes)")
            }
            _ => None,
        };
        if let Some(why) = bad {
            return Err(ScenarioError::Invalid(format!("fault `{}`: {why}", f.fault.describe())));
        }
        for name in f.fault.names() {
            if name.is_empty() || name.len() > 64 {
                return Err(ScenarioError::Invalid("fault node names must be 1 to 64 characters".into()));
            }
        }
    }
    Ok(())
}
