//! Tests of the notification system: each naive design fails for the mechanism the
//! explainer names (read off the queue's, the API's and the providers' own state, not only
//! the verdict), the robust design holds on the same scenarios and over seed sweeps with
//! swarm faults, and each check flags hand-made violations.

use super::bits::Bits;
use super::checks::{owed, ExactlyOnce, FanoutSlo, OptOutRespected};
use super::msg::Obs;
use super::prefs::{marketing, transactional, Campaign, Channel, Prefs};
use super::*;
use crate::check::{CheckResult, Property, RunEnd};
use crate::metrics::Metrics;
use crate::scenario::{link, show_me};
use crate::sim::time::SimTime;
use crate::system::{run_validated, sweep_scenario};

fn from_json(json: &str) -> Scenario {
    Scenario::validate(&DEF, &link::parse_json(json).unwrap()).unwrap()
}

fn scenario(strategy: &str, params: &str, faults: &str) -> Scenario {
    from_json(&format!(
        r#"{{"version":1,"system":"notifications","strategy":"{strategy}","params":{{{params}}},"seed":1,"faults":[{faults}]}}"#
    ))
}

const WORKER_CRASH: &str =
    r#"{"at_ms":200,"kind":"crash","node":"worker-0"},{"at_ms":1000,"kind":"restart","node":"worker-0"}"#;

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

fn api(w: &World<Node>) -> &api::Api {
    w.nodes().iter().find_map(|n| if let Node::Api(a) = n { Some(a) } else { None }).unwrap()
}

fn queue(w: &World<Node>) -> &queue::Queue {
    w.nodes().iter().find_map(|n| if let Node::Queue(q) = n { Some(q) } else { None }).unwrap()
}

fn providers(w: &World<Node>) -> Vec<&provider::Provider> {
    w.nodes().iter().filter_map(|n| if let Node::Provider(p) = n { Some(p) } else { None }).collect()
}

/// Messages of campaign `c` the providers delivered, and how many its users were owed.
fn delivered_vs_owed(w: &World<Node>, s: &Scenario, c: u32) -> (u64, u64) {
    let got: u64 =
        providers(w).iter().flat_map(|p| p.delivered.iter()).filter(|(k, _)| k.0 == c).map(|(_, &n)| n).sum();
    let camp = marketing(c, s.params.int("users") as u32, s.params.int("utc_hour") as u32);
    let salt = salt(s.seed);
    let want = (0..camp.count)
        .map(|u| Channel::ALL.iter().filter(|&&ch| owed(&Prefs::of(salt, u), &camp, ch)).count() as u64)
        .sum();
    (got, want)
}

#[test]
fn inline_loop_forgets_the_rest_of_a_campaign_when_the_api_crashes() {
    let s = scenario(
        "inline-loop",
        r#""fail_pct":0"#,
        r#"{"at_ms":150,"kind":"crash","node":"api"},{"at_ms":950,"kind":"restart","node":"api"}"#,
    );
    let (w, checks) = run(&s);
    let (got, want) = delivered_vs_owed(&w, &s, 0);
    // About 50 ms of 4 ms chunks (100 users each) went out before the crash; nothing after.
    assert!(got > 0 && got < want / 10, "campaign 0: {got} of {want}");
    let (got1, want1) = delivered_vs_owed(&w, &s, 1);
    assert_eq!(got1, want1, "campaign 1 was accepted after the restart and fully sent");
    let c = check(&checks, "exactly-once");
    assert!(!c.ok && c.detail.contains("campaign #0"), "{}", c.detail);
    assert!(check(&checks, "opt-out-respected").ok);
}

#[test]
fn inline_loop_queues_campaigns_and_transactional_sends_behind_each_other() {
    let s = scenario("inline-loop", r#""fail_pct":0"#, "");
    let mut w = build_world(&s, &BuildOptions::default()).unwrap();
    // Campaign 1 is accepted at 1.1 s while campaign 0 (2 s of loop) is still running,
    // and every transactional send accepted meanwhile waits behind both.
    w.run_until(SimTime::from_ms(1_500));
    let a = api(&w);
    assert_eq!(a.work.front().map(|c| c.id), Some(0));
    assert!(a.work.iter().any(|c| c.id == 1));
    assert!(a.work.iter().any(|c| c.txn), "a transactional send waits in the loop");
    w.run_to_end();
    w.finish();
    let checks = w.checks().results();
    assert!(!check(&checks, "fanout-slo").ok);
    assert!(check(&checks, "exactly-once").ok, "no faults, no failures: slow but complete");
}

#[test]
fn fire_and_forget_loses_what_a_crashed_worker_held() {
    let s = scenario("fire-and-forget", r#""fail_pct":0"#, WORKER_CRASH);
    let (w, checks) = run(&s);
    let q = queue(&w);
    // The queue forgot every task when it handed it out: all "done", none redelivered.
    let st = q.stats[&(0, 0)];
    assert_eq!((st.done, st.redelivered), (st.total, 0));
    let (got, want) = delivered_vs_owed(&w, &s, 0);
    assert!(got < want, "campaign 0: {got} of {want}");
    let c = check(&checks, "exactly-once");
    assert!(!c.ok && c.detail.contains("never received"), "{}", c.detail);
}

#[test]
fn fire_and_forget_loses_every_rejected_provider_call() {
    let s = scenario("fire-and-forget", r#""fail_pct":10"#, "");
    let (w, checks) = run(&s);
    let lost: u64 = w.nodes().iter().map(|n| if let Node::Worker(x) = n { x.lost_requests } else { 0 }).sum();
    assert!(lost > 0);
    assert!(providers(&w).iter().all(|p| p.deduped == 0), "no keys, nothing deduplicated");
    assert!(!check(&checks, "exactly-once").ok);
}

#[test]
fn ack_retry_dedup_redelivers_retries_and_deduplicates_into_exactly_once() {
    let s = scenario("ack-retry-dedup", r#""fail_pct":10"#, WORKER_CRASH);
    let (w, checks) = run(&s);
    let redelivered: u32 = queue(&w).stats.values().map(|s| s.redelivered).sum();
    assert!(redelivered > 0, "worker-0's tasks went out again");
    assert!(providers(&w).iter().map(|p| p.deduped).sum::<u64>() > 0, "keys stopped the repeats");
    for c in 0..3 {
        let (got, want) = delivered_vs_owed(&w, &s, c);
        assert_eq!(got, want, "campaign {c}");
    }
    assert!(checks.iter().all(|c| c.ok), "{checks:?}");
}

#[test]
fn without_keys_a_lost_reply_becomes_a_duplicate() {
    let s = scenario("ack-retry-dedup", r#""fail_pct":10,"dedup":false"#, "");
    let (w, checks) = run(&s);
    assert!(providers(&w).iter().all(|p| p.deduped == 0));
    let (got, want) = delivered_vs_owed(&w, &s, 0);
    assert!(got > want, "campaign 0: {got} sent for {want} owed");
    let c = check(&checks, "exactly-once");
    assert!(!c.ok && c.detail.contains("a second time"), "{}", c.detail);
}

#[test]
fn quiet_hours_on_the_servers_clock_wake_users_east_of_utc() {
    let s = scenario("ack-retry-dedup", r#""quiet_clock":"server-utc""#, "");
    let (_, checks) = run(&s);
    let c = check(&checks, "opt-out-respected");
    assert!(!c.ok && c.detail.contains("quiet hours"), "{}", c.detail);
    assert!(check(&checks, "exactly-once").ok, "every owed user still got it once");
}

#[test]
fn robust_design_holds_over_seeds_plain_and_with_swarm_faults() {
    let base = scenario("ack-retry-dedup", r#""users":5000"#, "");
    for seed in 1..=6 {
        for swarm in [false, true] {
            let r = run_validated(&sweep_scenario(&base, seed, swarm), &BuildOptions::default()).unwrap();
            assert!(r.all_ok(), "seed {seed} swarm {swarm}: {:?}\n{}", r.checks, r.link);
        }
    }
}

#[test]
fn show_me_lines_parse() {
    for line in show_me::lines(EXPLAINER) {
        let (json, claim) = show_me::split(line);
        from_json(json);
        show_me::Claim::parse(claim.unwrap()).unwrap();
    }
}

// ---- the checks on hand-made histories -----------------------------------------------

fn end_of(p: &mut dyn Property<Obs>, ms: u64) -> Option<String> {
    let m = Metrics::new(100);
    p.finish(&RunEnd { now: SimTime::from_ms(ms), metrics: &m, disruption: None })
}

/// A delivery to users `first + i` for each `i` in `idx`.
fn delivered(c: &Campaign, ch: Channel, first: u32, idx: &[u32]) -> Obs {
    let mut users = Bits::new(64);
    for &i in idx {
        users.set(i);
    }
    Obs::Delivered { campaign: c.id, channel: ch, first, users }
}

/// The first `n` users owed campaign `c` on `ch`.
fn owed_users(c: &Campaign, ch: Channel, n: usize) -> Vec<u32> {
    (c.first..c.first + c.count).filter(|&u| owed(&Prefs::of(9, u), c, ch)).take(n).collect()
}

#[test]
fn exactly_once_flags_a_duplicate_at_once_and_a_missing_user_at_the_end() {
    let c = marketing(0, 64, 20);
    let users = owed_users(&c, Channel::Push, 64);
    let t = SimTime::from_ms(1);
    let mut p = ExactlyOnce::new(9, 1_000, &[], false);
    p.observe(t, &Obs::Accepted { campaign: c });
    assert_eq!(p.observe(t, &delivered(&c, Channel::Push, 0, &users[..1])), None);
    let dup = p.observe(t, &delivered(&c, Channel::Push, 0, &users[..2])).unwrap();
    assert!(dup.contains(&format!("user {}", users[0])) && dup.contains("second time"), "{dup}");
    // Everyone owed on push except the last; nobody on email.
    let mut q = ExactlyOnce::new(9, 1_000, &[], false);
    q.observe(t, &Obs::Accepted { campaign: c });
    q.observe(t, &delivered(&c, Channel::Push, 0, &users[..users.len() - 1]));
    let miss = end_of(&mut q, 10_000).unwrap();
    assert!(miss.contains("never received"), "{miss}");
    // Too close to the end to judge loss: holds.
    let mut r = ExactlyOnce::new(9, 1_000, &[], false);
    r.observe(t, &Obs::Accepted { campaign: c });
    assert_eq!(end_of(&mut r, 500), None);
}

#[test]
fn opt_out_flags_a_message_to_someone_not_owed_it() {
    let c = marketing(0, 64, 20);
    let not_owed = (0..64).find(|&u| !owed(&Prefs::of(9, u), &c, Channel::Push)).unwrap();
    let owed_u = owed_users(&c, Channel::Push, 1);
    let mut p = OptOutRespected::new(9);
    let t = SimTime::from_ms(1);
    p.observe(t, &Obs::Accepted { campaign: c });
    assert_eq!(p.observe(t, &delivered(&c, Channel::Push, 0, &owed_u)), None);
    let bad = p.observe(t, &delivered(&c, Channel::Push, 0, &[not_owed])).unwrap();
    assert!(bad.contains(&format!("user {not_owed}")), "{bad}");
    // SMS is not a channel of campaign 0 at all.
    assert!(p.observe(t, &delivered(&c, Channel::Sms, 0, &owed_u)).is_some());
}

#[test]
fn the_slo_judges_completion_time_of_sends_clear_of_faults() {
    let user = (0..64).find(|&u| Prefs::of(9, u).channels != 0).unwrap();
    let tx = transactional(5, user, 20);
    let ch =
        [Channel::Push, Channel::Sms, Channel::Email].into_iter().find(|&c| owed(&Prefs::of(9, user), &tx, c)).unwrap();
    let at = SimTime::from_ms(100);
    for (done_ms, windows, ok) in [(900, vec![], true), (1_200, vec![], false), (1_200, vec![(500, 600)], true)] {
        let mut p = FanoutSlo::new(9, 3_000, windows);
        p.observe(at, &Obs::Accepted { campaign: tx });
        p.observe(SimTime::from_ms(done_ms), &delivered(&tx, ch, user, &[0]));
        assert_eq!(end_of(&mut p, 10_000).is_none(), ok, "done at {done_ms}");
    }
}

#[test]
fn estimates_follow_the_parameters() {
    let small = scenario("ack-retry-dedup", r#""users":10000"#, "");
    let big = scenario("ack-retry-dedup", r#""users":1000000"#, "");
    let e1 = (DEF.estimates)(&small);
    let e2 = (DEF.estimates)(&big);
    assert_ne!(e1[0].value, e2[0].value);
    assert_ne!(e1[1].value, e2[1].value);
}

#[test]
fn views_aggregate_per_campaign_partition_and_worker() {
    use crate::view::View;
    let s = scenario("ack-retry-dedup", "", WORKER_CRASH);
    let (w, _) = run(&s);
    let views = views::views(&w);
    let View::Tree(t) = &views[0] else { panic!("tree first") };
    assert!(t.nodes.iter().any(|n| n.parent.is_none() && n.label.starts_with("campaign #0")));
    assert!(t.nodes.iter().any(|n| n.label.starts_with("partition 7")));
    assert!(t.nodes.iter().any(|n| n.label.starts_with("worker-")));
    assert!(t.nodes.iter().any(|n| n.label.starts_with("email: ")));
    // Bounded: campaigns × partitions × workers × channels at most, whatever the users.
    assert!(t.nodes.len() < 3 * 8 * 4 * 3 + 100);
    assert!(views.iter().any(|v| matches!(v, View::Series(_))));
}
