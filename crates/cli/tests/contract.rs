//! The CLI contract other tools rely on: output shapes and exit codes (0 all checks hold,
//! 1 a check failed, 2 bad input with a one-line reason on stderr).

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn sdlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sdlab")).args(args).output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn one_line_reason(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "stderr should be one line: {err:?}");
    err
}

#[test]
fn list_has_the_contract_shape() {
    let out = sdlab(&["list", "--json"]);
    assert!(out.status.success());
    let v = json(&out);
    let systems = v.as_array().unwrap();
    assert!(systems.len() >= 3);
    for s in systems {
        assert!(s["id"].is_string() && s["title"].is_string());
        for st in s["strategies"].as_array().unwrap() {
            assert!(st["id"].is_string() && st["robust"].is_boolean());
        }
        assert!(s["checks"].as_array().unwrap().iter().all(Value::is_string));
    }
}

#[test]
fn run_reports_and_exit_code_follows_checks() {
    let list = json(&sdlab(&["list", "--json"]));
    let sys = &list[0];
    let id = sys["id"].as_str().unwrap();
    let strategies = sys["strategies"].as_array().unwrap();
    let naive = strategies.iter().find(|s| !s["robust"].as_bool().unwrap()).unwrap()["id"].as_str().unwrap();
    let robust = strategies.iter().find(|s| s["robust"].as_bool().unwrap()).unwrap()["id"].as_str().unwrap();

    let out = sdlab(&["run", "--system", id, "--strategy", robust, "--seed", "3", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let r = json(&out);
    for key in ["system", "strategy", "seed", "events", "trace_hash", "metrics", "checks", "link"] {
        assert!(!r[key].is_null(), "missing {key}");
    }
    assert_eq!(r["seed"], 3);
    assert!(r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["name"].is_string() && c["ok"] == true && c["detail"].is_string()));

    // The link replays to the same hash.
    let again = json(&sdlab(&["run", "--link", r["link"].as_str().unwrap(), "--json"]));
    assert_eq!(again["trace_hash"], r["trace_hash"]);

    let out = sdlab(&["run", "--system", id, "--strategy", naive, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(json(&out)["checks"].as_array().unwrap().iter().any(|c| c["ok"] == false));
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for args in [
        &["run", "--system", "nope"][..],
        &["run", "--system", "url-shortener", "--strategy", "nope"],
        &["run", "--system", "url-shortener", "--set", "no_such_param=3"],
        &["run", "--link", "v1.%%%"],
        &["run", "--link", "v9.abc"],
        &["link", "decode", "garbage"],
        &["explore", "--system", "nope", "--seeds", "3"],
        &["run"],
    ] {
        let out = sdlab(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let reason = one_line_reason(&out);
        assert!(reason.starts_with("sdlab: "), "{reason}");
    }
    let out = sdlab(&["run", "--system", "url-shortener", "--set", "shards=1000000000"]);
    assert_eq!(out.status.code(), Some(2));
    let reason = one_line_reason(&out);
    assert!(reason.contains("out of range") || reason.contains("unknown parameter"), "{reason}");
}

#[test]
fn explore_reports_violations_with_links() {
    let list = json(&sdlab(&["list", "--json"]));
    let sys = &list[0];
    let id = sys["id"].as_str().unwrap();
    let naive = sys["strategies"].as_array().unwrap().iter().find(|s| !s["robust"].as_bool().unwrap()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = sdlab(&["explore", "--system", id, "--strategy", &naive, "--seeds", "5", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let r = json(&out);
    assert_eq!(r["seeds_run"], 5);
    let v = &r["violations"][0];
    assert!(v["seed"].is_u64() && v["check"].is_string() && v["link"].as_str().unwrap().starts_with("v2."));
    let out =
        sdlab(&["explore", "--system", id, "--strategy", &naive, "--seeds", "4", "--swarm", "--jobs", "1", "--json"]);
    let one = json(&out);
    let out =
        sdlab(&["explore", "--system", id, "--strategy", &naive, "--seeds", "4", "--swarm", "--jobs", "3", "--json"]);
    assert_eq!(json(&out), one, "results must not depend on --jobs");
}

#[test]
fn link_encode_and_decode_round_trip() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sdlab"))
        .args(["link", "encode"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(br#"{"version":1,"system":"url-shortener","seed":9}"#).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let link = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(link.starts_with("v2."));
    let back = json(&sdlab(&["link", "decode", &link]));
    assert_eq!(back["system"], "url-shortener");
    assert_eq!(back["seed"], 9);
}

/// Hardening item 9: a reader that closes the pipe early ends the CLI quietly.
#[test]
fn a_closed_pipe_ends_every_subcommand_quietly() {
    for args in [&["list"][..], &["list", "--json"], &["run", "--system", "distributed-lock", "--json"]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sdlab"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before anything is written
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.status.code().is_some_and(|c| c <= 1), "{args:?}: {:?}", out.status);
    }
}

/// Hardening item 10: a sweep whose seeds leave the valid range is refused, not wrapped.
#[test]
fn explore_refuses_a_seed_range_past_the_end() {
    for from in ["18446744073709551615", "9007199254740990"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sdlab"))
            .args(["explore", "--system", "distributed-lock", "--from", from, "--seeds", "3"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--from {from}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("leaves the seed range") || err.contains("is not a seed"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// Hardening item 3: a run where everything is down grants nothing and judges nothing; it
/// must not pass as green.
#[test]
fn a_run_that_judged_nothing_says_so_and_exits_non_zero() {
    let spec = r#"{"version":1,"system":"distributed-lock","strategy":"fencing","faults":[
        {"at_ms":0,"kind":"crash","node":"worker-0"},{"at_ms":0,"kind":"crash","node":"worker-1"},
        {"at_ms":0,"kind":"crash","node":"worker-2"}]}"#;
    let mut enc = std::process::Command::new(env!("CARGO_BIN_EXE_sdlab"))
        .args(["link", "encode"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    enc.stdin.take().unwrap().write_all(spec.as_bytes()).unwrap();
    let link = String::from_utf8(enc.wait_with_output().unwrap().stdout).unwrap();
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_sdlab")).args(["run", "--link", link.trim()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("[----] no-stale-write") && text.contains("not exercised"), "{text}");
    assert!(!text.contains("[FAIL]"), "nothing failed, nothing was judged: {text}");
}

/// Hardening item 11: usage errors are one line, and a negative seed is named as such.
#[test]
fn usage_errors_are_one_line_and_say_what_is_wrong() {
    for (args, want) in [
        (&["run", "--system", "distributed-lock", "--seed", "-1"][..], "is not a seed"),
        (&["run", "--sytem", "x"][..], "--system"),
        (&["run", "--system", "url-shortener", "--set", "id_space=18446744073709551615"][..], "out of range"),
        (&["run", "--system", "distributed-lock", "--set", "durable_counter=maybe"][..], "true or false"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sdlab")).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// Hardening item 1: `--set` redraws the default faults for the new parameters — two
/// workers get pauses on their own nodes, as long as `gc_pause_ms` says.
#[test]
fn default_faults_follow_the_parameters_set() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sdlab"))
        .args(["run", "--system", "distributed-lock", "--set", "workers=2", "--set", "gc_pause_ms=5000", "--json"])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let spec = sdlab_core::scenario::link::decode(v["link"].as_str().unwrap()).unwrap();
    assert!(!spec.faults.is_empty());
    for f in &spec.faults {
        match &f.fault {
            sdlab_core::sim::fault::Fault::Pause { node, for_ms } => {
                assert!(node == "worker-0" || node == "worker-1", "{node}");
                assert_eq!(*for_ms, 5_000);
            }
            other => panic!("unexpected default fault {other:?}"),
        }
    }
}

/// Hardening item 11: a bench range error names its flag; `link encode` speaks of the
/// scenario it was given, not of a link.
#[test]
fn bench_and_encode_errors_name_what_is_wrong() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sdlab")).args(["bench", "--nodes", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--nodes 1 is out of range"));
    let mut enc = std::process::Command::new(env!("CARGO_BIN_EXE_sdlab"))
        .args(["link", "encode"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    enc.stdin.take().unwrap().write_all(b"{\"version\":1,\"system\":3}").unwrap();
    let out = enc.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the scenario is not valid") && !err.contains("link"), "{err}");
}
