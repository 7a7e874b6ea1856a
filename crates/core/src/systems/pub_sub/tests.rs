//! Tests of the pub-sub system: each naive design fails for the mechanism the explainer
//! names (read off the brokers', coordinator's and sink's own state, not only the
//! verdict), the robust design holds on the same scenarios and over seed sweeps, replicas
//! agree below the high watermark after crashes, retention really deletes, and each check
//! flags hand-made histories.

use super::checks::{EffectivelyOnce, MonotonicCommits, NoGap, NoLostAck, PartitionOrder};
use super::msg::{Obs, Rec, Store};
use super::*;
use crate::check::{CheckResult, Property, RunEnd};
use crate::metrics::Metrics;
use crate::scenario::link;
use crate::sim::time::SimTime;
use crate::system::{run_validated, sweep_scenario};

const FAULTS: &str = r#"[{"at_ms":3000,"kind":"crash","node":"broker-0"},{"at_ms":5000,"kind":"restart","node":"broker-0"},{"at_ms":5200,"kind":"crash","node":"consumer-0"},{"at_ms":6200,"kind":"restart","node":"consumer-0"},{"at_ms":7500,"kind":"crash","node":"broker-1"},{"at_ms":9500,"kind":"restart","node":"broker-1"}]"#;

fn scenario(strategy: &str, params: &str, seed: u64, faults: &str) -> Scenario {
    let json = format!(
        r#"{{"version":1,"system":"pub-sub","strategy":"{strategy}","params":{{{params}}},"seed":{seed},"faults":{faults}}}"#
    );
    Scenario::validate(&DEF, &link::parse_json(&json).unwrap()).unwrap()
}

fn run(s: &Scenario) -> (World<Node>, Vec<CheckResult>) {
    let mut w = build_world(s, &BuildOptions::default()).unwrap();
    w.run_to_end();
    w.finish();
    let checks = w.checks().results();
    (w, checks)
}

fn check<'a>(checks: &'a [CheckResult], name: &str) -> &'a CheckResult {
    checks.iter().find(|c| c.name == name).unwrap()
}

fn sink(w: &World<Node>) -> &sink::Sink {
    w.nodes().iter().find_map(|n| if let Node::Sink(s) = n { Some(s) } else { None }).unwrap()
}

fn controller(w: &World<Node>) -> &controller::Controller {
    w.nodes().iter().find_map(|n| if let Node::Controller(c) = n { Some(&**c) } else { None }).unwrap()
}

fn brokers(w: &World<Node>) -> Vec<&broker::Broker> {
    w.nodes().iter().filter_map(|n| if let Node::Broker(b) = n { Some(&**b) } else { None }).collect()
}

fn end_of(p: &mut dyn Property<Obs>) -> Option<String> {
    let m = Metrics::new(100);
    p.finish(&RunEnd { now: SimTime::from_ms(100_000), metrics: &m, disruption: None })
}

fn rec(producer: u32, seq: u32) -> Rec {
    Rec { id: (u64::from(producer) + 1) << 32 | u64::from(seq), key: 0, producer, seq }
}

#[test]
fn commit_before_commits_offsets_nobody_processed() {
    let (w, checks) = run(&scenario("commit-before", "", 2, FAULTS));
    let gap = check(&checks, "no-gap");
    assert!(!gap.ok, "{}", gap.detail);
    // The coordinator holds an offset past records the sink never applied: the crash
    // came after the commit and before the batch's tail.
    let c = controller(&w);
    let s = sink(&w);
    let short = (0..4u32).any(|p| s.applied.get(&p).copied().unwrap_or(0) < c.committed.get(&p).copied().unwrap_or(0));
    assert!(short, "some partition has fewer effects than its committed offset");
}

#[test]
fn commit_after_redoes_the_head_of_the_crashed_batch() {
    let (_, checks) = run(&scenario(
        "commit-after",
        "",
        1,
        r#"[{"at_ms":5200,"kind":"crash","node":"consumer-0"},{"at_ms":6200,"kind":"restart","node":"consumer-0"}]"#,
    ));
    let once = check(&checks, "effectively-once");
    assert!(!once.ok);
    // The same record (same offset), applied twice: a redo, not a producer duplicate.
    let d = &once.detail;
    let (first, again) = d.split_once(" and again from ").unwrap();
    assert_eq!(first.rsplit("from ").next().unwrap(), again, "{d}");
    for name in ["no-lost-ack", "no-gap", "monotonic-commits"] {
        assert!(check(&checks, name).ok, "{name}");
    }
}

#[test]
fn transactional_applies_each_offset_exactly_once_through_crashes() {
    let (w, checks) = run(&scenario("transactional", "", 1, FAULTS));
    for c in &checks {
        assert!(c.ok, "{}: {}", c.name, c.detail);
    }
    // Each partition's effects count equals its stored offset: every offset below it
    // applied, none twice.
    let s = sink(&w);
    for (p, &stored) in &s.stored {
        assert_eq!(s.applied.get(p).copied().unwrap_or(0), stored, "p{p}");
    }
    assert!(s.stored.values().sum::<u64>() > 1_000);
}

#[test]
fn plain_producer_retries_reorder_a_partition_and_idempotence_does_not() {
    let (w, checks) = run(&scenario("commit-after", "", 1, FAULTS));
    let order = check(&checks, "partition-order");
    assert!(!order.ok);
    assert!(order.detail.contains("landed after a later one"), "{}", order.detail);
    let retries: u64 =
        w.nodes().iter().filter_map(|n| if let Node::Producer(p) = n { Some(p.retries) } else { None }).sum();
    assert!(retries > 0);
    let (_, checks) = run(&scenario("transactional", "", 1, FAULTS));
    assert!(check(&checks, "partition-order").ok);
}

#[test]
fn acks_one_loses_acknowledged_writes_when_the_leader_dies() {
    let (w, checks) = run(&scenario("transactional", r#""acks":"1""#, 1, FAULTS));
    let lost = check(&checks, "no-lost-ack");
    assert!(!lost.ok);
    // The returning leader truncated records no follower had copied.
    assert!(brokers(&w).iter().any(|b| b.truncated > 0));
    let (_, checks) = run(&scenario("transactional", r#""acks":"all""#, 1, FAULTS));
    assert!(check(&checks, "no-lost-ack").ok);
}

#[test]
fn generation_fencing_keeps_commits_monotonic() {
    let pause = r#"[{"at_ms":4000,"kind":"pause","node":"consumer-0","for_ms":1500}]"#;
    let (_, checks) = run(&scenario("commit-after", r#""fence":false"#, 1, pause));
    let m = check(&checks, "monotonic-commits");
    assert!(!m.ok);
    assert!(m.detail.contains("Coordinator"), "{}", m.detail);
    let (w, checks) = run(&scenario("commit-after", r#""fence":true"#, 1, pause));
    assert!(check(&checks, "monotonic-commits").ok);
    assert!(controller(&w).refused_commits > 0, "the zombie's commits were refused");
}

#[test]
fn replicas_agree_below_the_high_watermark_and_retention_deletes() {
    let (w, _) = run(&scenario("transactional", "", 3, FAULTS));
    let bs = brokers(&w);
    for p in 0..4u32 {
        let hosts: Vec<&&broker::Broker> = bs.iter().filter(|b| b.logs.contains_key(&p)).collect();
        let start = hosts.iter().map(|b| b.logs[&p].log_start()).max().unwrap();
        let hw = hosts.iter().map(|b| b.hw[&p]).min().unwrap();
        assert!(hw > start, "p{p}: replicas caught up after the crashes");
        for o in start..hw {
            let ids: Vec<u64> = hosts.iter().map(|b| b.logs[&p].get(o).unwrap().value.id).collect();
            assert!(ids.windows(2).all(|x| x[0] == x[1]), "p{p}@{o}: {ids:?}");
        }
        assert!(hosts.iter().all(|b| b.logs[&p].log_start() > 0), "p{p}: retention deleted old segments");
    }
}

#[test]
fn transactional_is_clean_over_seeds_plain_and_with_swarm_faults() {
    let base = scenario("transactional", "", 1, FAULTS);
    for seed in 1..=12 {
        for swarm in [false, true] {
            let r = run_validated(&sweep_scenario(&base, seed, swarm), &BuildOptions::default()).unwrap();
            for c in &r.checks {
                assert!(c.ok, "seed {seed} swarm {swarm}: {}: {}", c.name, c.detail);
            }
        }
    }
}

#[test]
fn no_lost_ack_flags_a_replaced_or_skipped_write() {
    let mut c = NoLostAck::default();
    let t = SimTime::from_ms(1);
    assert!(c.observe(t, &Obs::Acked { p: 0, offset: 0, id: rec(0, 0).id }).is_none());
    let polled = |offset, r| Obs::Polled { consumer: 0, session: 1, p: 0, offset, rec: r };
    assert!(c.observe(t, &polled(0, rec(0, 0))).is_none());
    // Acknowledged at 1, but a consumer finds another message there.
    assert!(c.observe(t, &Obs::Acked { p: 0, offset: 1, id: rec(0, 1).id }).is_none());
    assert!(c.observe(t, &polled(1, rec(1, 0))).is_some());
    // Acknowledged at 2, consumers read 3 and never 2.
    let mut c = NoLostAck::default();
    c.observe(t, &Obs::Acked { p: 0, offset: 2, id: rec(0, 2).id });
    c.observe(t, &polled(3, rec(0, 3)));
    assert!(end_of(&mut c).is_some());
    assert_eq!(c.samples(), 0);
}

#[test]
fn partition_order_flags_a_backward_read_and_a_late_retry() {
    let t = SimTime::from_ms(1);
    let mut c = PartitionOrder::default();
    let polled = |session, offset, r| Obs::Polled { consumer: 0, session, p: 0, offset, rec: r };
    assert!(c.observe(t, &polled(1, 5, rec(0, 5))).is_none());
    assert!(c.observe(t, &polled(2, 3, rec(0, 3))).is_none(), "a new session may go back");
    assert!(c.observe(t, &polled(2, 3, rec(0, 3))).is_some(), "the same session may not");
    let mut c = PartitionOrder::default();
    assert!(c.observe(t, &polled(1, 0, rec(0, 1))).is_none());
    assert!(c.observe(t, &polled(1, 1, rec(0, 0))).is_some(), "seq 0 stored after seq 1");
}

#[test]
fn gap_duplicate_and_backward_commit_are_flagged() {
    let t = SimTime::from_ms(1);
    let mut g = NoGap::default();
    for o in [0, 1, 2, 4] {
        g.observe(t, &Obs::Applied { p: 0, offset: o, id: o });
    }
    g.observe(t, &Obs::Committed { p: 0, offset: 5, store: Store::Coordinator });
    let d = end_of(&mut g).unwrap();
    assert!(d.contains("offsets 3 "), "{d}");
    let mut e = EffectivelyOnce::default();
    assert!(e.observe(t, &Obs::Applied { p: 0, offset: 0, id: 9 }).is_none());
    assert!(e.observe(t, &Obs::Applied { p: 0, offset: 1, id: 9 }).is_some());
    let mut m = MonotonicCommits::default();
    assert!(m.observe(t, &Obs::Committed { p: 0, offset: 10, store: Store::Sink }).is_none());
    assert!(m.observe(t, &Obs::Committed { p: 0, offset: 7, store: Store::Sink }).is_some());
}

#[test]
fn views_and_estimates_follow_the_run() {
    let s = scenario("transactional", "", 1, "[]");
    let mut sim = s.build(&BuildOptions::default()).unwrap();
    sim.run_to_end();
    let views = sim.views();
    let crate::view::View::Log(log) = &views[0] else { panic!("first view is the partition logs") };
    assert_eq!(log.lanes.len(), 12, "4 partitions × 3 replicas");
    assert!(log.lanes.iter().all(|l| l.entries.len() <= 10 && l.committed <= l.entries.len()));
    let more = scenario("transactional", r#""partitions":8"#, 1, "[]");
    assert_ne!((DEF.estimates)(&s)[0].value, (DEF.estimates)(&more)[0].value);
}
