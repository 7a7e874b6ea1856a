//! The linearizability checker against published verdicts: the 102 Jepsen etcd histories
//! (verdicts from porcupine's test suite) and the jepsen-kv histories (`-ok` / `-bad`),
//! read in place from `../shared/data`.
#![cfg(not(target_arch = "wasm32"))]

use sdlab_core::blocks::lincheck::{self, ParsedHistory};
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
            seen += 1;
        }
    }
    assert_eq!(seen, 6);
}
