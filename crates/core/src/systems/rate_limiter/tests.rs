//! Tests: every strategy runs and replays; the naive ones fail the check they should; the
//! robust ones pass every check over seed sweeps with and without swarm faults; the
//! checkers agree with brute-force twins and bite; a golden trace pins the model down.

use super::checks::{NoStarvation, WindowBound};
use super::msg::{Outcome, Verdict};
use super::*;
use crate::check::CheckResult;
use crate::scenario::ScenarioSpec;
use crate::sim::node::Actor;
use crate::sim::time::SimDuration;
use crate::system::run_validated;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

fn scenario(strategy: &str) -> Scenario {
    let mut spec = DEF.default_spec();
    spec.strategy = Some(strategy.to_string());
    Scenario::validate(&DEF, &spec).expect("default scenario is valid")
}

fn with(strategy: &str, params: &[(&str, crate::scenario::params::ParamValue)]) -> Scenario {
    let mut spec: ScenarioSpec = DEF.default_spec();
    spec.strategy = Some(strategy.to_string());
    for (k, v) in params {
        spec.params.insert(k.to_string(), v.clone());
    }
    Scenario::validate(&DEF, &spec).expect("valid scenario")
}

fn failing(checks: &[CheckResult]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.detail)).collect()
}

fn run(s: &Scenario) -> crate::system::RunReport {
    run_validated(s, &BuildOptions::default()).expect("runs")
}

/// Brute-force twin of the window-bound checker: for every admission, count all
/// admissions of its key in the window that ends there (O(n²)).
fn brute(stamps: &[(u64, u32)], c: &Claim) -> Option<usize> {
    for (i, &(t, k)) in stamps.iter().enumerate() {
        let n = match c.span {
            crate::blocks::rate_limit::Span::Sliding => {
                stamps[..=i].iter().filter(|&&(s, kk)| kk == k && s + c.len_us >= t).count()
            }
            crate::blocks::rate_limit::Span::Aligned => {
                stamps[..=i].iter().filter(|&&(s, kk)| kk == k && s / c.len_us == t / c.len_us).count()
            }
        };
        if n as u64 > c.max {
            return Some(i);
        }
    }
    None
}

#[cfg(not(target_arch = "wasm32"))]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn window_bound_checker_matches_brute_force(
            gaps in proptest::collection::vec((0u64..300, 0u32..3), 1..200),
            max in 1u64..8,
            len in 1u64..2_000,
            aligned in any::<bool>(),
        ) {
            let mut t = 0;
            let stamps: Vec<(u64, u32)> = gaps.into_iter().map(|(g, k)| { t += g; (t, k) }).collect();
            let c = if aligned { Claim::aligned(len, max) } else { Claim::sliding(len, max) };
            let mut wb = WindowBound::new(vec![c], "twin");
            let fast = stamps.iter().position(|&(t, k)| wb.admit(t, k, false).is_some());
            prop_assert_eq!(fast, brute(&stamps, &c));
        }
    }
}

#[test]
fn window_bound_bites_and_skips_fail_open_windows() {
    let mut wb = WindowBound::new(vec![Claim::sliding(1_000, 2)], "test limiter");
    assert!(wb.admit(0, 7, false).is_none());
    assert!(wb.admit(500, 7, false).is_none());
    assert!(wb.admit(900, 8, false).is_none(), "other keys have their own windows");
    let v = wb.admit(1_000, 7, false).expect("three in [0, 1000] breaks ≤ 2");
    assert!(v.contains("key 7: 3 admitted"), "{v}");
    // A window holding a fail-open admission is reported, not judged.
    let mut wb = WindowBound::new(vec![Claim::sliding(1_000, 1)], "test limiter");
    assert!(wb.admit(0, 1, true).is_none());
    assert!(wb.admit(10, 1, false).is_none());
    assert!(wb.admit(5_000, 1, false).is_none());
    assert!(wb.admit(5_010, 1, false).is_some(), "judged again once the bypass left the window");
    let mut wb = WindowBound::new(vec![Claim::sliding(1_000, 1)], "test limiter");
    wb.admit(0, 1, true);
    wb.admit(10, 1, false);
    assert!(Property::summary(&wb).contains("not judged while fail-open"));
}

#[test]
fn no_starvation_bites() {
    let mut ns = NoStarvation::new(0.9);
    for i in 0..20 {
        ns.record(0, 10, Outcome::Answered(Verdict::Allowed));
        ns.record(1, 11, Outcome::Answered(if i % 2 == 0 { Verdict::Allowed } else { Verdict::Limited }));
        ns.record(1, 11, Outcome::Answered(Verdict::Unavailable));
    }
    let v = ns.judge().expect("client 1 got half");
    assert!(v.starts_with("client-1 got 10 of 20"), "{v}");
    // Unanswered requests are shown, not judged.
    let mut ns = NoStarvation::new(0.9);
    for _ in 0..20 {
        ns.record(0, 10, Outcome::Answered(Verdict::Allowed));
        ns.record(0, 10, Outcome::Lost);
        ns.record(0, 10, Outcome::Answered(Verdict::Unavailable));
    }
    assert!(ns.judge().is_none());
    // ...unless the store was up and busy: refusals by a full queue count, and so do
    // 503s a gateway later learned had queued past its timeout.
    let mut ns = NoStarvation::new(0.9);
    for i in 0..20 {
        ns.record(0, 10, Outcome::Answered(if i < 15 { Verdict::Allowed } else { Verdict::Busy }));
        ns.record(0, 10, Outcome::Answered(Verdict::Unavailable));
    }
    for _ in 0..5 {
        ns.record_late(10);
    }
    let v = ns.judge().expect("15 of 25 judged");
    assert!(v.contains("client-0 got 15 of 25 judged"), "{v}");
    assert!(v.contains("5 refused by the store's full queue, 5 timed out queueing"), "{v}");
}

#[test]
fn a_global_limit_starves_honest_clients_in_a_run() {
    use crate::scenario::params::ParamValue;
    let r = run(&with("token-bucket", &[("scope", ParamValue::Text("global".into()))]));
    let bad = failing(&r.checks);
    assert!(bad.iter().any(|b| b.starts_with("no-starvation")), "{bad:?}");
}

#[test]
fn fail_open_suspends_the_bound_and_says_so() {
    use crate::scenario::params::ParamValue;
    let mut s = with("sliding-log", &[("fail_mode", ParamValue::Text("open".into()))]);
    s.faults = vec![
        TimedFault {
            at_ms: 2_000,
            fault: Fault::Partition { a: vec!["store".into()], b: vec!["gateway".into()], one_way: false },
        },
        TimedFault { at_ms: 2_600, fault: Fault::Heal },
    ];
    let r = run(&s);
    let wb = r.checks.iter().find(|c| c.name == "window-bound").unwrap();
    assert!(wb.ok, "{}", wb.detail);
    assert!(wb.detail.contains("not judged while fail-open"), "{}", wb.detail);
}

#[test]
fn golden_trace_of_the_default_scenario() {
    let s = scenario("fixed-window");
    let mut sim = (DEF.build)(&s, &BuildOptions { keep_trace: 40, ..BuildOptions::default() }).unwrap();
    for _ in 0..40 {
        sim.step();
    }
    let text = crate::trace::render(&sim.recent_trace(), &sim.node_names());
    // expect-test strips common indentation, so drop the right-aligned padding first.
    let text: String = text.lines().map(|l| format!("{}\n", l.trim_start())).collect();
    expect_test::expect![[r#"
        9      5.415ms client-2   timer 0
        10      6.031ms gateway-2  <- client-2 req #1 k3
        11      6.764ms store      <- gateway-2 INCR k3
        12      8.764ms store      timer 0
        13      9.301ms gateway-2  <- store = 1
        14      9.586ms abuser     timer 0
        15     10.006ms client-2   <- gateway-2 resp #1 Allowed
        16     10.017ms store      <- gateway-2 EXPIRE k3 1000ms
        17     10.393ms gateway-2  <- abuser req #1 k0
        18     10.921ms client-0   timer 0
        19     11.055ms store      <- gateway-2 INCR k0
        20     12.017ms store      timer 0
        21     12.066ms gateway-2  <- client-0 req #1 k1
        22     12.678ms store      <- gateway-2 INCR k1
        23     14.017ms store      timer 0
        24     14.854ms gateway-2  <- store = 1
        25     15.457ms store      <- gateway-2 EXPIRE k0 1000ms
        26     15.589ms abuser     <- gateway-2 resp #1 Allowed
        27     16.017ms store      timer 0
        28     16.592ms gateway-2  <- store = 1
        29     17.132ms store      <- gateway-2 EXPIRE k1 1000ms
        30     17.316ms client-0   <- gateway-2 resp #1 Allowed
        31     17.642ms client-2   timer 0
        32     18.017ms store      timer 0
        33     18.797ms gateway-0  <- client-2 req #2 k3
        34     18.890ms client-0   timer 0
        35     19.414ms store      <- gateway-0 INCR k3
        36     19.432ms gateway-2  <- client-0 req #2 k1
        37     19.981ms store      <- gateway-2 INCR k1
        38     20.017ms store      timer 0
        39     21.615ms client-1   timer 0
    "#]]
    .assert_eq(&text);
}

#[test]
fn views_draw_levels_outcomes_and_per_key_state() {
    for id in ["token-bucket", "local-sync", "local-periodic-sync", "local-only", "fixed-window"] {
        let mut sim = (DEF.build)(&scenario(id), &BuildOptions::default()).unwrap();
        sim.run_to_end();
        let views = sim.views();
        assert_eq!(views.len(), 4);
        let ok = views.iter().all(|v| match v {
            // local-only never calls the store, so its queue stays empty.
            crate::view::View::Series(s) if id == "local-only" && s.title.starts_with("Store queue") => true,
            crate::view::View::Series(s) => s.lines.iter().any(|l| !l.values.is_empty()),
            crate::view::View::Table(t) => !t.rows.is_empty(),
            _ => false,
        });
        assert!(ok, "{id}: {views:?}");
        assert!(!sim.topology().nodes[0].label.is_empty());
    }
}

// ---- Mechanisms: each check fails for the reason the design causes. ----

/// Records every observation, for tests that look at what happened, not only at verdicts.
#[derive(Clone)]
struct Recorder(Rc<RefCell<Vec<(u64, Obs)>>>);

impl Property<Obs> for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        self.0.borrow_mut().push((at.micros(), obs.clone()));
        None
    }
    fn samples(&self) -> u64 {
        0
    }
}

/// Runs `s` to the end with the design's own checks, its nodes configured by `cfg_of(s)`
/// changed by `tweak` (the checks still hold it to the untweaked design's claims).
fn observed(s: &Scenario, tweak: impl FnOnce(&mut Cfg)) -> (World<Node>, Vec<(u64, Obs)>) {
    let mut cfg = cfg_of(s).unwrap();
    let mut props = checks_for(s, &cfg);
    tweak(&mut cfg);
    let log = Rc::new(RefCell::new(Vec::new()));
    props.push(Box::new(Recorder(log.clone())));
    let mut w = world(s, &BuildOptions::default(), cfg, props).unwrap();
    w.run_to_end();
    let obs = log.borrow().clone();
    (w, obs)
}

fn verdict(w: &World<Node>, name: &str) -> CheckResult {
    w.checks().results().into_iter().find(|c| c.name == name).unwrap()
}

fn the_store(w: &World<Node>) -> &store::Store {
    match &w.nodes()[0] {
        Node::Store(s) => s,
        _ => unreachable!("node 0 is the store"),
    }
}

/// Admissions of `key`: (time µs, through which gateway).
fn admissions(obs: &[(u64, Obs)], key: u32) -> Vec<(u64, NodeId)> {
    obs.iter()
        .filter_map(|(t, o)| match o {
            Obs::Admit { key: k, by, bypass: false } if *k == key => Some((*t, *by)),
            _ => None,
        })
        .collect()
}

/// The closed window `[t − len, t]` ending at an admission that holds the most of them.
fn busiest(stamps: &[(u64, NodeId)], len: u64) -> (u64, Vec<(u64, NodeId)>) {
    let mut best = (0, Vec::new());
    for &(t, _) in stamps {
        let inside: Vec<(u64, NodeId)> = stamps.iter().copied().filter(|&(s, _)| s <= t && s + len >= t).collect();
        if inside.len() > best.1.len() {
            best = (t, inside);
        }
    }
    best
}

/// get-then-set: the lost update itself. Two gateways read the same count `n` for the same
/// key:window and both wrote `n + 1`, so two admissions were counted once, and that window
/// admitted more than the limit.
#[test]
fn get_then_set_two_gateways_read_n_and_both_write_n_plus_one() {
    let s = scenario("get-then-set");
    let limit = s.params.int("limit") as usize;
    let w_us = s.params.int("window_ms") as u64 * 1_000;
    let (w, obs) = observed(&s, |_| {});
    let store = the_store(&w);
    assert!(!store.races.is_empty(), "no lost update caught");
    let over: Vec<&store::Race> = store
        .races
        .iter()
        .filter(|r| admissions(&obs, r.key).iter().filter(|(t, _)| t / w_us == r.window).count() > limit)
        .collect();
    let r = over.first().expect("a window with a lost update admitted more than the limit");
    assert_ne!(r.first, r.second, "two different gateways");
    assert!((1..=3).contains(&r.first) && (1..=3).contains(&r.second), "both are gateways: {r:?}");
    let bound = verdict(&w, "window-bound");
    assert!(!bound.ok && bound.detail.contains("each aligned"), "{}", bound.detail);
}

/// fixed-window: the boundary burst. In one window length, straddling the instant the
/// abuser's counter started afresh, the old counter's tail and the new counter's budget
/// together admit close to twice the limit (each counter alone stays within it).
#[test]
fn fixed_window_admits_about_twice_the_limit_across_a_counter_reset() {
    let s = scenario("fixed-window");
    let limit = s.params.int("limit") as usize;
    let w_us = s.params.int("window_ms") as u64 * 1_000;
    let (w, obs) = observed(&s, |_| {});
    let k0 = admissions(&obs, 0);
    let (end, inside) = busiest(&k0, w_us);
    assert!(inside.len() * 10 >= limit * 18, "only {} in the busiest window", inside.len());
    assert!(inside.len() <= 2 * limit, "more than two counters' worth: {}", inside.len());
    // The store restarted key 0's counter inside that window, and each side stayed within
    // the limit (admissions are stamped at the gateway, a queue's wait after the store).
    let lag = s.params.int("store_queue") as u64 * s.params.int("store_us") as u64 + 5_000;
    let resets: Vec<u64> = the_store(&w).resets.iter().filter(|(k, _)| *k == 0).map(|(_, at)| *at).collect();
    let reset = resets.iter().copied().find(|&r| r > end - w_us && r <= end).expect("a reset inside the window");
    let before = inside.iter().filter(|(t, _)| *t < reset).count();
    let after = inside.iter().filter(|(t, _)| *t > reset + lag).count();
    assert!(before <= limit && after <= limit && before + after + limit / 2 > limit, "{before} + {after}");
    assert!(!verdict(&w, "window-bound").ok);
}

/// local-only: every gateway keeps its own bucket within the bucket's bound, and a key
/// spread over N gateways gets about N times it.
#[test]
fn local_only_admits_n_times_the_limit_across_n_gateways() {
    let s = scenario("local-only");
    let n = s.params.int("gateways") as usize;
    let w_us = s.params.int("window_ms") as u64 * 1_000;
    let p = cfg_of(&s).unwrap().policy;
    let one = crate::blocks::rate_limit::bucket_bound(&p, w_us) as usize;
    let (w, obs) = observed(&s, |_| {});
    let (_, inside) = busiest(&admissions(&obs, 0), w_us);
    for g in 1..=n as NodeId {
        let here = inside.iter().filter(|(_, by)| *by == g).count();
        assert!(here <= one && here * 10 >= one * 9, "gateway {g}: {here} of its own {one}");
    }
    assert!(inside.len() > (n - 1) * one, "{} admitted, {n} × {one} possible", inside.len());
    assert!(!verdict(&w, "window-bound").ok);
}

/// The store runs one command at a time: the next starts when the last is done, the wait
/// shows in the reply, and a command that finds the queue full is refused with BUSY.
#[test]
fn store_serves_one_command_at_a_time_and_refuses_when_its_queue_is_full() {
    use crate::metrics::Metrics;
    use crate::sim::node::Effects;
    use crate::sim::rng::Prng;
    let s = with(
        "sliding-log",
        &[
            ("store_queue", crate::scenario::params::ParamValue::Int(2)),
            ("store_us", crate::scenario::params::ParamValue::Int(1_000)),
        ],
    );
    let mut store = store::Store::new(cfg_of(&s).unwrap());
    let (mut rng, mut metrics) = (Prng::new(1), Metrics::new(100));
    let mut fx: Effects<Msg, Obs> = Effects::default();
    let mut at = |t: u64, f: &mut dyn FnMut(&mut Ctx<'_, Msg, Obs>)| {
        fx = Effects::default();
        f(&mut Ctx::detached(SimTime(t), 0, &mut rng, &mut metrics, &mut fx));
        (fx.sends.clone(), fx.timers.clone())
    };
    // Four commands at once: one runs, two wait, the fourth is refused.
    let mut sent = Vec::new();
    for op in 1..=4 {
        let (sends, timers) = at(0, &mut |c| store.on_message(1, Msg::Eval { op, key: 5 }, c));
        sent.push((sends, timers));
    }
    assert_eq!(sent[0].1, vec![(SimDuration(1_000), 0)], "the first starts its service");
    assert!(sent[1].0.is_empty() && sent[1].1.is_empty() && sent[2].1.is_empty(), "two wait");
    assert!(matches!(sent[3].0[..], [(1, Msg::Busy { op: 4 })]), "{:?}", sent[3]);
    assert_eq!(store.depth(), 2);
    // Each completion answers one command, in order, and starts the next.
    for (op, t) in [(1u64, 1_000u64), (2, 2_000), (3, 3_000)] {
        let (sends, timers) = at(t, &mut |c| store.on_timer(0, c));
        match &sends[..] {
            [(1, Msg::EvalReply { op: o, queued_us, .. })] => {
                assert_eq!((*o, *queued_us), (op, t - 1_000), "FIFO, and the wait is reported")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(timers.len(), usize::from(op < 3));
    }
    assert_eq!((store.commands, store.shed), (3, 1));
}

/// A flood through a design that sends every request to the store fills its queue, and
/// honest clients' commands are refused behind the abuser's: no-starvation fails for that
/// reason. Atomic scripts behind gateways that shed the refused key (and keep one command
/// per key in flight) pass the same scenario with the store never near full.
#[test]
fn a_flood_that_reaches_the_store_starves_honest_clients_and_shedding_prevents_it() {
    for id in ["fixed-window", "get-then-set"] {
        let s = scenario(id);
        let (w, _) = observed(&s, |_| {});
        let ns = verdict(&w, "no-starvation");
        assert!(!ns.ok, "{id}: {}", ns.detail);
        let refused: u64 = w
            .nodes()
            .iter()
            .filter_map(|n| match n {
                Node::Client(c) if c.honest => Some(c.tally[4]),
                _ => None,
            })
            .sum();
        assert!(refused > 20, "{id}: honest requests refused by a full queue: {refused}");
        assert!(!ns.detail.contains(" 0 refused by the store's full queue"), "{id}: {}", ns.detail);
        assert_eq!(the_store(&w).deepest, s.params.int("store_queue") as usize, "{id}");
    }
    for st in STRATEGIES.iter().filter(|s| s.robust) {
        let s = scenario(st.id);
        let (w, _) = observed(&s, |_| {});
        assert!(verdict(&w, "no-starvation").ok, "{}", st.id);
        assert_eq!(the_store(&w).shed, 0, "{}: the store refused commands", st.id);
        let keys = s.params.int("clients") as usize + 1;
        assert!(the_store(&w).deepest <= s.params.int("gateways") as usize * keys, "{}", st.id);
        if matches!(plan_of(st.id), Some(Plan::Central(_))) {
            assert!(w.metrics.counter(gateway::SHED_LOCALLY) > 500, "{}: the flood was not shed", st.id);
        }
    }
}

/// A store queue longer than the gateways' timeout turns a flood into timeouts instead of
/// refusals: commands are answered after the gateway gave up. Gateways report those late
/// replies, so no-starvation still blames the queue rather than a fault.
#[test]
fn a_long_store_queue_times_honest_clients_out_and_the_check_says_so() {
    let s = with("fixed-window", &[("store_queue", crate::scenario::params::ParamValue::Int(2_000))]);
    let (w, obs) = observed(&s, |_| {});
    let late = obs.iter().filter(|(_, o)| matches!(o, Obs::Late { .. })).count();
    assert!(late > 50, "{late} late replies");
    let ns = verdict(&w, "no-starvation");
    assert!(!ns.ok && !ns.detail.contains(" 0 timed out queueing"), "{}", ns.detail);
    assert!(the_store(&w).deepest > 100);
}

/// local-periodic-sync keeps its stated bound — and needs all of it: the abuser's key goes
/// over the plain limit, but never past limit + (gateways − 1) × allowance.
#[test]
fn periodic_sync_goes_over_the_limit_but_stays_within_its_stated_bound() {
    let s = scenario("local-periodic-sync");
    let cfg = cfg_of(&s).unwrap();
    let (limit, w_us) = (cfg.policy.limit as usize, cfg.policy.window_us);
    let bound = limit + sync::overshoot(s.params.int("gateways") as u64, cfg.policy.limit, cfg.allowance) as usize;
    let (w, obs) = observed(&s, |_| {});
    let mut per_window: BTreeMap<u64, usize> = BTreeMap::new();
    for (t, _) in admissions(&obs, 0) {
        *per_window.entry(t / w_us).or_default() += 1;
    }
    let peak = per_window.values().copied().max().unwrap();
    assert!(peak > limit && peak <= bound, "peak {peak}, limit {limit}, bound {bound}");
    let wb = verdict(&w, "window-bound");
    assert!(wb.ok && wb.detail.contains(&format!("≤ {bound} in each aligned")), "{}", wb.detail);
}

/// The allowance is what holds the bound when syncs stop: cut the gateways off from the
/// store during the flood and, without it, each gateway spends the whole limit on its own
/// view; the window-bound check catches the overshoot past the stated bound. With it, the
/// same partition leaves the bound intact (gateways fail closed once the store goes quiet).
#[test]
fn periodic_sync_without_its_allowance_breaks_the_bound_under_a_partition() {
    let mut s = scenario("local-periodic-sync");
    s.faults = vec![
        TimedFault {
            at_ms: 1_900,
            fault: Fault::Partition { a: vec!["store".into()], b: vec!["gateway".into()], one_way: false },
        },
        TimedFault { at_ms: 3_300, fault: Fault::Heal },
    ];
    let (w, _) = observed(&s, |c| c.allowance = u64::MAX);
    let wb = verdict(&w, "window-bound");
    assert!(!wb.ok && wb.detail.starts_with("key 0:") && wb.detail.contains("≤ 60 in each aligned"), "{}", wb.detail);
    let (w, _) = observed(&s, |_| {});
    assert!(verdict(&w, "window-bound").ok, "{}", verdict(&w, "window-bound").detail);
}

#[test]
fn every_strategy_id_names_its_own_plan_and_nothing_else_parses() {
    let plans: Vec<Plan> = STRATEGIES.iter().map(|s| plan_of(s.id).unwrap_or_else(|| panic!("{}", s.id))).collect();
    for (i, a) in plans.iter().enumerate() {
        assert!(!plans[..i].contains(a), "two strategies run {a:?}");
    }
    assert_eq!(plan_of("local-periodic-sync"), Some(Plan::PeriodicSync));
    assert_eq!(plan_of("token-bucket"), Some(Plan::Central(crate::blocks::rate_limit::Algorithm::TokenBucket)));
    assert_eq!(plan_of("local-periodic"), None);
    assert_eq!(plan_of(""), None);
}
