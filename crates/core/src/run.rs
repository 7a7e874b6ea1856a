//! The entry points that start from a user's words rather than a validated scenario: a
//! spec or a link names its system by id, so these look it up in the [`catalog`], validate
//! against that system's definition, and run. This is the top layer; systems never import
//! it (see `system` for the layering).

use crate::catalog;
use crate::scenario::link;
use crate::scenario::{Scenario, ScenarioError, ScenarioSpec};
use crate::system::{run_validated, BuildOptions, RunReport};

/// Validates a spec against the definition of the system it names.
pub fn open(spec: &ScenarioSpec) -> Result<Scenario, ScenarioError> {
    let def = catalog::find(&spec.system).ok_or_else(|| ScenarioError::UnknownSystem {
        id: spec.system.clone(),
        known: catalog::CATALOG.iter().map(|d| d.id).collect(),
    })?;
    Scenario::validate(def, spec)
}

/// Decodes a link and validates its scenario.
pub fn open_link(text: &str) -> Result<Scenario, ScenarioError> {
    open(&link::decode(text)?)
}

/// Validates, builds and runs a scenario to its end.
pub fn run_scenario(spec: &ScenarioSpec) -> Result<RunReport, ScenarioError> {
    run_validated(&open(spec)?, &BuildOptions::default())
}
