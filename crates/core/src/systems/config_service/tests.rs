//! Tests of the config service: each check failing for its mechanism (a follower's stale
//! read, a leader whose skewed clock outlives its lease, a write acknowledged before it
//! committed, a watcher resuming from "now") and holding for read index; the store against
//! a brute-force twin; every replica's state against a sequential replay of the committed
//! log; and the checks themselves on hand-made histories.

use super::checks::{parse_window, Linearizable, NoLostCommit, WatchOrder};
use super::msg::{Answer, Call, Cmd, Obs, Prefix, EPHEMERAL};
use super::store::{KvState, EVENTS_KEPT};
use super::*;
use crate::check::{CheckResult, Property};
use crate::scenario::show_me;
use crate::scenario::ScenarioSpec;
use crate::sim::time::SimTime;
use crate::system::{run_validated, sweep_scenario};

fn scenario(strategy: &str) -> Scenario {
    let mut spec = DEF.default_spec();
    spec.strategy = Some(strategy.to_string());
    Scenario::validate(&DEF, &spec).expect("valid default scenario")
}

/// The explainer's show-me scenario number `i` (in order of appearance).
fn shown(i: usize) -> Scenario {
    let (json, _) = show_me::split(show_me::lines(EXPLAINER)[i]);
    let spec: ScenarioSpec = crate::scenario::link::parse_json(json).expect("a show-me line parses");
    Scenario::validate(&DEF, &spec).expect("a show-me line validates")
}

fn failing(checks: &[CheckResult]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok).map(|c| c.name.clone()).collect()
}

/// Runs in 20 ms steps until `check` fails; the world at that point.
fn run_to_failure(s: &Scenario, check: &str) -> Option<(World<Node>, String)> {
    let mut w = build_world(s, &BuildOptions::default()).unwrap();
    let end_ms = w.horizon().as_ms() as u64;
    for t in (20..=end_ms + 20).step_by(20) {
        w.run_until(SimTime::from_ms(t));
        if let Some(c) = w.checks().results().into_iter().find(|c| c.name == check && !c.ok) {
            return Some((w, c.detail));
        }
    }
    w.finish();
    let c = w.checks().results().into_iter().find(|c| c.name == check && !c.ok)?;
    Some((w, c.detail))
}

fn replicas(w: &World<Node>) -> Vec<&replica::Replica> {
    w.nodes()
        .iter()
        .filter_map(|n| match n {
            Node::Replica(r) => Some(r.as_ref()),
            _ => None,
        })
        .collect()
}

#[test]
fn strategies_parse_from_their_ids_only() {
    for st in DEF.strategies {
        assert!(Strategy::from_id(st.id).is_some(), "{}", st.id);
    }
    assert_eq!(Strategy::from_id("read-any"), None);
}

/// Any-replica, no fault at all: the shortest failing window ends with a read that returned
/// an older value than a call finished before it saw, and followers answered reads.
#[test]
fn any_replica_reads_a_follower_behind_the_leader() {
    let (w, detail) = run_to_failure(&scenario("any-replica"), "linearizable").expect("a stale read");
    let (key, from, to) = parse_window(&detail).expect("the detail names the window");
    assert!(key.starts_with("cfg/k") && from <= to, "{detail}");
    assert!(detail.contains("read →"), "{detail}");
    assert!(replicas(&w).iter().any(|r| r.stale_risk_reads > 0), "followers answered reads");
    // The same run under read index holds.
    let r = run_validated(&scenario("read-index"), &BuildOptions::default()).unwrap();
    assert!(failing(&r.checks).is_empty(), "{:?}", r.checks);
}

/// Lease-read with the isolated leader's clock set back: when the failing window closes, two
/// replicas believe they lead (different terms), and the deposed one still holds a lease
/// on its own clock. Without the skew the same isolations keep the lease safe.
#[test]
fn lease_read_is_broken_by_a_clock_set_back_and_safe_without_it() {
    let (_, detail) = run_to_failure(&shown(2), "linearizable").expect("a stale lease read");
    let (_, _, to_ms) = parse_window(&detail).expect("a window");
    // The world as it was when the window closed (the check judges in batches, later).
    let mut w = build_world(&shown(2), &BuildOptions::default()).unwrap();
    w.run_until(SimTime::from_ms(to_ms as u64 + 1));
    let leaders: Vec<&replica::Replica> = replicas(&w).into_iter().filter(|r| r.raft.is_leader()).collect();
    assert!(leaders.len() >= 2, "two replicas believe they lead");
    let oldest = leaders.iter().min_by_key(|r| r.raft.term).unwrap();
    let newest = leaders.iter().max_by_key(|r| r.raft.term).unwrap();
    assert!(oldest.raft.term < newest.raft.term);
    assert!(oldest.lease_until.is_some(), "the deposed leader still holds its lease");
    let r = run_validated(&shown(3), &BuildOptions::default()).unwrap();
    assert!(!failing(&r.checks).contains(&"linearizable".to_string()), "{:?}", r.checks);
    let r = run_validated(&shown(4), &BuildOptions::default()).unwrap();
    assert!(failing(&r.checks).is_empty(), "read index under the same skew: {:?}", r.checks);
}

/// Acknowledging on append: the lost writes are in no replica's log or state at the end.
#[test]
fn acknowledging_on_append_loses_the_isolated_leaders_writes() {
    let (w, detail) = run_to_failure(&shown(5), "no-lost-commit").expect("a lost write");
    assert!(detail.contains("acknowledged") && detail.contains("no replica ever committed"), "{detail}");
    let lost: u64 = detail.split(['=', ' ']).find_map(|t| t.parse().ok().filter(|v: &u64| *v >= 1_000_000)).unwrap();
    for r in replicas(&w) {
        assert!(!r.state.items.values().any(|i| i.value == lost));
        for i in r.raft.log.start() + 1..=r.raft.log.last_index() {
            let e = r.raft.log.get(i).unwrap();
            assert!(!matches!(e.payload, crate::blocks::raft::Payload::Cmd(Cmd::Put { value, .. }) if value == lost));
        }
    }
    let r = run_validated(&shown(6), &BuildOptions::default()).unwrap();
    assert!(failing(&r.checks).is_empty(), "{:?}", r.checks);
}

/// Resuming a watch "from now" after its replica crashed skips the changes made while it
/// was away; resuming from the last revision does not.
#[test]
fn a_watch_resumed_from_now_misses_changes() {
    let (w, detail) = run_to_failure(&shown(7), "watch-order").expect("a gap");
    assert!(detail.contains("missing revision"), "{detail}");
    let reconnected = w.nodes().iter().any(|n| matches!(n, Node::Watcher(x) if x.reconnects > 0));
    assert!(reconnected, "the gap follows a reconnect");
    let r = run_validated(&shown(8), &BuildOptions::default()).unwrap();
    assert!(failing(&r.checks).is_empty(), "{:?}", r.checks);
}

/// Read index over a few seeds, plain and with swarm faults (the conformance sweep runs
/// 200 in release).
#[test]
fn read_index_holds_over_seeds_plain_and_swarm() {
    for seed in 1..=6 {
        for swarm in [false, true] {
            let s = sweep_scenario(&scenario("read-index"), seed, swarm);
            let r = run_validated(&s, &BuildOptions::default()).unwrap();
            assert!(failing(&r.checks).is_empty(), "seed {seed} swarm {swarm}: {:?}\n{}", r.checks, r.link);
        }
    }
}

/// Every replica's state equals a sequential replay of the entries it applied, and the
/// replicas agree entry by entry on the indices they both applied (swarm faults, so
/// crashes, snapshots and elections happen).
#[test]
fn replicas_agree_with_a_sequential_replay_of_the_committed_log() {
    for seed in 1..=4 {
        let s = sweep_scenario(&scenario("read-index"), seed, true);
        let mut w = build_world(&s, &BuildOptions::default()).unwrap();
        w.run_to_end();
        let mut by_index: std::collections::BTreeMap<u64, Cmd> = std::collections::BTreeMap::new();
        for r in replicas(&w) {
            for (i, e) in &r.applied_trail {
                if let crate::blocks::raft::Payload::Cmd(c) = e.payload {
                    let seen = *by_index.entry(*i).or_insert(c);
                    assert_eq!(seen, c, "seed {seed}: replicas applied different commands at {i}");
                }
            }
        }
        let mut twin = KvState::default();
        for c in by_index.values() {
            twin.apply(*c);
        }
        let longest = replicas(&w).into_iter().max_by_key(|r| r.raft.applied).unwrap();
        if longest.raft.applied == *by_index.keys().last().unwrap_or(&0) {
            assert_eq!(longest.state.items, twin.items, "seed {seed}");
            assert_eq!(longest.state.rev, twin.rev, "seed {seed}");
        }
    }
}

/// The store against a brute-force twin: a plain map, a revision counter and the full
/// list of changes (never compacted).
#[test]
fn store_matches_a_brute_force_twin() {
    let mut rng = crate::sim::rng::Prng::new(9);
    let mut s = KvState::default();
    let mut map: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
    let mut sessions: std::collections::BTreeMap<u64, Vec<u32>> = std::collections::BTreeMap::new();
    let mut all: Vec<(u64, u32, Option<u64>)> = Vec::new();
    for step in 0..4_000u64 {
        let key = rng.below(4) as u32;
        match rng.below(5) {
            0 | 1 => {
                s.apply(Cmd::Put { client: 1, req: step, key, value: step, session: None });
                map.insert(key, step);
                all.push((all.len() as u64 + 1, key, Some(step)));
            }
            2 => {
                let from = map.get(&key).copied().unwrap_or(7);
                let from = if rng.chance(0.5) { from } else { from + 1 };
                s.apply(Cmd::Cas { client: 1, req: step, key, from, to: step });
                if map.get(&key) == Some(&from) {
                    map.insert(key, step);
                    all.push((all.len() as u64 + 1, key, Some(step)));
                }
            }
            3 => {
                let sess = rng.below(3);
                s.apply(Cmd::Open { client: 1, req: step, session: sess });
                sessions.entry(sess).or_default();
                let k = EPHEMERAL + sess as u32;
                s.apply(Cmd::Put { client: 1, req: step, key: k, value: step, session: Some(sess) });
                map.insert(k, step);
                sessions.get_mut(&sess).unwrap().push(k);
                all.push((all.len() as u64 + 1, k, Some(step)));
            }
            _ => {
                let sess = rng.below(3);
                s.apply(Cmd::Expire { session: sess });
                let mut keys = sessions.remove(&sess).unwrap_or_default();
                keys.sort();
                keys.dedup();
                for k in keys {
                    if map.remove(&k).is_some() {
                        all.push((all.len() as u64 + 1, k, None));
                    }
                }
            }
        }
        let got: std::collections::BTreeMap<u32, u64> = s.items.iter().map(|(k, i)| (*k, i.value)).collect();
        assert_eq!(got, map, "step {step}");
        assert_eq!(s.rev, all.len() as u64);
        let after = s.rev.saturating_sub(rng.below(2 * EVENTS_KEPT as u64));
        let want: Vec<(u64, u32, Option<u64>)> =
            all.iter().copied().filter(|e| e.0 > after && Prefix::Config.holds(e.1)).collect();
        match s.events_after(after, |k| Prefix::Config.holds(k)) {
            Ok(evs) => assert_eq!(evs.iter().map(|e| (e.rev, e.key, e.value)).collect::<Vec<_>>(), want),
            Err(oldest) => assert!(after < oldest && all.len() > EVENTS_KEPT),
        }
    }
}

fn at(ms: u64) -> SimTime {
    SimTime::from_ms(ms)
}

/// A hand-made stale read: the check fails, the window holds the write and the read.
#[test]
fn linearizable_flags_a_stale_read_and_names_its_window() {
    let mut p = Linearizable::new(vec!["client-0".into(), "client-1".into()]);
    p.observe(at(1), &Obs::Invoke { client: 0, op: 1, key: 0, call: Call::Put(5) });
    p.observe(at(2), &Obs::Complete { client: 0, op: 1, answer: Answer::Written });
    p.observe(at(3), &Obs::Invoke { client: 1, op: 1, key: 0, call: Call::Get });
    p.observe(at(4), &Obs::Complete { client: 1, op: 1, answer: Answer::Value(None) });
    let end = crate::check::RunEnd { now: at(5), metrics: &crate::metrics::Metrics::new(1_000), disruption: None };
    let detail = p.finish(&end).expect("not linearizable");
    assert_eq!(parse_window(&detail), Some(("cfg/k0".to_string(), 1.0, 4.0)), "{detail}");
    // An abandoned write may land any time later: the same read of its value is fine.
    let mut q = Linearizable::new(vec![]);
    q.observe(at(1), &Obs::Invoke { client: 0, op: 1, key: 0, call: Call::Put(5) });
    q.observe(at(2), &Obs::Abandon { client: 0, op: 1 });
    q.observe(at(8), &Obs::Invoke { client: 1, op: 1, key: 0, call: Call::Get });
    q.observe(at(9), &Obs::Complete { client: 1, op: 1, answer: Answer::Value(Some(5)) });
    assert_eq!(q.finish(&end), None);
}

#[test]
fn no_lost_commit_flags_an_uncommitted_ack_and_a_rewritten_revision() {
    let end = crate::check::RunEnd { now: at(5), metrics: &crate::metrics::Metrics::new(1_000), disruption: None };
    let mut p = NoLostCommit::new(vec![]);
    p.observe(at(1), &Obs::Invoke { client: 0, op: 1, key: 0, call: Call::Put(5) });
    p.observe(at(2), &Obs::Complete { client: 0, op: 1, answer: Answer::Written });
    assert!(p.finish(&end).is_some());
    let mut q = NoLostCommit::new(vec![]);
    q.observe(at(1), &Obs::Invoke { client: 0, op: 1, key: 0, call: Call::Put(5) });
    q.observe(at(1), &Obs::Applied { replica: 1, rev: 1, key: 0, value: Some(5) });
    q.observe(at(2), &Obs::Complete { client: 0, op: 1, answer: Answer::Written });
    assert_eq!(q.finish(&end), None);
    assert!(q.observe(at(3), &Obs::Applied { replica: 2, rev: 1, key: 0, value: Some(6) }).is_some());
}

#[test]
fn watch_order_flags_a_gap_and_accepts_a_known_resync() {
    let mut p = WatchOrder::new(vec![], &[9]);
    for rev in 1..=3 {
        p.observe(at(rev), &Obs::Applied { replica: 0, rev, key: 0, value: Some(rev) });
    }
    let w = |rev: u64| Obs::Watched { watcher: 9, prefix: Prefix::Config, rev, key: 0, value: Some(rev) };
    assert_eq!(p.observe(at(4), &w(1)), None);
    let gap = p.observe(at(5), &w(3)).expect("revision 2 missed");
    assert!(gap.contains("missing revision 2"), "{gap}");
    let mut q = WatchOrder::new(vec![], &[9]);
    for rev in 1..=3 {
        q.observe(at(rev), &Obs::Applied { replica: 0, rev, key: 0, value: Some(rev) });
    }
    q.observe(at(4), &Obs::Resynced { watcher: 9, from: 2 });
    assert_eq!(q.observe(at(5), &w(3)), None);
    assert!(q.observe(at(6), &w(2)).is_some(), "out of order");
}

/// The naive resume leaves the SDK cache serving a value the cluster replaced while the
/// watcher was away; resuming from the last revision keeps every cache state exact.
#[test]
fn a_cache_resumed_from_now_serves_a_replaced_value() {
    let (w, detail) = run_to_failure(&shown(9), "sdk-cache").expect("a stale cache");
    assert!(
        detail.contains("but the committed value then was")
            || detail.contains("lacks")
            || detail.contains("no committed revision"),
        "{detail}"
    );
    let reconnected = w.nodes().iter().any(|n| matches!(n, Node::Watcher(x) if x.reconnects > 0));
    assert!(reconnected, "the stale value follows a reconnect");
    let r = run_validated(&shown(10), &BuildOptions::default()).unwrap();
    let cache = r.checks.iter().find(|c| c.name == "sdk-cache").expect("sdk-cache is declared");
    assert!(cache.ok && cache.samples > 0, "{cache:?}");
}

/// A watcher cut off from every replica while more than [`EVENTS_KEPT`] changes commit cannot be caught
/// up event by event: the replica answers `Compacted`, the watcher re-reads its prefix with
/// a range read and resumes after that revision, and the cache it then claims is still
/// exact. The naive "resume from now" after the same outage keeps the old values.
#[test]
fn an_outage_past_compaction_resyncs_by_a_range_read() {
    let spec = |resume: &str| {
        let json = format!(
            r#"{{"version":1,"system":"config-service","strategy":"read-index","params":{{"clients":8,"watch_resume":"{resume}"}},"seed":3,"faults":[{{"at_ms":1000,"kind":"partition","a":["watcher-0"],"b":["replica-0","replica-1","replica-2"],"one_way":false}},{{"at_ms":8000,"kind":"heal"}}]}}"#
        );
        let mut spec: ScenarioSpec = crate::scenario::link::parse_json(&json).unwrap();
        // Busy clients (5 ms think time) so the outage spans well over the kept history.
        let workload = WorkloadSpec { think_ms: 5, ..scenario("read-index").workload.clone() };
        spec.workload = Some(workload);
        Scenario::validate(&DEF, &spec).unwrap()
    };
    let mut w = build_world(&spec("revision"), &BuildOptions::default()).unwrap();
    w.run_until(SimTime::from_ms(1_000));
    let before = watcher0(&w).last;
    w.run_until(SimTime::from_ms(8_000));
    let committed = replicas(&w).iter().map(|r| r.state.rev).max().unwrap();
    assert!(
        committed - before > EVENTS_KEPT as u64,
        "the outage must outlast the kept history: {before} → {committed}"
    );
    let end = w.horizon();
    w.run_until(end);
    w.finish();
    assert!(watcher0(&w).resyncs > 0, "the watcher re-read its prefix after a compaction");
    assert!(watcher0(&w).last >= committed, "and caught up past the outage");
    let results = w.checks().results();
    let cache = results.iter().find(|c| c.name == "sdk-cache").unwrap();
    assert!(cache.ok && cache.samples > 0, "{cache:?}");
    assert!(failing(&results).is_empty(), "{:?}", failing(&results));

    let (w, detail) = run_to_failure(&spec("now"), "sdk-cache").expect("the naive resume serves old values");
    assert_eq!(watcher0(&w).resyncs, 0, "resuming from now never learns of the compaction");
    assert!(watcher0(&w).reconnects > 0, "it reconnected after the outage");
    assert!(detail.contains("but the committed value then was") || detail.contains("lacks"), "{detail}");
}

fn watcher0(w: &World<Node>) -> &watcher::Watcher {
    w.nodes()
        .iter()
        .find_map(|n| match n {
            Node::Watcher(x) => Some(x),
            _ => None,
        })
        .expect("watcher-0 is built")
}
