//! The linearizability checker against published verdicts: the 102 Jepsen etcd histories
//! (verdicts from porcupine's test suite) and the jepsen-kv histories (`-ok` / `-bad`),
//! read in place from `../shared/data`.
#![cfg(not(target_arch = "wasm32"))]

use sdlab_core::blocks::lincheck::{self, ParsedHistory, Window};
use sdlab_core::shared_data::shared_data_dir;

fn verdict(history: &ParsedHistory) -> bool {
    match history {
        ParsedHistory::Register(ops) => lincheck::check(&lincheck::Register, ops).unwrap().verdict.is_linearizable(),
        ParsedHistory::Kv(ops) => lincheck::check(&lincheck::AppendKv, ops).unwrap().verdict.is_linearizable(),
    }
}

#[test]
fn reproduces_every_etcd_verdict() {
    let Some(data) = shared_data_dir() else { return };
    let dir = data.join("jepsen-etcd");
    let table = std::fs::read_to_string(dir.join("verdicts.tsv")).unwrap();
    let mut wrong = Vec::new();
    let mut count = 0;
    for line in table.lines().filter(|l| !l.trim().is_empty()) {
        let (file, want) = line.split_once('\t').unwrap();
        let want = match want.trim() {
            "linearizable" => true,
            "not-linearizable" => false,
            other => panic!("{file}: unknown verdict {other}"),
        };
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let history = lincheck::parse_history(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(matches!(history, ParsedHistory::Register(_)), "{file} should be a register history");
        assert!(history.len() > 50, "{file}: only {} ops", history.len());
        if verdict(&history) != want {
            wrong.push(file.to_string());
        }
        count += 1;
    }
    assert_eq!(count, 102);
    assert!(wrong.is_empty(), "verdicts differ for {wrong:?}");
}

fn window(history: &ParsedHistory, max_steps: u64) -> Option<Window> {
    match history {
        ParsedHistory::Register(ops) => lincheck::shortest_failing_window(&lincheck::Register, ops, max_steps).unwrap(),
        ParsedHistory::Kv(ops) => lincheck::shortest_failing_window(&lincheck::AppendKv, ops, max_steps).unwrap(),
    }
}

/// Every violation has a witness, found and proven shortest within a modest budget, and
/// small: the contradiction sits in a short stretch of each history.
#[test]
fn every_etcd_violation_has_a_short_window() {
    let Some(data) = shared_data_dir() else { return };
    let dir = data.join("jepsen-etcd");
    let table = std::fs::read_to_string(dir.join("verdicts.tsv")).unwrap();
    let mut spans = Vec::new();
    for (file, want) in table.lines().filter_map(|l| l.split_once('\t')) {
        let history = lincheck::parse_history(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let w = window(&history, 200_000);
        assert_eq!(w.is_some(), want == "not-linearizable", "{file}");
        if let Some(w) = w {
            assert!(w.proven_shortest, "{file}");
            assert!(w.exact.len() >= 2 || w.from_start, "{file}: one call alone contradicts only the initial state");
            spans.push(w.span());
        }
    }
    spans.sort_unstable();
    assert_eq!(spans.len(), 79);
    assert!(spans[39] <= 10, "median span {} lines", spans[39]);
}

#[test]
fn reproduces_the_kv_labels() {
    let Some(data) = shared_data_dir() else { return };
    let dir = data.join("jepsen-kv");
    let mut seen = 0;
    for clients in ["c01", "c10", "c50"] {
        for (label, want) in [("ok", true), ("bad", false)] {
            let file = format!("{clients}-{label}.txt");
            let text = std::fs::read_to_string(dir.join(&file)).unwrap();
            let history = lincheck::parse_history(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(matches!(history, ParsedHistory::Kv(_)), "{file} should be a key-value history");
            assert_eq!(verdict(&history), want, "{file}");
            if clients != "c50" {
                assert_eq!(window(&history, 200_000).is_some(), !want, "{file}");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 6);
}

/// Keys are searched in turns: the 50-client bad history has keys whose search explodes
/// and keys that fail at once; the verdict must come from the latter, quickly.
#[test]
fn an_exploding_key_does_not_hide_a_failing_one() {
    let Some(data) = shared_data_dir() else { return };
    let text = std::fs::read_to_string(data.join("jepsen-kv/c50-bad.txt")).unwrap();
    let ParsedHistory::Kv(ops) = lincheck::parse_history(&text).unwrap() else { panic!("kv") };
    let report = lincheck::check_within(&lincheck::AppendKv, &ops, 2_000_000).unwrap();
    assert!(matches!(report.verdict, lincheck::Verdict::NotLinearizable { .. }), "{report:?}");
    assert!(report.steps < 500_000, "{report:?}");
    // Key "0" alone does not finish in the same budget.
    let key0: Vec<_> = ops.iter().filter(|o| o.key == "0").cloned().collect();
    let alone = lincheck::check_within(&lincheck::AppendKv, &key0, 2_000_000).unwrap();
    assert!(matches!(alone.verdict, lincheck::Verdict::GaveUp { .. }), "{alone:?}");
}
