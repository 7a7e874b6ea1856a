//! Tests of the feature-flag system: hashed bucketing against brute force (growing only
//! adds users, arms never move, shares match the percentage); evaluation order; each
//! naive strategy failing its check for its mechanism (a user flickering under a coin
//! flip, a poller still on the pre-kill version past the SLO); the streaming SDK's lease
//! (timed from the send, voided by a clock step back, failing a cut-off SDK closed); the
//! store applying a retried change once; seed sweeps; and both checks on hand-made
//! histories.

use super::checks::{BucketStability, KillSwitchSlo};
use super::flags::{self as fl, evaluate, Bucketing, Reason, FULL};
use super::msg::{Msg, Obs, Op};
use super::sdk::{Sdk, Updates};
use super::store::Store;
use super::*;
use crate::check::{CheckResult, Property};
use crate::metrics::Metrics;
use crate::sim::node::{Actor, Ctx, Effects};
use crate::sim::rng::Prng;
use crate::sim::time::SimTime;
use crate::system::{run_validated, sweep_scenario};

fn scenario(strategy: &str) -> Scenario {
    let mut spec = DEF.default_spec();
    spec.strategy = Some(strategy.to_string());
    Scenario::validate(&DEF, &spec).expect("valid default scenario")
}

fn failing(checks: &[CheckResult]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok).map(|c| c.name.clone()).collect()
}

fn ms(t: u64) -> SimTime {
    SimTime::from_ms(t)
}

/// Runs in 10 ms steps until `check` fails; the world at that point and the detail.
fn run_to_failure(s: &Scenario, check: &str) -> Option<(World<Node>, String)> {
    let mut w = build_world(s, &BuildOptions::default()).unwrap();
    let end_ms = w.horizon().as_ms() as u64;
    for t in (10..=end_ms + 10).step_by(10) {
        w.run_until(ms(t));
        if let Some(c) = w.checks().results().into_iter().find(|c| c.name == check && !c.ok) {
            return Some((w, c.detail));
        }
    }
    None
}

#[test]
fn hashed_buckets_only_add_users_as_the_percentage_grows() {
    let users = 20_000u32;
    let mut before: Vec<u32> = Vec::new();
    for pct in [1u32, 5, 10, 25, 50, 100] {
        let bp = pct * 100;
        let now: Vec<u32> = (0..users).filter(|&u| fl::bucket("new-checkout", u) < bp).collect();
        // Brute force: every user in at the smaller percentage is still in.
        assert!(before.iter().all(|u| now.binary_search(u).is_ok()), "a user left the rollout at {pct}%");
        let share = now.len() as f64 / f64::from(users);
        assert!((share - f64::from(pct) / 100.0).abs() < 0.012, "{pct}%: share {share}");
        before = now;
    }
    // Two flags at 10 % hold different users (the salt decorrelates them).
    let a: Vec<u32> = (0..users).filter(|&u| fl::bucket("new-checkout", u) < 1_000).collect();
    let both = a.iter().filter(|&&u| fl::bucket("search-v2", u) < 1_000).count();
    assert!(both < a.len() / 5, "{both} of {} users in both 10 % rollouts", a.len());
}

#[test]
fn widening_an_experiment_never_moves_a_user_between_arms() {
    let mut flag = fl::initial_flags()[fl::SEARCH as usize].clone();
    flag.rules.clear();
    let arm = |f: &fl::FlagConfig, u: u32| evaluate(f, &[], u, Bucketing::Hashed, || unreachable!());
    let narrow: Vec<(u8, Reason)> = (0..5_000).map(|u| arm(&flag, u)).collect();
    flag.pct_bp = 4_000;
    let mut counts = [0u32; 3];
    for u in 0..5_000u32 {
        let (v, r) = arm(&flag, u);
        if let (nv, Reason::Rollout(true)) = narrow[u as usize] {
            assert_eq!((v, r), (nv, Reason::Rollout(true)), "user {u} changed arm");
        }
        if r == Reason::Rollout(true) {
            counts[v as usize] += 1;
        }
    }
    // 50/25/25 of the ~2 000 users in.
    let total: u32 = counts.iter().sum();
    assert!((counts[0] as f64 / total as f64 - 0.5).abs() < 0.04, "{counts:?}");
    assert!((counts[1] as f64 / total as f64 - 0.25).abs() < 0.04, "{counts:?}");
}

#[test]
fn evaluation_order_is_off_target_rule_rollout() {
    let segs = fl::initial_segments();
    let mut f = fl::initial_flags()[fl::CHECKOUT as usize].clone();
    let eval = |f: &fl::FlagConfig, u: u32| evaluate(f, &segs, u, Bucketing::Hashed, || 0);
    assert_eq!(eval(&f, 42), (0, Reason::Target), "the opted-out customer");
    assert_eq!(eval(&f, 5), (1, Reason::Rule(0)), "an employee, at 0 %");
    assert_eq!(eval(&f, 500), (0, Reason::Rollout(false)), "nobody else at 0 %");
    f.pct_bp = FULL;
    assert_eq!(eval(&f, 500), (1, Reason::Rollout(true)));
    f.enabled = false;
    assert_eq!(eval(&f, 5), (0, Reason::Off), "off beats every rule");
    // The segment's attribute rule: a Dutch user is in beta-nl.
    let dutch = (100..).find(|&u| fl::country_of(u) == 0 && !fl::is_enterprise(u)).unwrap();
    let search = fl::initial_flags()[fl::SEARCH as usize].clone();
    assert_eq!(evaluate(&search, &segs, dutch, Bucketing::Hashed, || 0), (1, Reason::Rule(1)));
}

/// The coin flip: the run fails `bucket-stability` (and only it) because one user got
/// two different answers; the same user, bucketed by hash, gets one answer every time.
#[test]
fn a_coin_flip_per_request_makes_a_user_flicker() {
    let s = scenario("random-per-request");
    let r = run_validated(&s, &BuildOptions::default()).unwrap();
    assert_eq!(failing(&r.checks), vec!["bucket-stability"]);
    let (w, detail) = run_to_failure(&s, "bucket-stability").expect("the coin flip is caught");
    let user: u32 = detail
        .strip_prefix("user ")
        .and_then(|d| d.split(',').next())
        .and_then(|u| u.parse().ok())
        .expect("the detail names the user");
    let key = detail.split(", ").nth(1).and_then(|d| d.split(':').next()).unwrap().to_string();
    // Two answers named, and they differ.
    let served: Vec<&str> = detail.split('`').skip(1).step_by(2).collect();
    assert_eq!(served.len(), 2, "{detail}");
    assert_ne!(served[0], served[1], "{detail}");
    // The store's config of that flag, hashed a hundred times: one answer.
    let Some(Node::Store(st)) = w.nodes().iter().find(|n| matches!(n, Node::Store(_))) else { panic!() };
    let f = st.flags.iter().find(|f| f.key == key).unwrap();
    let answers: std::collections::BTreeSet<u8> =
        (0..100).map(|_| evaluate(f, &st.segments, user, Bucketing::Hashed, || 0).0).collect();
    assert_eq!(answers.len(), 1);
    // And the coin flip on the same config gives both, given enough requests.
    if f.pct_bp > 0 && f.pct_bp < FULL {
        let mut rng = Prng::new(7);
        let flips: std::collections::BTreeSet<u8> = (0..200)
            .map(|_| evaluate(f, &st.segments, user, Bucketing::Random, || rng.below(10_000) as u32).0)
            .collect();
        assert!(flips.len() >= 2, "{flips:?}");
    }
}

/// Polling: the SDK the check names is, past the SLO, still on a version before the
/// kill — it has not polled since.
#[test]
fn a_poller_serves_the_killed_flag_until_its_next_poll() {
    let s = scenario("polling");
    let r = run_validated(&s, &BuildOptions::default()).unwrap();
    assert_eq!(failing(&r.checks), vec!["kill-switch-slo"]);
    let (w, detail) = run_to_failure(&s, "kill-switch-slo").expect("the slow kill is caught");
    let who = detail.split(' ').next().unwrap();
    let kill_v: u64 = detail.split("(v").nth(1).and_then(|d| d.split(')').next()).unwrap().parse().unwrap();
    let names = w.node_names();
    let i = names.iter().position(|n| n == who).unwrap();
    let Node::Sdk(sdk) = &w.nodes()[i] else { panic!("{who} is not an SDK") };
    assert!(matches!(sdk.updates, Updates::Poll { every_ms: 5_000 }));
    assert!(sdk.version < kill_v, "{who} at v{} already has the kill v{kill_v}", sdk.version);
    let recs = &sdk.flags[fl::RECS as usize];
    assert!(recs.enabled, "its cache still has recs-model on");
    assert!(w.now() >= ms(p_kill(&s) + 1_000));
}

fn p_kill(s: &Scenario) -> u64 {
    s.params.int("kill_at_ms") as u64
}

/// Streaming with the default faults: sdk-0 is cut off from the store from 1 s before
/// the kill. Just past the SLO it still has the pre-kill version, but its lease has run
/// out and it serves recs-model off (fallback) — while release flags keep their values.
#[test]
fn a_cut_off_streaming_sdk_fails_closed_within_the_slo() {
    let s = scenario("streaming");
    let kill = p_kill(&s);
    let mut w = build_world(&s, &BuildOptions::default()).unwrap();
    w.run_until(ms(kill + 1_000));
    let Node::Sdk(cut) = &w.nodes()[1] else { panic!() };
    let Node::Store(st) = &w.nodes()[s.params.int("sdks") as usize + 1] else { panic!() };
    assert!(cut.version < st.version, "sdk-0 is behind the store");
    assert!(cut.flags[fl::RECS as usize].enabled, "it never heard of the kill");
    assert!(!cut.fresh(w.now()), "but its lease ran out");
    assert!(cut.fallbacks > 0);
    let Node::Sdk(other) = &w.nodes()[2] else { panic!() };
    assert_eq!(other.version, st.version, "a connected SDK has the kill");
    w.run_to_end();
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", w.checks().results());
}

fn ctx_parts() -> (Prng, Metrics, Effects<Msg, Obs>) {
    (Prng::new(1), Metrics::new(100), Effects::default())
}

#[test]
fn the_lease_runs_from_the_send_and_a_clock_step_back_voids_it() {
    let (lease_ms, keepalive_ms) = lease_of(1_000);
    assert_eq!((lease_ms, keepalive_ms), (600, 150));
    let mut sdk = Sdk::new(9, Updates::Stream { keepalive_ms, lease_ms }, Bucketing::Hashed, fl::initial_segments());
    let (mut rng, mut m, mut fx) = ctx_parts();
    let mut ctx = Ctx::detached(ms(100), 1, &mut rng, &mut m, &mut fx);
    sdk.on_start(&mut ctx); // sync nonce 1 sent at 100 ms
                            // The answer comes back 400 ms later (a slow link): the lease still starts at 100.
    let mut ctx = Ctx::detached(ms(500), 1, &mut rng, &mut m, &mut fx);
    let flags = Some(fl::initial_flags());
    sdk.on_message(9, Msg::State { nonce: 1, version: 3, flags }, &mut ctx);
    assert_eq!(sdk.confirmed, Some(ms(100)));
    assert!(sdk.fresh(ms(699)) && !sdk.fresh(ms(700)));
    // An answer to a sync nobody remembers confirms nothing.
    sdk.on_message(9, Msg::State { nonce: 77, version: 3, flags: None }, &mut ctx);
    assert_eq!(sdk.confirmed, Some(ms(100)));
    // The clock is stepped back by 300 ms: the next reading voids the lease.
    let mut ctx = Ctx::detached(ms(600), 1, &mut rng, &mut m, &mut fx);
    ctx.clock.skew(ms(600), -300_000, 0);
    sdk.on_message(0, Msg::Eval { user: 3 }, &mut ctx);
    assert_eq!(sdk.confirmed, None);
    let recs: Vec<(u8, Reason)> = fx
        .obs
        .iter()
        .filter_map(|o| match o {
            Obs::Evaluated { flag: fl::RECS, variant, reason, .. } => Some((*variant, *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(recs, vec![(0, Reason::Fallback)], "the kill-switch flag fails closed");
}

#[test]
fn a_patch_after_a_gap_is_not_applied_and_triggers_a_catch_up() {
    let mut sdk =
        Sdk::new(9, Updates::Stream { keepalive_ms: 150, lease_ms: 600 }, Bucketing::Hashed, fl::initial_segments());
    let (mut rng, mut m, mut fx) = ctx_parts();
    let mut ctx = Ctx::detached(ms(1), 1, &mut rng, &mut m, &mut fx);
    sdk.on_start(&mut ctx);
    sdk.on_message(9, Msg::State { nonce: 1, version: 3, flags: Some(fl::initial_flags()) }, &mut ctx);
    let killed = Op::Enable(false).apply(&fl::initial_flags()[2]);
    sdk.on_message(9, Msg::Patch { version: 5, flag: fl::RECS, config: killed.clone() }, &mut ctx);
    assert_eq!((sdk.version, sdk.gaps), (3, 1), "v4 is missing: v5 waits");
    sdk.on_message(9, Msg::Patch { version: 4, flag: fl::RECS, config: killed }, &mut ctx);
    assert_eq!(sdk.version, 4);
    let syncs = fx.sends.iter().filter(|(_, msg)| matches!(msg, Msg::Sync { .. })).count();
    assert_eq!(syncs, 2, "the first sync and the catch-up");
}

#[test]
fn the_store_applies_a_retried_change_once() {
    let mut st = Store::new(true);
    let (mut rng, mut m, mut fx) = ctx_parts();
    let mut ctx = Ctx::detached(ms(0), 5, &mut rng, &mut m, &mut fx);
    st.on_start(&mut ctx);
    st.on_message(1, Msg::Sync { nonce: 1, have: 0 }, &mut ctx);
    for _ in 0..2 {
        st.on_message(6, Msg::Change { id: 1, flag: fl::RECS, op: Op::Enable(false) }, &mut ctx);
    }
    assert_eq!(st.version, 4);
    assert_eq!(st.audited, 4, "three creations and one kill");
    st.on_crash();
    st.on_restart(&mut ctx);
    assert_eq!(st.version, 4, "the flags are on disk");
    let acks = fx.sends.iter().filter(|(to, msg)| *to == 6 && matches!(msg, Msg::Ack { id: 1, version: 4 })).count();
    assert_eq!(acks, 2);
    let patches = fx.sends.iter().filter(|(_, msg)| matches!(msg, Msg::Patch { .. })).count();
    assert_eq!(patches, 1);
    let commits = fx.obs.iter().filter(|o| matches!(o, Obs::Committed { .. })).count();
    assert_eq!(commits, 4, "the restart does not re-create the flags");
}

fn commit(v: u64, flag: u8, config: &fl::FlagConfig) -> Obs {
    Obs::Committed { version: v, flag, config: config.clone(), change: None }
}

fn served(sdk: u32, user: u32, flag: u8, version: u64, variant: u8) -> Obs {
    Obs::Evaluated { sdk, user, flag, version, variant, reason: Reason::Rollout(variant == 1) }
}

#[test]
fn bucket_stability_judges_by_version_within_epochs() {
    let names: Vec<String> = (0..4).map(|i| format!("n{i}")).collect();
    let mut f = fl::initial_flags()[0].clone();
    let mut p = BucketStability::new(names.clone());
    f.pct_bp = 1_000;
    assert!(p.observe(ms(0), &commit(1, 0, &f)).is_none());
    f.pct_bp = 2_000;
    assert!(p.observe(ms(1), &commit(2, 0, &f)).is_none());
    // On at v1, on at v2: fine. Off at v1 for another user then on at v2: fine (growth).
    assert!(p.observe(ms(2), &served(1, 7, 0, 1, 1)).is_none());
    assert!(p.observe(ms(3), &served(2, 7, 0, 2, 1)).is_none());
    assert!(p.observe(ms(4), &served(1, 8, 0, 1, 0)).is_none());
    assert!(p.observe(ms(5), &served(2, 8, 0, 2, 1)).is_none());
    // A lagging SDK serving user 8 off at v1 *after* the v2 answer is still fine.
    assert!(p.observe(ms(6), &served(3, 8, 0, 1, 0)).is_none());
    // But user 7 off at v2 is a flicker.
    let d = p.observe(ms(7), &served(3, 7, 0, 2, 0)).expect("on at v1, off at v2");
    assert!(d.contains("user 7") && d.contains("v1") && d.contains("v2"), "{d}");
    // A fallback answer is not a bucket decision.
    let fb = Obs::Evaluated { sdk: 3, user: 9, flag: 0, version: 2, variant: 0, reason: Reason::Fallback };
    assert!(p.observe(ms(8), &fb).is_none());
    // A rollback starts a new epoch: off at v3 after on at v2 is allowed.
    f.pct_bp = 500;
    assert!(p.observe(ms(9), &commit(3, 0, &f)).is_none());
    assert!(p.observe(ms(10), &served(1, 8, 0, 3, 0)).is_none());
    // A version the store never committed is caught.
    assert!(p.observe(ms(11), &served(1, 8, 0, 9, 0)).is_some());
    // Arms: same version, two different arms.
    let e = fl::initial_flags()[1].clone();
    let mut q = BucketStability::new(names);
    q.observe(ms(0), &commit(1, 1, &e));
    assert!(q.observe(ms(1), &served(0, 3, 1, 1, 2)).is_none());
    assert!(q.observe(ms(2), &served(1, 3, 1, 1, 1)).is_some(), "treatment-b then treatment-a");
}

#[test]
fn kill_switch_slo_judges_answers_against_the_commit_time() {
    let names: Vec<String> = (0..3).map(|i| format!("n{i}")).collect();
    let mut p = KillSwitchSlo::new(names, 1_000);
    let f = fl::initial_flags()[2].clone();
    p.observe(ms(0), &commit(3, 2, &f));
    let on = |_at: u64| served(1, 5, 2, 3, 1);
    assert!(p.observe(ms(500), &on(500)).is_none(), "nothing is killed yet");
    assert_eq!(p.samples(), 0);
    let off = Op::Enable(false).apply(&f);
    p.observe(ms(1_000), &commit(4, 2, &off));
    assert!(p.observe(ms(1_999), &on(1_999)).is_none(), "inside the SLO");
    let d = p.observe(ms(2_000), &on(2_000)).expect("on at the SLO");
    assert!(d.contains("1000.0 ms after") && d.contains("n1"), "{d}");
    p.observe(ms(3_000), &commit(5, 2, &f));
    assert!(p.observe(ms(3_500), &on(3_500)).is_none(), "switched on again");
    assert_eq!(p.samples(), 2);
}

/// The robust design under the default faults and swarm fault plans (the release sweep
/// runs 200 seeds of each).
#[test]
fn streaming_holds_every_check_over_seeds_plain_and_with_swarm_faults() {
    let base = scenario("streaming");
    for swarm in [false, true] {
        for seed in 1..=12 {
            let s = sweep_scenario(&base, seed, swarm);
            let r = run_validated(&s, &BuildOptions::default()).unwrap();
            assert!(failing(&r.checks).is_empty(), "seed {seed} swarm {swarm}: {:?}\n{}", r.checks, r.link);
            assert!(r.checks.iter().all(|c| c.samples > 0 || c.name == "event-budget"), "{:?}", r.checks);
        }
    }
}

#[test]
fn runs_are_deterministic_and_seeds_differ() {
    let s = scenario("streaming");
    let a = run_validated(&s, &BuildOptions::default()).unwrap();
    let b = run_validated(&s, &BuildOptions::default()).unwrap();
    assert_eq!(a.trace_hash, b.trace_hash);
    let mut t = s.clone();
    t.seed += 1;
    assert_ne!(run_validated(&t, &BuildOptions::default()).unwrap().trace_hash, a.trace_hash);
}

#[test]
fn the_plan_grows_rolls_back_and_kills() {
    let plan = admin::plan(5_000, 10_000, DURATION_MS);
    let checkout: Vec<&Op> = plan.iter().filter(|p| p.flag == fl::CHECKOUT).map(|p| &p.op).collect();
    assert_eq!(
        checkout,
        vec![
            &Op::Rollout(500),
            &Op::Rollout(1_250),
            &Op::Rollout(2_500),
            &Op::Rollout(5_000),
            &Op::Rollout(2_500),
            &Op::Rollout(5_000)
        ]
    );
    assert!(plan.iter().any(|p| p.at_ms == 10_000 && p.op == Op::Enable(false)));
    assert!(plan.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    // A kill too late to be fixed within the run stays killed.
    assert!(!admin::plan(5_000, 18_000, DURATION_MS).iter().any(|p| p.op == Op::Enable(true)));
}

#[test]
fn the_views_show_the_rollout_bar_sdk_versions_and_the_audit_log() {
    let mut w = build_world(&scenario("streaming"), &BuildOptions::default()).unwrap();
    w.run_until(ms(p_kill(&scenario("streaming")) + 1_000));
    let views = views::views(&w);
    assert_eq!(views.len(), 4);
    let crate::view::View::Table(bar) = &views[0] else { panic!("the rollout bar is a table") };
    let recs = bar.rows.iter().find(|r| r[0] == "recs-model").unwrap();
    assert!(recs[1].contains("OFF"), "{recs:?}");
    let checkout = bar.rows.iter().find(|r| r[0] == "new-checkout").unwrap();
    assert_eq!(checkout[2].chars().filter(|&c| c == '█').count(), 10, "50 % of a 20-cell bar");
    let crate::view::View::Table(sdks) = &views[2] else { panic!() };
    assert_eq!(sdks.rows.len(), 4);
    assert!(sdks.rows[0][3].contains("behind") && sdks.rows[0][4].contains("EXPIRED"), "{:?}", sdks.rows[0]);
    let crate::view::View::Log(audit) = &views[3] else { panic!() };
    assert!(audit.lanes[0].entries.iter().any(|e| e.contains("recs-model: KILL")));
    w.run_to_end();
    assert_eq!(views::views(&w).len(), 4);
}
