//! `ScenarioSpec`: everything a user can set, and so everything a link holds — system,
//! strategy, parameters, seed, faults, workload and playhead. It is the only shape that
//! crosses the boundary (links, JSON export, CLI), so it is versioned; older versions are
//! migrated when decoded, never rejected for being old.

use super::params::ParamValue;
use crate::sim::fault::TimedFault;
use crate::sim::workload::WorkloadSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version this build writes.
pub const SPEC_VERSION: u32 = 1;

/// Seeds are kept below 2^53 so that a scenario exported as JSON survives a round trip
/// through JavaScript numbers.
pub const MAX_SEED: u64 = (1 << 53) - 1;
pub const MAX_FAULTS: usize = 64;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub version: u32,
    pub system: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, ParamValue>,
    #[serde(default)]
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<TimedFault>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playhead_ms: Option<u64>,
}

impl ScenarioSpec {
    /// A spec naming only the system: its defaults fill in the rest when validated.
    pub fn for_system(system: &str) -> ScenarioSpec {
        ScenarioSpec {
            version: SPEC_VERSION,
            system: system.to_string(),
            strategy: None,
            params: BTreeMap::new(),
            seed: 1,
            faults: Vec::new(),
            workload: None,
            playhead_ms: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
