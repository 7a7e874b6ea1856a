//! Helpers every system's tests share: a scenario from a few overrides, a run to its end
//! or to a check's first violation, and the failing checks as text. Written once here so
//! each system's `tests.rs` holds only what is particular to it.

use super::SystemDef;
use crate::check::CheckResult;
use crate::scenario::params::ParamValue;
use crate::scenario::Scenario;
use crate::sim::fault::TimedFault;
use crate::sim::node::Actor;
use crate::sim::world::World;

/// `def`'s default scenario with a strategy, a seed, parameter overrides and (if given) a
/// fault plan in place of the default one.
pub fn scenario(
    def: &'static SystemDef,
    strategy: &str,
    seed: u64,
    params: &[(&str, ParamValue)],
    faults: Option<Vec<TimedFault>>,
) -> Scenario {
    let mut spec = def.default_spec();
    spec.strategy = Some(strategy.into());
    spec.seed = seed;
    for (k, v) in params {
        spec.params.insert(k.to_string(), v.clone());
    }
    if let Some(f) = faults {
        spec.faults = f;
    }
    Scenario::validate(def, &spec).unwrap()
}

/// Integer overrides, the common case, as [`ParamValue`]s.
pub fn ints<'a>(params: &[(&'a str, i64)]) -> Vec<(&'a str, ParamValue)> {
    params.iter().map(|(k, v)| (*k, ParamValue::Int(*v))).collect()
}

/// The checks that failed, each as `name: detail`.
pub fn failing(checks: &[CheckResult]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.detail)).collect()
}

/// Runs a built world to its end.
pub fn run_world<A: Actor>(mut w: World<A>) -> World<A> {
    w.run_to_end();
    w
}

/// Steps a built world until `check` fails (or the run ends and its final judgement
/// fails it) and returns the world as it was then with the check's detail; panics with
/// the scenario's link if the check never fails.
pub fn run_until_violation<A: Actor>(mut w: World<A>, s: &Scenario, check: &str) -> (World<A>, String) {
    while w.step() {
        if let Some(c) = w.checks().results().into_iter().find(|c| c.name == check && !c.ok) {
            return (w, c.detail);
        }
    }
    w.finish();
    match w.checks().results().into_iter().find(|c| c.name == check && !c.ok) {
        Some(c) => (w, c.detail),
        None => panic!("{check} never failed: {}", s.link()),
    }
}
