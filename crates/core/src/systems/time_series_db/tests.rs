//! Tests of the time-series database.

use super::*;
use crate::check::CheckResult;
use crate::scenario::params::ParamValue;

fn with(strategy: &str, seed: u64, params: &[(&str, i64)], faults: Option<Vec<TimedFault>>) -> Scenario {
    let mut spec = DEF.default_spec();
    spec.strategy = Some(strategy.into());
    spec.seed = seed;
    for (k, v) in params {
        spec.params.insert(k.to_string(), ParamValue::Int(*v));
    }
    if let Some(f) = faults {
        spec.faults = f;
    }
    Scenario::validate(&DEF, &spec).unwrap()
}

fn failing(checks: &[CheckResult]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.detail)).collect()
}

fn run_world(s: &Scenario) -> World<Node> {
    let mut w = build_world(s, &BuildOptions::default()).unwrap();
    w.run_to_end();
    w
}

fn db(w: &World<Node>) -> &db::Db {
    w.nodes().iter().find_map(|n| if let Node::Db(d) = n { Some(&**d) } else { None }).unwrap()
}

#[test]
fn default_runs() {
    for st in DEF.strategies {
        let s = with(st.id, 1, &[], None);
        let w = run_world(&s);
        let r = w.checks().results();
        let d = db(&w);
        eprintln!(
            "{}: events {} fail {:?}\n  {:?}\n  levels {:?} flushes {} compactions {} lost {} replayed {}",
            st.id,
            w.events(),
            failing(&r),
            r.iter().map(|c| (c.name.clone(), c.samples, c.detail.clone())).collect::<Vec<_>>(),
            d.levels(),
            d.flushes,
            d.compactions,
            d.lost_in_memory,
            d.replayed
        );
    }
}
