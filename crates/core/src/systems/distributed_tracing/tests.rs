//! Tests of the tracing system: each naive design failing for its mechanism (one-span
//! fragments without propagation, error traces never recorded under head sampling, a
//! buffer that grows or evicts error traces at its cap), tail sampling holding, and the
//! checks themselves on hand-made call records.

use super::checks::{CollectorMemory, CompleteTraces, ErrorTracesKept};
use super::collector::{sampled_by_id, Collector};
use super::msg::Obs;
use super::storage::Storage;
use super::*;
use crate::check::{CheckResult, Property, RunEnd};
use crate::metrics::Metrics;
use crate::scenario::show_me;
use crate::scenario::ScenarioSpec;
use crate::system::run_validated;

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

fn run(s: &Scenario) -> World<Node> {
    let mut w = build_world(s, &BuildOptions::default()).unwrap();
    w.run_to_end();
    w.finish();
    w
}

fn result(w: &World<Node>, check: &str) -> CheckResult {
    w.checks().results().into_iter().find(|c| c.name == check).unwrap()
}

fn storage(w: &World<Node>) -> &Storage {
    w.nodes().iter().find_map(|n| if let Node::Storage(s) = n { Some(s) } else { None }).unwrap()
}

fn collector(w: &World<Node>) -> &Collector {
    w.nodes().iter().find_map(|n| if let Node::Collector(c) = n { Some(c.as_ref()) } else { None }).unwrap()
}

/// Requests that failed with an injected error (pricing's own failures).
fn injected(w: &World<Node>) -> u64 {
    match &w.nodes()[PRICING as usize] {
        Node::Service(s) => s.failed,
        _ => unreachable!(),
    }
}

#[test]
fn strategies_parse_from_their_ids_only() {
    for st in DEF.strategies {
        assert!(Strategy::from_id(st.id).is_some(), "{}", st.id);
    }
    assert_eq!(Strategy::from_id("tail"), None);
}

/// Without propagation every stored trace is a single span with no parent: each service
/// started its own trace. The check names the spans the request really had.
#[test]
fn no_propagation_stores_one_span_fragments() {
    let w = run(&scenario("no-propagation"));
    let st = storage(&w);
    assert!(st.traces.len() > 50, "{} traces", st.traces.len());
    assert!(st.traces.values().all(|v| v.len() == 1 && v[0].parent.is_none()));
    let c = result(&w, "complete-traces");
    assert!(!c.ok);
    assert!(c.detail.contains("holds 1 of the 8 spans") && c.detail.contains("missing"), "{}", c.detail);
    // A failing request's spans exist in storage only as unrelated fragments, if at all.
    assert!(!result(&w, "error-traces-kept").ok);
}

/// Head sampling keeps whole traces, but only the sampled share of failing requests: the
/// stored error traces are far fewer than the requests pricing failed.
#[test]
fn head_sampling_drops_most_error_traces() {
    let w = run(&scenario("head-sampling"));
    assert!(result(&w, "complete-traces").ok, "{:?}", result(&w, "complete-traces"));
    let e = result(&w, "error-traces-kept");
    assert!(!e.ok && e.detail.contains("storage holds none"), "{}", e.detail);
    let stored_errors =
        storage(&w).traces.values().filter(|v| v.iter().any(|s| s.error && s.service == PRICING)).count() as u64;
    let failed = injected(&w);
    assert!(failed >= 5, "{failed} injected failures");
    assert!(stored_errors * 2 < failed, "{stored_errors} of {failed} error traces stored");
    // Roughly one request in ten is stored.
    let n = storage(&w).traces.len();
    assert!((40..=140).contains(&n), "{n} traces stored");
}

/// Tail sampling stores every failing request whole, and about the sampling share of the
/// rest, chosen by trace id.
#[test]
fn tail_sampling_keeps_every_error_trace_and_a_share_of_the_rest() {
    let w = run(&scenario("tail-sampling"));
    for c in w.checks().results() {
        assert!(c.ok && c.samples > 0, "{c:?}");
    }
    let st = storage(&w);
    let errors = st.traces.values().filter(|v| v.iter().any(|s| s.error && s.service == PRICING)).count() as u64;
    assert_eq!(errors, injected(&w));
    for (t, v) in &st.traces {
        assert!(v.iter().any(|s| s.error) || sampled_by_id(*t, 10), "a clean trace kept against its hash");
    }
    let clean = st.traces.values().filter(|v| !v.iter().any(|s| s.error)).count();
    assert!((40..=140).contains(&clean), "{clean} clean traces stored of ~800");
    let c = collector(&w);
    assert!(c.peak > 0 && c.peak < 4_000, "peak {}", c.peak);
}

/// At the cap, growing breaks the bound (the collector really held more than the cap),
/// evicting throws away traces that had an error span, deciding early keeps both.
#[test]
fn a_full_buffer_grows_evicts_or_decides_early() {
    let grow = run(&shown(6));
    assert!(collector(&grow).peak > 1_000, "peak {}", collector(&grow).peak);
    assert!(!result(&grow, "collector-memory").ok);
    let evict = run(&shown(7));
    assert!(collector(&evict).evicted_errors > 0);
    assert!(collector(&evict).peak <= 1_000);
    let e = result(&evict, "error-traces-kept");
    assert!(!e.ok, "{e:?}");
    let early = run(&shown(8));
    assert!(collector(&early).peak <= 1_000 && collector(&early).evicted_errors == 0);
    for c in early.checks().results() {
        assert!(c.ok, "{c:?}");
    }
}

/// The show-me lines claim what the runs do (the conformance suite checks all of them;
/// this one is the robust design under crashes, skew and loss).
#[test]
fn tail_sampling_survives_crashes_skew_and_loss() {
    let r = run_validated(&shown(9), &BuildOptions::default()).unwrap();
    assert!(r.checks.iter().all(|c| c.ok), "{:?}", r.checks);
}

fn end() -> (Metrics, SimTime) {
    (Metrics::new(100), SimTime::from_ms(10_000))
}

/// Hand-made record: request 1 → call 2 (auth) and call 3 (search) → call 4 (shard).
fn calls(p: &mut dyn Property<Obs>) {
    let at = SimTime::from_ms(1);
    p.observe(at, &Obs::Call { rpc: 1, parent: None });
    p.observe(at, &Obs::Call { rpc: 2, parent: Some(1) });
    p.observe(at, &Obs::Call { rpc: 3, parent: Some(1) });
    p.observe(at, &Obs::Call { rpc: 4, parent: Some(3) });
}

fn served(p: &mut dyn Property<Obs>, rpc: u64, span: u64, parent: Option<u64>, injected: bool) {
    let o = Obs::Served { rpc, service: rpc as u32, trace: 9, span, parent, exported: true, injected };
    p.observe(SimTime::from_ms(2), &o);
}

fn stored(p: &mut dyn Property<Obs>, trace: u128, span: u64, parent: Option<u64>) {
    p.observe(SimTime::from_ms(3), &Obs::Stored { trace, span, parent });
}

fn finish(p: &mut dyn Property<Obs>) -> Option<String> {
    let (m, now) = end();
    p.finish(&RunEnd { now, metrics: &m, disruption: None })
}

fn names() -> Vec<String> {
    ["client", "frontend", "auth", "search", "shard"].map(String::from).to_vec()
}

#[test]
fn complete_traces_judges_against_the_call_record() {
    let until = SimTime::from_ms(5_000);
    // Whole and correctly linked.
    let mut ok = CompleteTraces::new(names(), until);
    calls(&mut ok);
    for (rpc, span, parent) in [(1, 10, None), (2, 20, Some(10)), (3, 30, Some(10)), (4, 40, Some(30))] {
        served(&mut ok, rpc, span, parent, false);
        stored(&mut ok, 9, span, parent);
    }
    assert_eq!(finish(&mut ok), None);
    assert_eq!(ok.samples(), 1);
    // A span missing.
    let mut missing = CompleteTraces::new(names(), until);
    calls(&mut missing);
    for (rpc, span, parent) in [(1, 10, None), (2, 20, Some(10)), (3, 30, Some(10)), (4, 40, Some(30))] {
        served(&mut missing, rpc, span, parent, false);
        if rpc != 4 {
            stored(&mut missing, 9, span, parent);
        }
    }
    assert!(finish(&mut missing).unwrap().contains("missing shard"));
    // A wrong parent: the shard claims auth called it.
    let mut wrong = CompleteTraces::new(names(), until);
    calls(&mut wrong);
    for (rpc, span, parent) in [(1, 10, None), (2, 20, Some(10)), (3, 30, Some(10)), (4, 40, Some(20))] {
        served(&mut wrong, rpc, span, parent, false);
        stored(&mut wrong, 9, span, parent);
    }
    assert!(finish(&mut wrong).unwrap().contains("the span of shard"));
    // Search crashed mid-call: no span for it, and the shard's orphan is fine.
    let mut orphan = CompleteTraces::new(names(), until);
    calls(&mut orphan);
    for (rpc, span, parent) in [(1, 10, None), (2, 20, Some(10)), (4, 40, Some(30))] {
        served(&mut orphan, rpc, span, parent, false);
        stored(&mut orphan, 9, span, parent);
    }
    assert_eq!(finish(&mut orphan), None);
}

#[test]
fn error_traces_kept_needs_the_failure_and_its_callers_in_one_trace() {
    let until = SimTime::from_ms(5_000);
    let spans = [(1, 10, None), (3, 30, Some(10)), (4, 40, Some(30))];
    // The shard failed (injected); storage holds the whole chain in one trace.
    let mut ok = ErrorTracesKept::new(names(), until);
    calls(&mut ok);
    for (rpc, span, parent) in spans {
        served(&mut ok, rpc, span, parent, rpc == 4);
        stored(&mut ok, 9, span, parent);
    }
    assert_eq!(finish(&mut ok), None);
    assert_eq!(ok.samples(), 1);
    // Fragments: the same spans, each in its own trace.
    let mut split = ErrorTracesKept::new(names(), until);
    calls(&mut split);
    for (rpc, span, parent) in spans {
        served(&mut split, rpc, span, parent, rpc == 4);
        stored(&mut split, u128::from(span), span, parent);
    }
    assert!(finish(&mut split).unwrap().contains("in 3 traces"));
    // Nothing stored.
    let mut none = ErrorTracesKept::new(names(), until);
    calls(&mut none);
    for (rpc, span, parent) in spans {
        served(&mut none, rpc, span, parent, rpc == 4);
    }
    assert!(finish(&mut none).unwrap().contains("storage holds none"));
    // A request sent after the judging horizon is not judged.
    let mut late = ErrorTracesKept::new(names(), SimTime::ZERO);
    calls(&mut late);
    served(&mut late, 4, 40, Some(30), true);
    assert_eq!(finish(&mut late), None);
    assert_eq!(late.samples(), 0);
}

#[test]
fn collector_memory_tallies_what_went_in_and_out() {
    let mut m = CollectorMemory::new(3);
    let at = SimTime::ZERO;
    for _ in 0..3 {
        assert_eq!(m.observe(at, &Obs::Buffered { n: 1 }), None);
    }
    assert_eq!(m.observe(at, &Obs::Released { n: 2 }), None);
    assert_eq!(m.observe(at, &Obs::Buffered { n: 1 }), None);
    assert_eq!(m.observe(at, &Obs::Reset), None);
    for _ in 0..3 {
        assert_eq!(m.observe(at, &Obs::Buffered { n: 1 }), None);
    }
    assert!(m.observe(at, &Obs::Buffered { n: 1 }).unwrap().contains("4 spans"));
}

#[test]
fn estimates_follow_the_parameters() {
    let base = scenario("tail-sampling");
    let mut more = base.clone();
    more.params = Params::resolve(
        DEF.params,
        &std::collections::BTreeMap::from([("shards".to_string(), crate::scenario::params::ParamValue::Int(6))]),
    )
    .unwrap();
    let (a, b) = (estimates(&base), estimates(&more));
    assert_eq!(a[0].value, "8");
    assert_eq!(b[0].value, "11");
    assert_ne!(a.last().unwrap().value, b.last().unwrap().value);
}
