//! Tests for the distributed cache: determinism, the naive strategy failing, robust
//! strategies passing seed sweeps with and without swarm faults, a golden trace, each
//! check shown to bite for the reason the design causes, eviction policies ordered as
//! theory says, and every parameter bound giving a runnable scenario.

use super::*;
use crate::check::CheckResult;
use crate::check::Property;
use crate::scenario::params::ParamKind;
use crate::scenario::params::ParamValue;
use crate::scenario::{Scenario, ScenarioSpec};
use crate::sim::time::SimDuration;
use crate::sim::workload::WorkloadSpec;
use crate::system::BuildOptions;
use crate::system::{run_validated, RunReport};
use crate::view::View;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

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
        10      0.537ms client-2   <- cache-0 hello
        11      0.580ms client-2   timer 1
        12      0.603ms client-1   <- cache-3 hello
        13      0.612ms client-2   <- cache-2 hello
        14      0.616ms client-0   <- cache-0 hello
        15      0.648ms client-1   timer 1
        16      0.662ms client-0   <- cache-2 hello
        17      0.705ms client-1   <- cache-1 hello
        18      0.716ms client-0   <- cache-1 hello
        19      0.733ms client-1   <- cache-0 hello
        20      0.735ms client-2   <- cache-3 hello
        21      0.737ms cache-0    <- client-2 get k4
        22      0.807ms client-2   <- cache-1 hello
        23      0.837ms client-0   <- cache-3 hello
        24      0.868ms cache-2    <- client-0 get k1
        25      1.145ms client-1   <- cache-2 hello
        26      1.304ms cache-1    <- client-2 get k223
        27      1.354ms client-2   <- cache-0 hit k4
        28      1.410ms client-0   <- cache-2 hit k1
        29      1.803ms cache-1    <- client-1 get k74
        30      1.853ms client-2   <- cache-1 hit k223
        31      2.549ms client-2   timer 1
        32      2.954ms client-1   <- cache-1 hit k74
        33      3.222ms cache-1    <- client-2 get k134
        34      3.265ms client-0   timer 1
        35      3.298ms client-0   timer 1
        36      3.865ms client-2   timer 1
        37      3.984ms client-2   <- cache-1 hit k134
        38      3.994ms client-0   timer 1
        39      4.079ms cache-2    <- client-0 get k1
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
    let read = |val, at| Obs::Read { key: 1, val, started: t(at), node: Some(2), replica: true };
    assert!(st.observe(t(10), &Obs::WriteStart { key: 1, wid: 7 }).is_none());
    assert!(st.observe(t(20), &Obs::WriteAck { key: 1, wid: 7 }).is_none());
    assert!(st.observe(t(600), &Obs::Copied { node: 2, key: 1, val: 0, sent: t(5) }).is_none());
    // Within the bound an old value is allowed; past it, not; the new value always is.
    assert!(st.observe(t(900), &read(0, 900)).is_none());
    assert!(st.observe(t(1_100), &read(7, 1_100)).is_none());
    let v = st.observe(t(1_100), &read(0, 1_100)).expect("stale past the bound");
    assert!(v.contains("from replica cache-2") && v.contains("returned the older value 0x0"), "{v}");
    assert!(v.contains("latest write acknowledged before the read was 0x7"), "{v}");
    assert!(v.contains("copy sent at 5.0 ms that arrived at 600.0 ms, 580.0 ms after write 0x7"), "{v}");

    let mut db = checks::DbUnderCapacity::new(100.0);
    let flagged = (0..12).filter_map(|i| db.observe(SimTime(i * 1_000), &Obs::DbArrival)).count();
    assert_eq!(flagged, 2, "10 per 100 ms allowed, the 11th and 12th are not");
    let mut db = checks::DbUnderCapacity::new(100.0);
    db.observe(SimTime::ZERO, &Obs::Disrupted("crash".into()));
    assert!((0..12).all(|i| db.observe(SimTime(i * 1_000), &Obs::DbArrival).is_none()));
}

/// What the nodes of a run reported, in order (a property that only records).
#[derive(Clone, Default)]
struct Recorder(Rc<RefCell<Vec<(SimTime, Obs)>>>);

impl Property<Obs> for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        if matches!(obs, Obs::Read { .. } | Obs::WriteStart { .. } | Obs::WriteAck { .. } | Obs::Copied { .. }) {
            self.0.borrow_mut().push((at, obs.clone()));
        }
        None
    }
    fn samples(&self) -> u64 {
        0
    }
}

fn run_recorded(s: &Scenario) -> (World<Node>, Vec<(SimTime, Obs)>) {
    let rec = Recorder::default();
    let mut w = build_world_observed(s, &BuildOptions::default(), vec![Box::new(rec.clone())]).expect("builds");
    w.run_to_end();
    let log = rec.0.borrow().clone();
    (w, log)
}

/// A read of a replica that returned a superseded version past the bound.
#[derive(Debug)]
struct StaleRead {
    key: u64,
    node: u32,
    returned: u64,
    started: SimTime,
    /// The first newer write acknowledged before the read began, and when.
    newer: (u64, SimTime),
    /// The latest write acknowledged before the read began.
    latest: u64,
    /// The replica's last copy of the key before the read: value, sent, arrived.
    copy: Option<(u64, SimTime, SimTime)>,
}

/// Replays the log independently of the check: versions in true time, per key.
fn stale_replica_reads(log: &[(SimTime, Obs)], bound_us: u64) -> Vec<StaleRead> {
    let mut writes: BTreeMap<u64, Vec<(u64, SimTime, Option<SimTime>)>> = BTreeMap::new();
    let mut copies: BTreeMap<(u32, u64), (u64, SimTime, SimTime)> = BTreeMap::new();
    let mut out = Vec::new();
    for (at, obs) in log {
        match *obs {
            Obs::WriteStart { key, wid } => writes.entry(key).or_default().push((wid, *at, None)),
            Obs::WriteAck { key, wid } => {
                for w in writes.entry(key).or_default().iter_mut().filter(|w| w.0 == wid) {
                    w.2.get_or_insert(*at);
                }
            }
            Obs::Copied { node, key, val, sent } => {
                copies.insert((node, key), (val, sent, *at));
            }
            Obs::Read { key, val, started, node: Some(node), replica: true } => {
                let ws = writes.get(&key).cloned().unwrap_or_default();
                let acked = |wid: u64| ws.iter().find(|w| w.0 == wid).and_then(|w| w.2);
                let seen = if val == 0 { Some(SimTime::ZERO) } else { acked(val) };
                let Some(seen) = seen else { continue };
                let newer =
                    ws.iter().filter_map(|w| w.2.filter(|&a| w.1 > seen && a <= started).map(|a| (a, w.0))).min();
                let Some((ack, wid)) = newer else { continue };
                if started.0 - ack.0 <= bound_us {
                    continue;
                }
                let latest = ws.iter().filter_map(|w| w.2.filter(|&a| a <= started).map(|a| (a, w.0))).max();
                out.push(StaleRead {
                    key,
                    node,
                    returned: val,
                    started,
                    newer: (wid, ack),
                    latest: latest.map_or(0, |l| l.1),
                    copy: copies.get(&(node, key)).copied(),
                });
            }
            _ => {}
        }
    }
    out
}

/// Copies held 3 s on every cache-to-cache link from 1 s to 4 s.
fn clogged_copies() -> Vec<TimedFault> {
    vec![
        TimedFault { at_ms: 1_000, fault: Fault::Clog { from: "cache".into(), to: "cache".into(), extra_ms: 3_000 } },
        TimedFault { at_ms: 4_000, fault: Fault::Unclog { from: "cache".into(), to: "cache".into() } },
    ]
}

fn replicated(reads: &str, expiry: &str) -> Scenario {
    let params = [
        ("replicas", ParamValue::Int(2)),
        ("capacity", ParamValue::Int(500)),
        ("replica_reads", ParamValue::Text(reads.into())),
        ("copy_expiry", ParamValue::Text(expiry.into())),
    ];
    scenario("consistent", &params, Some(clogged_copies()))
}

/// Staleness bites for the reason async replication causes: a replica reads the primary's
/// copy of an old version late (the clog held it), restarts its TTL on arrival, and
/// serves it past TTL + lease after a newer write was acknowledged.
#[test]
fn stale_replica_read_is_a_late_copy_that_restarted_its_ttl() {
    let s = replicated("any", "on-arrival");
    let (bound_us, _) = Cfg::from_params(&s.params, s.strategy.id, &s.workload).unwrap().staleness_bound();
    let (w, log) = run_recorded(&s);
    let stale = stale_replica_reads(&log, bound_us);
    let first = stale.first().expect("a replica read past the bound");
    let (copied, sent, arrived) = first.copy.expect("the replica's value came as a copy");
    // The replica returned exactly the version its late copy carried, not the latest one.
    assert_eq!(copied, first.returned, "{first:?}");
    assert_ne!(first.latest, first.returned, "{first:?}");
    // The copy left before the newer write was acknowledged, and the clog held it so long
    // that it arrived after that acknowledgement, more than a lease later.
    let (newer_wid, ack) = first.newer;
    assert!(sent < ack && arrived > ack + SimDuration::from_ms(500), "{first:?}");
    assert!(arrived.since(sent) >= SimDuration::from_ms(3_000), "{first:?}");
    // It was still served because its TTL started on arrival.
    assert!(first.started < arrived + SimDuration::from_ms(2_000), "{first:?}");
    // The check names the same replica, versions and copy.
    let results = w.checks().results();
    let c = results.iter().find(|c| c.name == "bounded-staleness").expect("check exists");
    assert!(!c.ok, "{}", c.detail);
    let want = [
        format!("read of key {} from replica {}", first.key, Cfg::cache_name(first.node)),
        format!("after write {newer_wid:#x} was acknowledged yet returned the older value {:#x}", first.returned),
        format!("the latest write acknowledged before the read was {:#x}", first.latest),
        "as a copy sent at".to_string(),
    ];
    for w in want {
        assert!(c.detail.contains(&w), "missing {w:?} in {}", c.detail);
    }
}

/// The same clog is harmless when copies keep the primary's expiry (a late copy arrives
/// already expired) or when reads go to the first owner only.
#[test]
fn late_copies_keep_the_bound_with_origin_expiry_or_primary_reads() {
    for (reads, expiry) in [("any", "origin"), ("primary", "on-arrival")] {
        let s = replicated(reads, expiry);
        let (bound_us, _) = Cfg::from_params(&s.params, s.strategy.id, &s.workload).unwrap().staleness_bound();
        let (w, log) = run_recorded(&s);
        assert!(stale_replica_reads(&log, bound_us).is_empty(), "{reads}/{expiry}");
        let results = w.checks().results();
        let c = results.iter().find(|c| c.name == "bounded-staleness").expect("check exists");
        assert!(c.ok, "{reads}/{expiry}: {}", c.detail);
        let copies: u64 = log.iter().filter(|(_, o)| matches!(o, Obs::Copied { .. })).count() as u64;
        assert!(copies > 1_000, "{reads}/{expiry}: replication must run, {copies} copies");
    }
}

/// Replication copies data: with two owners and no faults, replicas answer reads from
/// copies, and a few of those answers are versions a just-acknowledged write superseded
/// (the copy is a network hop behind), which the check sees and counts within the bound.
#[test]
fn replicas_serve_copies_that_lag_by_a_hop() {
    let params = [("replicas", ParamValue::Int(2)), ("capacity", ParamValue::Int(500))];
    let s = scenario("rendezvous", &params, None);
    let (w, log) = run_recorded(&s);
    let replica_hits = log.iter().filter(|(_, o)| matches!(o, Obs::Read { replica: true, .. })).count();
    assert!(replica_hits > 2_000, "{replica_hits} reads answered by replicas");
    let copies = w.nodes().iter().map(|n| if let Node::Cache(c) = n { c.copies } else { 0 }).sum::<u64>();
    assert!(copies > 1_000, "{copies} copies");
    let results = w.checks().results();
    let c = results.iter().find(|c| c.name == "bounded-staleness").expect("check exists");
    assert!(c.ok && c.detail.contains("from replicas"), "{}", c.detail);
}

/// The default scenario has more keys than slots, so nodes evict, and the counter, the
/// per-node tally and the table agree.
#[test]
fn default_scenario_evicts() {
    let s = scenario("consistent", &[], None);
    let slots = (s.params.int("cache_nodes") * s.params.int("capacity")) as u64;
    assert!(s.workload.keys > slots, "{} keys for {slots} slots", s.workload.keys);
    let mut w = build_world(&s, &BuildOptions::default()).expect("builds");
    w.run_to_end();
    let per_node: u64 = w.nodes().iter().map(|n| if let Node::Cache(c) = n { c.evictions } else { 0 }).sum();
    assert!(per_node > 100, "{per_node} evictions");
    assert_eq!(w.metrics.counter("evictions"), per_node);
    let table =
        views::views(&w).into_iter().find_map(|v| if let View::Table(t) = v { Some(t) } else { None }).expect("table");
    let col = table.columns.iter().position(|c| c == "evicted").expect("evicted column");
    let shown: u64 = table.rows.iter().map(|r| r[col].parse::<u64>().expect("number")).sum();
    assert_eq!(shown, per_node);
}

/// Hit ratio of the whole cluster for one eviction policy on a pure Zipf(1.0) workload:
/// no writes, no burst, no join, TTL longer than the run, so only eviction decides.
fn cluster_hit_ratio(eviction: &str) -> f64 {
    let params = [
        ("eviction", ParamValue::Text(eviction.into())),
        ("ttl_ms", ParamValue::Int(60_000)),
        ("write_ratio", ParamValue::Float(0.0)),
        ("capacity", ParamValue::Int(50)),
        ("spares", ParamValue::Int(0)),
        ("db_capacity_qps", ParamValue::Float(100_000.0)),
    ];
    let mut s = scenario("consistent", &params, Some(vec![]));
    s.workload =
        WorkloadSpec { rate_per_s: 4_000.0, duration_ms: 10_000, keys: 2_000, zipf_s: 1.0, ..WorkloadSpec::default() };
    let r = run(&s);
    assert!(r.all_ok(), "{eviction}: {:?}", failing(&r));
    let (h, m) = (r.metrics.counters["cache_hits"], r.metrics.counters["cache_misses"]);
    assert!(r.metrics.counters["evictions"] > 1_000, "{eviction}");
    h as f64 / (h + m) as f64
}

/// In the cluster, as in the single-store test (`store::tests`): on independent Zipf
/// requests LFU keeps the proven-popular keys (the static optimum is the most popular
/// ones), LRU keeps the recently used (Che's approximation), and TTL eviction with equal
/// TTLs is FIFO by load time, which never rewards a hit.
#[test]
fn cluster_hit_ratios_order_lfu_lru_ttl_on_zipf() {
    let (lfu, lru, ttl) = (cluster_hit_ratio("lfu"), cluster_hit_ratio("lru"), cluster_hit_ratio("ttl"));
    eprintln!("Zipf 1.0, 2000 keys, 4 x 50 slots: lfu {lfu:.3} lru {lru:.3} ttl {ttl:.3}");
    assert!(lfu > lru + 0.02 && lru > ttl + 0.02, "lfu {lfu:.3} lru {lru:.3} ttl {ttl:.3}");
}

/// Every value of every parameter's range gives a runnable scenario whose default faults
/// follow the parameters. Each parameter is set to its min and max (every option of a
/// choice) on top of the default scenario — the way `sdlab run --set` and the
/// playground's form change one value — for every strategy; a small event budget keeps
/// the runs short.
#[test]
fn every_parameter_bound_builds_and_runs() {
    let mut cases: Vec<(&str, ParamValue)> = Vec::new();
    for p in PARAMS {
        match p.kind {
            ParamKind::Int { min, max, .. } => {
                cases.extend([(p.key, ParamValue::Int(min)), (p.key, ParamValue::Int(max))])
            }
            ParamKind::Float { min, max, .. } => {
                cases.extend([(p.key, ParamValue::Float(min)), (p.key, ParamValue::Float(max))])
            }
            ParamKind::Choice { options, .. } => {
                cases.extend(options.iter().map(|o| (p.key, ParamValue::Text(o.to_string()))))
            }
            ParamKind::Bool { .. } => cases.extend([(p.key, ParamValue::Bool(false)), (p.key, ParamValue::Bool(true))]),
        }
    }
    for st in STRATEGIES {
        for (key, value) in &cases {
            let mut spec = DEF.default_spec();
            spec.strategy = Some(st.id.to_string());
            spec.params.insert(key.to_string(), value.clone());
            let s = Scenario::validate(&DEF, &spec).expect("validates");
            let what = format!("{} {key}={value}", st.id);
            let mut w = build_world(&s, &BuildOptions { keep_trace: 0, budget: 4_000 }).expect(&what);
            w.run_to_end();
            assert!(w.events() > 0, "{what}");
            // The spare's join names the first spare and happens when the parameters say.
            let joins: Vec<&TimedFault> =
                w.faults().iter().filter(|f| matches!(f.fault, Fault::Restart { .. })).collect();
            if s.params.int("spares") == 0 {
                assert!(joins.is_empty(), "{what}");
            } else {
                let node = Cfg::cache_name(s.params.int("cache_nodes") as u32);
                let want = TimedFault { at_ms: s.params.int("join_at_ms") as u64, fault: Fault::Restart { node } };
                assert_eq!(joins, [&want], "{what}");
            }
        }
    }
}
