//! Tests for the distributed cache: determinism, the naive strategy failing, robust
//! strategies passing seed sweeps with and without swarm faults, a golden trace, and each
//! check shown to bite.

use super::*;
use crate::catalog::BuildOptions;
use crate::check::CheckResult;
use crate::run::{run_validated, sweep_scenario, RunReport};
use crate::scenario::params::ParamValue;
use crate::scenario::{Scenario, ScenarioSpec};

fn scenario(
    strategy: &str,
    params: &[(&str, ParamValue)],
    faults: Option<Vec<TimedFault>>,
) -> Scenario {
    let mut spec = ScenarioSpec::for_system("distributed-cache");
    spec.strategy = Some(strategy.to_string());
    for (k, v) in params {
        spec.params.insert(k.to_string(), v.clone());
    }
    let mut s = Scenario::from_spec(&spec).expect("valid scenario");
    s.faults = faults.unwrap_or_else(|| (DEF.default_faults)(&s.params));
    s
}

fn run(s: &Scenario) -> RunReport {
    run_validated(s, &BuildOptions::default()).expect("runs")
}

fn check<'a>(r: &'a RunReport, name: &str) -> &'a CheckResult {
    r.checks
        .iter()
        .find(|c| c.name == name)
        .expect("check exists")
}

fn failing(r: &RunReport) -> Vec<String> {
    r.checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect()
}

#[test]
#[ignore]
fn report_default_runs() {
    for s in STRATEGIES {
        let sc = scenario(s.id, &[], None);
        let mut sim = crate::catalog::build(&sc, &BuildOptions::default()).unwrap();
        let t = std::time::Instant::now();
        sim.run_to_end();
        let el = t.elapsed();
        println!("== {} events {} in {:?}", s.id, sim.events(), el);
        for c in sim.checks() {
            println!(
                "   {} ok={} samples={} {}",
                c.name, c.ok, c.samples, c.detail
            );
        }
        let m = sim.metrics();
        println!(
            "   requests {} errors {} fills_rejected {}",
            m.counter("requests"),
            m.counter("errors"),
            m.counter("fills_rejected")
        );
    }
}

#[test]
#[ignore]
fn report_series() {
    let strat = std::env::var("STRAT").unwrap_or("consistent".into());
    let sc = scenario(&strat, &[], None);
    let mut w = build_world(&sc, &BuildOptions::default()).unwrap();
    w.run_to_end();
    let s = |n: &str| {
        w.metrics
            .series
            .get(n)
            .map(|v| {
                v.iter()
                    .map(|x| format!("{x:.0}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    println!("db  {}", s("db_arrivals"));
    println!("hit {}", s("cache_hits"));
    println!("mis {}", s("cache_misses"));
    println!("q   {}", s("db_queue"));
    println!("{:?}", w.metrics.counters);
}

#[test]
#[ignore]
fn report_sweep() {
    let n: u64 = std::env::var("SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    for s in STRATEGIES.iter() {
        let base = scenario(s.id, &[], None);
        for swarm in [false, true] {
            let mut fails = std::collections::BTreeMap::<String, u32>::new();
            let mut first = Vec::new();
            let mut max_events = 0;
            for seed in 0..n {
                let r = run(&sweep_scenario(&base, seed, swarm));
                max_events = max_events.max(r.events);
                for c in r.checks.iter().filter(|c| !c.ok) {
                    *fails.entry(c.name.clone()).or_default() += 1;
                    if first.len() < 3 {
                        first.push(format!("seed {seed}: {} {}", c.name, c.detail));
                    }
                }
            }
            println!(
                "== {} swarm={swarm} max_events={max_events} fails={fails:?}",
                s.id
            );
            for f in first {
                println!("   {f}");
            }
        }
    }
}
