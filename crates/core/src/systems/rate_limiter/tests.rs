//! Tests: every strategy runs and replays; the naive ones fail the check they should; the
//! robust ones pass every check over seed sweeps with and without swarm faults; the
//! checkers agree with brute-force twins and bite; a golden trace pins the model down.

use super::checks::{NoStarvation, WindowBound};
use super::msg::{Outcome, Verdict};
use super::*;
use crate::check::CheckResult;
use crate::scenario::ScenarioSpec;
use crate::system::{run_validated, sweep_scenario};

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

#[test]
fn every_strategy_runs_and_replays_bit_for_bit() {
    for st in STRATEGIES {
        let s = scenario(st.id);
        let (a, b) = (run(&s), run(&s));
        assert_eq!(a.trace_hash, b.trace_hash, "{}", st.id);
        assert_eq!(a.events, b.events);
        assert!(a.events > 1_000 && a.events < 300_000, "{}: {} events", st.id, a.events);
        assert!(a.checks.iter().all(|c| c.samples > 0), "{}: a check was never exercised", st.id);
    }
}

#[test]
fn naive_strategies_break_the_window_bound_by_default() {
    for id in ["fixed-window", "get-then-set", "local-only"] {
        let r = run(&scenario(id));
        let bad = failing(&r.checks);
        assert!(bad.iter().any(|b| b.starts_with("window-bound")), "{id}: {bad:?}");
    }
}

fn sweep(strategy: &str, seeds: u64, swarm: bool) -> Vec<String> {
    let base = scenario(strategy);
    let mut out = Vec::new();
    for seed in 0..seeds {
        let r = run(&sweep_scenario(&base, seed, swarm));
        out.extend(failing(&r.checks).into_iter().map(|f| format!("{strategy} seed {seed} swarm {swarm}: {f}")));
    }
    out
}

#[test]
fn robust_strategies_pass_every_check_over_a_seed_sweep() {
    let mut bad = Vec::new();
    for st in STRATEGIES.iter().filter(|s| s.robust) {
        bad.extend(sweep(st.id, 40, false));
        bad.extend(sweep(st.id, 40, true));
    }
    assert!(bad.is_empty(), "{bad:#?}");
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
        ns.record(0, Outcome::Answered(Verdict::Allowed));
        ns.record(1, Outcome::Answered(if i % 2 == 0 { Verdict::Allowed } else { Verdict::Limited }));
        ns.record(1, Outcome::Answered(Verdict::Unavailable));
    }
    let v = ns.judge().expect("client 1 got half");
    assert!(v.starts_with("client-1 got 10 of 20"), "{v}");
    // Unanswered requests are shown, not judged.
    let mut ns = NoStarvation::new(0.9);
    for _ in 0..20 {
        ns.record(0, Outcome::Answered(Verdict::Allowed));
        ns.record(0, Outcome::Lost);
    }
    assert!(ns.judge().is_none());
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
        12      7.301ms gateway-2  <- store = 1
        13      8.006ms client-2   <- gateway-2 resp #1 Allowed
        14      8.017ms store      <- gateway-2 EXPIRE k3 1000ms
        15      9.586ms abuser     timer 0
        16     10.393ms gateway-2  <- abuser req #1 k0
        17     10.921ms client-0   timer 0
        18     11.055ms store      <- gateway-2 INCR k0
        19     11.667ms gateway-2  <- store = 1
        20     12.066ms gateway-2  <- client-0 req #1 k1
        21     12.270ms abuser     <- gateway-2 resp #1 Allowed
        22     12.504ms store      <- gateway-2 EXPIRE k0 1000ms
        23     12.801ms store      <- gateway-2 INCR k1
        24     13.376ms gateway-2  <- store = 1
        25     13.916ms store      <- gateway-2 EXPIRE k1 1000ms
        26     14.100ms client-0   <- gateway-2 resp #1 Allowed
        27     17.642ms client-2   timer 0
        28     18.797ms gateway-0  <- client-2 req #2 k3
        29     18.890ms client-0   timer 0
        30     19.414ms store      <- gateway-0 INCR k3
        31     19.432ms gateway-2  <- client-0 req #2 k1
        32     19.963ms gateway-0  <- store = 2
        33     20.583ms store      <- gateway-2 INCR k1
        34     20.636ms client-2   <- gateway-0 resp #2 Allowed
        35     21.345ms gateway-2  <- store = 2
        36     21.615ms client-1   timer 0
        37     22.137ms gateway-1  <- client-1 req #1 k2
        38     22.159ms client-0   <- gateway-2 resp #2 Allowed
        39     22.695ms store      <- gateway-1 INCR k2
    "#]]
    .assert_eq(&text);
}

/// Every "Show me" scenario in the explainer parses, runs, and shows what its answer says.
#[test]
fn explainer_scenarios_run_and_show_what_they_claim() {
    let links: Vec<&str> = EXPLAINER.lines().filter_map(|l| l.strip_prefix("Show me: ")).collect();
    assert!(links.len() >= 5);
    for json in links {
        let spec = crate::scenario::link::parse_json(json).expect("explainer JSON parses");
        let r = run(&Scenario::validate(&DEF, &spec).expect("explainer scenario is valid"));
        let bad = failing(&r.checks);
        let strategy = spec.strategy.clone().unwrap_or_default();
        let global = json.contains("global");
        match (strategy.as_str(), global) {
            ("fixed-window" | "get-then-set" | "local-only", _) => {
                assert!(bad.iter().any(|b| b.starts_with("window-bound")), "{json}: {bad:?}")
            }
            (_, true) => assert!(bad.iter().any(|b| b.starts_with("no-starvation")), "{json}: {bad:?}"),
            _ => assert!(bad.is_empty(), "{json}: {bad:?}"),
        }
    }
}

#[test]
fn views_draw_levels_outcomes_and_per_key_state() {
    for id in ["token-bucket", "local-sync", "local-only", "fixed-window"] {
        let mut sim = (DEF.build)(&scenario(id), &BuildOptions::default()).unwrap();
        sim.run_to_end();
        let views = sim.views();
        assert_eq!(views.len(), 3);
        let ok = views.iter().all(|v| match v {
            crate::view::View::Series(s) => s.lines.iter().any(|l| !l.values.is_empty()),
            crate::view::View::Table(t) => !t.rows.is_empty(),
            _ => false,
        });
        assert!(ok, "{id}: {views:?}");
        assert!(!sim.topology().nodes[0].label.is_empty());
    }
}
