//! Tests for the distributed cache: determinism, the naive strategy failing, robust
//! strategies passing seed sweeps with and without swarm faults, a golden trace, and each
//! check shown to bite.

use super::*;
use crate::check::CheckResult;
use crate::check::Property;
use crate::scenario::params::ParamValue;
use crate::scenario::{Scenario, ScenarioSpec};
use crate::system::BuildOptions;
use crate::system::{run_validated, sweep_scenario, RunReport};

fn scenario(strategy: &str, params: &[(&str, ParamValue)], faults: Option<Vec<TimedFault>>) -> Scenario {
    let mut spec = ScenarioSpec::for_system("distributed-cache");
    spec.strategy = Some(strategy.to_string());
    for (k, v) in params {
        spec.params.insert(k.to_string(), v.clone());
    }
    let mut s = Scenario::validate(&DEF, &spec).expect("valid scenario");
    s.faults = faults.unwrap_or_else(|| (DEF.default_faults)(&s.params));
    s
}

fn run(s: &Scenario) -> RunReport {
    run_validated(s, &BuildOptions::default()).expect("runs")
}

fn check<'a>(r: &'a RunReport, name: &str) -> &'a CheckResult {
    r.checks.iter().find(|c| c.name == name).expect("check exists")
}

fn failing(r: &RunReport) -> Vec<String> {
    r.checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.detail)).collect()
}

fn with(strategy: &str, params: &[(&str, ParamValue)], faults: Option<Vec<TimedFault>>) -> RunReport {
    run(&scenario(strategy, params, faults))
}

fn crash(node: &str, at_ms: u64, back_ms: u64) -> Vec<TimedFault> {
    vec![
        TimedFault { at_ms, fault: Fault::Crash { node: node.into() } },
        TimedFault { at_ms: back_ms, fault: Fault::Restart { node: node.into() } },
    ]
}

#[test]
fn every_strategy_is_deterministic_and_naive_fails_key_movement() {
    for s in STRATEGIES {
        let (a, b) = (with(s.id, &[], None), with(s.id, &[], None));
        assert_eq!(a.trace_hash, b.trace_hash, "{}", s.id);
        assert!(a.events > 1_000 && a.events < 300_000, "{}: {} events", s.id, a.events);
        let moved = check(&a, "key-movement");
        assert!(moved.samples > 0, "{}: the join must be seen", s.id);
        if s.robust {
            assert!(failing(&a).is_empty(), "{}: {:?}", s.id, failing(&a));
        } else {
            assert!(!moved.ok, "modulo must fail key-movement");
            assert!(moved.detail.contains("joined (4 → 5 nodes)"), "{}", moved.detail);
        }
    }
}

fn sweep(strategy: &str, seeds: u64) {
    let base = scenario(strategy, &[], None);
    for swarm in [false, true] {
        for seed in 0..seeds {
            let r = run(&sweep_scenario(&base, seed, swarm));
            assert!(failing(&r).is_empty(), "{strategy} seed {seed} swarm {swarm}: {:?}\n{}", failing(&r), r.link);
            assert!(check(&r, "bounded-staleness").samples > 100);
        }
    }
}

#[test]
fn consistent_passes_a_seed_sweep() {
    sweep("consistent", 40);
}

#[test]
fn rendezvous_passes_a_seed_sweep() {
    sweep("rendezvous", 40);
}

#[test]
fn jump_passes_a_seed_sweep() {
    sweep("jump", 40);
}

#[test]
fn golden_trace() {
    let s = scenario("consistent", &[], None);
    let mut w = build_world(&s, &BuildOptions { keep_trace: 40, budget: 1_000_000 }).expect("builds");
    for _ in 0..40 {
        w.step();
    }
    let events: Vec<_> = w.trace.recent().iter().cloned().collect();
    // Lines start with padded numbers; trim them so expect-test's dedent keeps them intact.
    let text: String =
        crate::trace::render(&events, &w.node_names()).lines().map(|l| format!("{}\n", l.trim_start())).collect();
    expect_test::expect![[r#"
        8      0.162ms client-2   timer 1
        9      0.328ms client-0   timer 1
        10      0.495ms client-2   timer 1
        11      0.537ms client-2   <- cache-0 hello
        12      0.603ms client-1   <- cache-3 hello
        13      0.612ms client-2   <- cache-2 hello
        14      0.616ms client-0   <- cache-0 hello
        15      0.648ms client-1   timer 1
        16      0.662ms client-0   <- cache-2 hello
        17      0.705ms client-1   <- cache-1 hello
        18      0.716ms client-0   <- cache-1 hello
        19      0.733ms client-1   <- cache-0 hello
        20      0.735ms client-2   <- cache-3 hello
        21      0.737ms cache-3    <- client-2 get k5
        22      0.807ms client-2   <- cache-1 hello
        23      0.837ms client-0   <- cache-3 hello
        24      0.868ms cache-3    <- client-0 get k2
        25      1.145ms client-1   <- cache-2 hello
        26      1.219ms cache-2    <- client-2 get k1
        27      1.354ms client-2   <- cache-3 hit k5
        28      1.410ms client-0   <- cache-3 hit k2
        29      1.735ms client-2   timer 1
        30      1.768ms client-2   <- cache-2 hit k1
        31      1.803ms cache-3    <- client-1 get k76
        32      1.960ms client-1   timer 1
        33      2.476ms client-1   <- cache-3 hit k76
        34      2.722ms cache-1    <- client-1 get k0
        35      2.886ms cache-3    <- client-2 get k16
        36      2.935ms client-0   timer 1
        37      3.392ms client-2   timer 1
        38      3.408ms client-2   <- cache-3 hit k16
        39      3.493ms cache-1    <- client-0 get k298
    "#]]
    .assert_eq(&text);
}

/// Key movement bites: modulo fails it when a node crashes too, not only on a join.
#[test]
fn key_movement_bites_on_a_crash() {
    let r = with("modulo", &[("spares", ParamValue::Int(0))], Some(crash("cache-1", 3_000, 3_300)));
    let c = check(&r, "key-movement");
    assert!(!c.ok && c.detail.contains("cache-1 left (4 → 3 nodes)"), "{}", c.detail);
}

/// Staleness bites: write-back acknowledges before the database has the write, and a
/// crash of the node holding dirty entries loses acknowledged writes.
#[test]
fn bounded_staleness_bites_when_write_back_loses_dirty_entries() {
    let params = [
        ("write_policy", ParamValue::Text("write-back".into())),
        ("flush_ms", ParamValue::Int(1_000)),
        ("ttl_ms", ParamValue::Int(500)),
    ];
    let r = with("consistent", &params, Some(crash("cache-1", 2_900, 3_000)));
    let c = check(&r, "bounded-staleness");
    assert!(!c.ok && c.detail.contains("returned the older value"), "{}", c.detail);
    // Without the crash the same configuration keeps its bound.
    let calm = with("rendezvous", &params, Some(vec![]));
    assert!(check(&calm, "bounded-staleness").ok);
}

/// The DB SLO bites: without stampede protection, invalidations of the hot key during the
/// burst send every waiting reader to the database at once.
#[test]
fn db_capacity_bites_without_stampede_protection() {
    let r = with("consistent", &[("stampede", ParamValue::Text("none".into()))], Some(vec![]));
    let c = check(&r, "db-under-capacity");
    assert!(!c.ok && c.detail.contains("> capacity 800 q/s"), "{}", c.detail);
    for p in ["coalesce", "early-expiry"] {
        let r = with("consistent", &[("stampede", ParamValue::Text(p.into()))], Some(vec![]));
        assert!(check(&r, "db-under-capacity").ok, "{p}");
    }
}

/// Every write policy and eviction policy runs and keeps its staleness bound without faults.
#[test]
fn policies_keep_their_bound() {
    for wp in ["cache-aside", "read-through", "write-through", "write-back", "write-around"] {
        for ev in ["lru", "lfu", "ttl"] {
            let params = [("write_policy", ParamValue::Text(wp.into())), ("eviction", ParamValue::Text(ev.into()))];
            let r = with("jump", &params, None);
            assert!(check(&r, "bounded-staleness").ok, "{wp}/{ev}: {}", check(&r, "bounded-staleness").detail);
        }
    }
}

/// The properties themselves, fed by hand.
#[test]
fn properties_flag_hand_made_violations() {
    let mut km = checks::KeyMovement::new(0.1);
    let moved = |f| Obs::Moved { what: "x".into(), before: 4, after: 5, fraction: f };
    assert!(km.observe(SimTime::ZERO, &moved(0.25)).is_none());
    assert!(km.observe(SimTime::ZERO, &moved(0.31)).is_some());

    let mut st = checks::BoundedStaleness::new(1_000_000, "test".into());
    let t = SimTime::from_ms;
    assert!(st.observe(t(10), &Obs::WriteStart { key: 1, wid: 7 }).is_none());
    assert!(st.observe(t(20), &Obs::WriteAck { key: 1, wid: 7 }).is_none());
    // Within the bound an old value is allowed; past it, not; the new value always is.
    assert!(st.observe(t(900), &Obs::Read { key: 1, val: 0, started: t(900) }).is_none());
    assert!(st.observe(t(1_100), &Obs::Read { key: 1, val: 7, started: t(1_100) }).is_none());
    assert!(st.observe(t(1_100), &Obs::Read { key: 1, val: 0, started: t(1_100) }).is_some());

    let mut db = checks::DbUnderCapacity::new(100.0);
    let flagged = (0..12).filter_map(|i| db.observe(SimTime(i * 1_000), &Obs::DbArrival)).count();
    assert_eq!(flagged, 2, "10 per 100 ms allowed, the 11th and 12th are not");
    let mut db = checks::DbUnderCapacity::new(100.0);
    db.observe(SimTime::ZERO, &Obs::Disrupted("crash".into()));
    assert!((0..12).all(|i| db.observe(SimTime(i * 1_000), &Obs::DbArrival).is_none()));
}

/// Every "Show me" line of the explainer parses, validates and shows what it claims.
#[test]
fn explainer_scenarios_show_what_they_claim() {
    let specs: Vec<ScenarioSpec> = EXPLAINER
        .lines()
        .filter_map(|l| l.strip_prefix("Show me: "))
        .map(|j| serde_json::from_str(j).expect("valid ScenarioSpec JSON"))
        .collect();
    // The check each scenario is meant to break, or None when all should hold.
    let expect = [None, Some("bounded-staleness"), Some("key-movement"), None, Some("db-under-capacity")];
    assert_eq!(specs.len(), expect.len());
    for (spec, want) in specs.iter().zip(expect) {
        let r = run(&Scenario::validate(&DEF, spec).expect("validates"));
        let bad: Vec<&str> = r.checks.iter().filter(|c| !c.ok).map(|c| c.name.as_str()).collect();
        match want {
            None => assert!(bad.is_empty(), "{spec:?}: {bad:?}"),
            Some(name) => assert!(bad.contains(&name), "{spec:?}: {bad:?}"),
        }
    }
}
