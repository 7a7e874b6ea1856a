//! The rules. Each takes a system's definition and returns what is wrong with it, one
//! sentence per finding, naming the strategy, check or parameter at fault.

use sdlab_core::check::CheckResult;
use sdlab_core::scenario::link;
use sdlab_core::scenario::params::{ParamKind, ParamValue, Params};
use sdlab_core::scenario::show_me::{self, Claim};
use sdlab_core::scenario::{Scenario, ScenarioSpec};
use sdlab_core::sim::rng::Prng;
use sdlab_core::system::{run_validated, sweep_scenario, BuildOptions, RunReport, StrategyDef, SystemDef};
use std::collections::BTreeMap;

/// A naive strategy must fail some check within this many seeds, plain or with swarm faults.
pub const NAIVE_SEEDS: u64 = 50;
/// A default scenario must stay under this many events, so that sweeps stay affordable.
pub const MAX_DEFAULT_EVENTS: u64 = 1_500_000;
/// Events a bounds probe runs (a parameter at its minimum or maximum), enough to start
/// every node and fire the first faults.
pub const PROBE_EVENTS: u64 = 60_000;
/// The sections of the interview path every explainer walks (headings may add words).
pub const SECTIONS: &[&str] =
    &["Requirements", "Scope", "High-level design", "Deep dive", "Bottlenecks", "Trade-offs", "Follow-up questions"];

pub type Findings = Vec<String>;

/// The default scenario of `def` with `strategy`.
pub fn scenario(def: &'static SystemDef, strategy: &StrategyDef) -> Scenario {
    let mut spec = def.default_spec();
    spec.strategy = Some(strategy.id.to_string());
    Scenario::validate(def, &spec)
        .unwrap_or_else(|e| panic!("{}/{}: default scenario invalid: {e}", def.id, strategy.id))
}

fn run(s: &Scenario) -> Result<RunReport, String> {
    run_validated(s, &BuildOptions::default()).map_err(|e| e.to_string())
}

/// Same scenario, same hash: run twice, replayed from its own link, resumed from a snapshot
/// taken at a point drawn from the seed, and observed with a trace window. A new seed must
/// change the run. Returns the default runs for the other rules to reuse.
pub fn determinism(def: &'static SystemDef) -> (Findings, Vec<(&'static StrategyDef, RunReport)>) {
    let mut bad = Vec::new();
    let mut reports = Vec::new();
    for st in def.strategies {
        let s = scenario(def, st);
        let (a, b) = match (run(&s), run(&s)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                bad.push(format!("{}: the default scenario does not build: {e}", st.id));
                continue;
            }
        };
        if a.trace_hash != b.trace_hash || a.events != b.events {
            bad.push(format!("{}: two runs of one scenario differ ({} vs {})", st.id, a.trace_hash, b.trace_hash));
        }
        match sdlab_core::run::open_link(&a.link).map_err(|e| e.to_string()).and_then(|s| run(&s)) {
            Ok(r) if r.trace_hash == a.trace_hash => {}
            Ok(r) => {
                bad.push(format!("{}: replaying the run's own link gives {} not {}", st.id, r.trace_hash, a.trace_hash))
            }
            Err(e) => bad.push(format!("{}: the run's own link does not open: {e}", st.id)),
        }
        if let Some(h) = resumed_hash(&s, a.events) {
            if h != a.trace_hash {
                bad.push(format!("{}: a run resumed from a snapshot ends at {h}, not {}", st.id, a.trace_hash));
            }
        }
        let kept = run_validated(&s, &BuildOptions { keep_trace: 300, ..BuildOptions::default() });
        if kept.map(|k| k.trace_hash).ok().as_ref() != Some(&a.trace_hash) {
            bad.push(format!("{}: keeping a trace window changed the run", st.id));
        }
        let mut other = s.clone();
        other.seed += 1;
        if run(&other).is_ok_and(|c| c.trace_hash == a.trace_hash) {
            bad.push(format!(
                "{}: seed {} and {} give the same trace: the seed decides nothing",
                st.id, s.seed, other.seed
            ));
        }
        reports.push((st, a));
    }
    (bad, reports)
}

/// Snapshot at a point drawn from the scenario's seed, run the copy and the original to
/// the end: both must end where an uninterrupted run does (checked by the caller).
fn resumed_hash(s: &Scenario, events: u64) -> Option<String> {
    let mut sim = s.build(&BuildOptions::default()).ok()?;
    let at = Prng::new(s.seed).fork("snapshot").between(1, events.max(2));
    for _ in 0..at {
        if !sim.step() {
            break;
        }
    }
    let mut copy = sim.snapshot();
    sim.run_to_end();
    copy.run_to_end();
    let (h1, h2) = (sdlab_core::system::hash_hex(sim.trace_hash()), sdlab_core::system::hash_hex(copy.trace_hash()));
    Some(if h1 == h2 { h1 } else { format!("{h1} (original) / {h2} (copy)") })
}

/// Every check declared is the check the run reports, in order; every check is exercised
/// (more than zero samples) in some default scenario; no default run hits the event budget
/// or gets near it; no strategy silently runs the default strategy's design.
pub fn shape(def: &'static SystemDef, reports: &[(&'static StrategyDef, RunReport)]) -> Findings {
    let mut bad = Vec::new();
    let declared: Vec<&str> = def.checks.iter().map(|c| c.name).collect();
    let mut samples: BTreeMap<&str, u64> = declared.iter().map(|n| (*n, 0)).collect();
    for (st, r) in reports {
        let reported: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).filter(|n| *n != "event-budget").collect();
        if reported != declared {
            bad.push(format!("{}: the run reports checks {reported:?}, the definition declares {declared:?}", st.id));
        }
        for c in &r.checks {
            if let Some(n) = samples.get_mut(c.name.as_str()) {
                *n += c.samples;
            }
        }
        if r.checks.iter().any(|c| c.name == "event-budget") || r.events > MAX_DEFAULT_EVENTS {
            bad.push(format!(
                "{}: the default scenario takes {} events (at most {MAX_DEFAULT_EVENTS})",
                st.id, r.events
            ));
        }
    }
    for (name, n) in samples {
        if n == 0 {
            bad.push(format!("check `{name}` observed nothing in any default scenario: a vacuous check"));
        }
    }
    if let Some((_, first)) = reports.first() {
        for (st, r) in &reports[1..] {
            if r.trace_hash == first.trace_hash {
                bad.push(format!(
                    "{}: its default run is identical to {}'s: does the build fall back to the first design?",
                    st.id, def.strategies[0].id
                ));
            }
        }
    }
    bad
}

/// Runs every show-me line of the explainer and compares the outcome with its claim.
/// Returns the findings and the checks the lines verifiably fail (for `failability`).
pub fn show_me(def: &'static SystemDef) -> (Findings, Vec<String>) {
    let mut bad = Vec::new();
    let mut failed = Vec::new();
    let lines = show_me::lines(def.explainer);
    if lines.is_empty() {
        bad.push("the explainer has no Show me line".to_string());
    }
    for rest in lines {
        let (json, claim) = show_me::split(rest);
        let short: String = json.chars().take(90).collect();
        let Some(claim) = claim else {
            bad.push(format!(
                "Show me {short}…: states no outcome (add `=> fails CHECK`, `=> holds CHECK` or `=> all hold`)"
            ));
            continue;
        };
        let claim = match Claim::parse(claim) {
            Ok(c) => c,
            Err(e) => {
                bad.push(format!("Show me {short}…: {e}"));
                continue;
            }
        };
        let opened = link::parse_json(json).map_err(|e| e.to_string()).and_then(|spec: ScenarioSpec| {
            if spec.system == def.id {
                Scenario::validate(def, &spec).map_err(|e| e.to_string())
            } else {
                sdlab_core::run::open(&spec).map_err(|e| e.to_string())
            }
        });
        let report = match opened.and_then(|s| run(&s)) {
            Ok(r) => r,
            Err(e) => {
                bad.push(format!("Show me {short}…: does not run: {e}"));
                continue;
            }
        };
        match claim.judge(&report.checks) {
            Ok(()) => {
                if let (Claim::Fails(names), true) = (&claim, report.system == def.id) {
                    failed.extend(names.iter().cloned());
                }
            }
            Err(e) => bad.push(format!("Show me {short}…: {e}")),
        }
    }
    (bad, failed)
}

/// Checks that fail somewhere in a sweep of `strategy` (plain seeds first, then swarm).
pub fn caught(def: &'static SystemDef, strategy: &StrategyDef, seeds: u64) -> Vec<(String, String)> {
    let base = scenario(def, strategy);
    for swarm in [false, true] {
        let mut found = Vec::new();
        for seed in 1..=seeds {
            let s = sweep_scenario(&base, seed, swarm);
            if let Ok(r) = run(&s) {
                found.extend(failing(&r.checks).into_iter().map(|c| (c, r.link.clone())));
            }
            if !found.is_empty() {
                return found;
            }
        }
    }
    Vec::new()
}

/// The system's own checks that failed (running out of events is not a design's failure).
fn failing(checks: &[CheckResult]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok && c.name != "event-budget").map(|c| c.name.clone()).collect()
}

/// Every naive strategy fails some check within `NAIVE_SEEDS` seeds, and every declared
/// check is failed by a naive strategy or by a show-me scenario that claims it fails.
pub fn failability(def: &'static SystemDef, shown_failing: &[String]) -> Findings {
    let mut bad = Vec::new();
    let mut failed: Vec<String> = shown_failing.to_vec();
    for st in def.strategies.iter().filter(|s| !s.robust) {
        let found = caught(def, st, NAIVE_SEEDS);
        if found.is_empty() {
            bad.push(format!(
                "{}: naive, but no check failed in {NAIVE_SEEDS} seeds plain or with swarm faults",
                st.id
            ));
        }
        failed.extend(found.into_iter().map(|(c, _)| c));
    }
    for c in def.checks {
        if !failed.iter().any(|f| f == c.name) {
            bad.push(format!(
                "check `{}` is failed by no naive strategy and no show-me scenario: nothing shows it can fail",
                c.name
            ));
        }
    }
    bad
}

/// Values just past each parameter's bounds are refused with a message naming the
/// parameter; each bound itself (and each option) gives a scenario that validates, builds
/// with the default faults drawn for it, and runs, for every strategy.
pub fn bounds(def: &'static SystemDef) -> Findings {
    let mut bad = Vec::new();
    for p in def.params {
        let (outside, inside): (Vec<ParamValue>, Vec<ParamValue>) = match p.kind {
            ParamKind::Int { min, max, .. } => (
                vec![ParamValue::Int(min.saturating_sub(1)), ParamValue::Int(max.saturating_add(1))],
                vec![ParamValue::Int(min), ParamValue::Int(max)],
            ),
            ParamKind::Float { min, max, .. } => (
                vec![
                    ParamValue::Float(min - 1.0 - (max - min)),
                    ParamValue::Float(max + 1.0),
                    ParamValue::Float(f64::NAN),
                ],
                vec![ParamValue::Float(min), ParamValue::Float(max)],
            ),
            ParamKind::Bool { .. } => {
                (vec![ParamValue::Text("maybe".into())], vec![ParamValue::Bool(false), ParamValue::Bool(true)])
            }
            ParamKind::Choice { options, .. } => (
                vec![ParamValue::Text("no-such-option".into()), ParamValue::Int(1)],
                options.iter().map(|o| ParamValue::Text(o.to_string())).collect(),
            ),
        };
        for v in outside {
            let given = BTreeMap::from([(p.key.to_string(), v.clone())]);
            match Params::resolve(def.params, &given) {
                Ok(_) => bad.push(format!("parameter `{}` accepts {v}, outside its bounds", p.key)),
                Err(e) if !e.contains(p.key) => {
                    bad.push(format!("parameter `{}` = {v}: the error does not name it: {e}", p.key))
                }
                Err(_) => {}
            }
        }
        for v in inside {
            let given = BTreeMap::from([(p.key.to_string(), v.clone())]);
            let spec = match def.spec_with(given) {
                Ok(s) => s,
                Err(e) => {
                    bad.push(format!("parameter `{}` = {v} is inside its bounds but refused: {e}", p.key));
                    continue;
                }
            };
            for st in def.strategies {
                let mut spec = spec.clone();
                spec.strategy = Some(st.id.to_string());
                if let Err(e) = probe(def, &spec) {
                    bad.push(format!("{} with `{}` = {v}: {e}", st.id, p.key));
                }
            }
        }
    }
    bad
}

/// Validates, builds and runs the first `PROBE_EVENTS` events of a scenario.
fn probe(def: &'static SystemDef, spec: &ScenarioSpec) -> Result<(), String> {
    let s = Scenario::validate(def, spec).map_err(|e| format!("does not validate: {e}"))?;
    let opts = BuildOptions { budget: PROBE_EVENTS, ..BuildOptions::default() };
    let mut sim = s.build(&opts).map_err(|e| format!("does not build: {e}"))?;
    sim.run_to_end();
    if sim.events() == 0 {
        return Err("runs no event".into());
    }
    Ok(())
}

/// The explainer walks the interview path, and at least one estimate moves when a
/// parameter does.
pub fn page(def: &'static SystemDef) -> Findings {
    let mut bad = Vec::new();
    let headings: Vec<&str> = def.explainer.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    for want in SECTIONS {
        if !headings.iter().any(|h| h.starts_with(want)) {
            bad.push(format!("the explainer has no `## {want}` section"));
        }
    }
    let base = scenario(def, &def.strategies[0]);
    let before = (def.estimates)(&base);
    if before.is_empty() {
        bad.push("the page shows no estimate".to_string());
    }
    let moves = def.params.iter().any(|p| {
        let v = match p.kind {
            ParamKind::Int { min, max, default } => ParamValue::Int(if default == max { min } else { max }),
            ParamKind::Float { min, max, default } => ParamValue::Float(if default == max { min } else { max }),
            ParamKind::Bool { default } => ParamValue::Bool(!default),
            ParamKind::Choice { options, default } => {
                ParamValue::Text(options.iter().find(|o| **o != default).unwrap_or(&default).to_string())
            }
        };
        let given = BTreeMap::from([(p.key.to_string(), v)]);
        def.spec_with(given)
            .ok()
            .and_then(|spec| Scenario::validate(def, &spec).ok())
            .is_some_and(|s| (def.estimates)(&s) != before)
    });
    if !moves {
        bad.push("no estimate changes when a parameter does".to_string());
    }
    bad
}

/// Panics with every finding, grouped by system, if there are any.
pub fn assert_clean(rule: &str, findings: Vec<(&str, Findings)>) {
    let text: Vec<String> = findings
        .into_iter()
        .filter(|(_, f)| !f.is_empty())
        .map(|(id, f)| format!("{id}:\n  - {}", f.join("\n  - ")))
        .collect();
    assert!(text.is_empty(), "rule `{rule}` fails:\n{}", text.join("\n"));
}
