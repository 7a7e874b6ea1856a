//! `sdlab lincheck`: verdict lines, the failing window, JSON, and the exit codes (0 all
//! linearizable, 1 one is not, 2 unreadable input with a one-line reason).

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn sdlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sdlab")).args(args).output().unwrap()
}

/// A history written to a file of its own for this test run.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdlab-lincheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn log(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("INFO  jepsen.util - {l}\n")).collect()
}

/// Write 1, write 2, then a read that still sees 1: stale.
const STALE: &[&str] = &[
    "0\t:invoke\t:write\t1",
    "0\t:ok\t:write\t1",
    "1\t:invoke\t:write\t2",
    "1\t:ok\t:write\t2",
    "2\t:invoke\t:read\tnil",
    "2\t:ok\t:read\t1",
];

/// A write that timed out, seen by a later read: fine.
const LATE: &[&str] =
    &["0\t:invoke\t:write\t1", "0\t:info\t:write\t:timed-out", "1\t:invoke\t:read\tnil", "1\t:ok\t:read\t1"];

#[test]
fn verdicts_windows_and_exit_codes() {
    let late = file("late.log", &log(LATE));
    let stale = file("stale.log", &log(STALE));
    let kv = file(
        "kv.txt",
        "{:process 0, :type :invoke, :f :append, :key \"k\", :value \"a\"}\n\
         {:process 0, :type :ok, :f :append, :key \"k\", :value \"a\"}\n\
         {:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n\
         {:process 1, :type :ok, :f :get, :key \"k\", :value \"a\"}\n",
    );

    let out = sdlab(&["lincheck", late.to_str().unwrap(), kv.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.lines().count(), 2, "one verdict line per file: {text}");
    assert!(text.lines().all(|l| l.contains(": linearizable (")), "{text}");
    assert!(text.contains("append-kv"), "{text}");

    let out = sdlab(&["lincheck", late.to_str().unwrap(), stale.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // The window: the overwrite (lines 3-4) and the stale read (5-6); the first write is
    // not needed to see it.
    assert!(text.contains("stale.log: NOT linearizable"), "{text}");
    assert!(text.contains("shortest failing window: lines 3-6, from any state"), "{text}");
    let window: Vec<&str> = text.lines().skip_while(|l| !l.contains("cannot all hold")).skip(1).collect();
    assert_eq!(window.len(), 2, "{text}");
    assert!(window[0].contains("write 2") && window[1].contains("read → 1"), "{text}");

    let out = sdlab(&["lincheck", "--json", stale.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v[0];
    assert_eq!(
        (r["verdict"].as_str(), r["model"].as_str(), r["ops"].as_u64()),
        (Some("not-linearizable"), Some("register"), Some(3))
    );
    let w = &r["window"];
    assert_eq!(
        (w["first_line"].as_u64(), w["last_line"].as_u64(), w["proven_shortest"].as_bool()),
        (Some(3), Some(6), Some(true))
    );
    let exact: Vec<&str> =
        w["ops"].as_array().unwrap().iter().filter(|o| o["exact"] == true).map(|o| o["op"].as_str().unwrap()).collect();
    assert_eq!(exact, ["write 2", "read → 1"]);
}

#[test]
fn unreadable_input_exits_2_with_one_line() {
    let garbage = file("garbage.log", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nthis is not a history\n");
    let orphan = file("orphan.edn", "{:process 3, :type :ok, :f :get, :key \"1\", :value \"\"}\n");
    let ok = file("ok.log", &log(LATE));
    for (args, want) in [
        (vec!["lincheck", "/no/such/file.log"], "No such file"),
        (vec!["lincheck", ok.to_str().unwrap(), garbage.to_str().unwrap()], "line 2: not a Jepsen operation line"),
        (vec!["lincheck", orphan.to_str().unwrap()], "line 1: process 3 completes a call it never invoked"),
        (vec!["lincheck"], "required"),
    ] {
        let out = sdlab(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "no verdict before a bad file is refused: {args:?}");
    }
}

/// With the reference data: the published verdicts of a few etcd histories, and the
/// timing report.
#[test]
fn reference_histories_keep_their_verdicts() {
    let Some(data) = sdlab_core::shared_data::shared_data_dir() else { return };
    let etcd = data.join("jepsen-etcd");
    let table = std::fs::read_to_string(etcd.join("verdicts.tsv")).unwrap();
    let rows: Vec<(&str, &str)> = table.lines().filter_map(|l| l.split_once('\t')).take(6).collect();
    let files: Vec<String> = rows.iter().map(|(f, _)| etcd.join(f).to_str().unwrap().to_string()).collect();
    let mut args = vec!["lincheck", "--json", "--time", "--repeat", "1"];
    args.extend(files.iter().map(String::as_str));
    let out = sdlab(&args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for ((file, want), got) in rows.iter().zip(v.as_array().unwrap()) {
        assert_eq!(got["verdict"].as_str(), Some(*want), "{file}");
        assert!(got["seconds"].as_f64().is_some());
        assert_eq!(got["window"].is_object(), *want == "not-linearizable", "{file}");
    }
    let any_bad = rows.iter().any(|(_, v)| *v == "not-linearizable");
    assert_eq!(out.status.code(), Some(if any_bad { 1 } else { 0 }));
}
