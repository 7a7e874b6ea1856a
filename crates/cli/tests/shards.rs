//! A sweep split into four shards, run as four separate processes at once and merged,
//! gives byte for byte the report one process gives for the whole range — the property
//! that lets a Kubernetes Indexed Job or GNU `parallel` run sweeps with no coordinator.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const SWEEP: [&str; 8] =
    ["explore", "--system", "distributed-lock", "--strategy", "token-release", "--seed-range", "3..27", "--swarm"];

fn sdlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sdlab")).args(args).output().unwrap()
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdlab-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn four_shard_processes_merge_into_the_single_process_report() {
    let whole = sdlab(&[&SWEEP[..], &["--json"]].concat());
    assert_eq!(whole.status.code(), Some(1), "the naive lock fails somewhere in the range");
    let report: serde_json::Value = serde_json::from_slice(&whole.stdout).unwrap();
    let failing: Vec<u64> =
        report["violations"].as_array().unwrap().iter().map(|v| v["seed"].as_u64().unwrap()).collect();
    assert!(!failing.is_empty() && failing.len() < 24, "a mix of failing and clean seeds: {failing:?}");

    let dir = scratch();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let file = std::fs::File::create(dir.join(format!("shard-{i}.jsonl"))).unwrap();
            let shard = format!("{i}/4");
            Command::new(env!("CARGO_BIN_EXE_sdlab"))
                .args([&SWEEP[..], &["--shard", &shard, "--jsonl", "--jobs", "1"]].concat())
                .stdout(file)
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        child.wait().unwrap();
    }
    let files: Vec<String> = (0..4).map(|i| dir.join(format!("shard-{i}.jsonl")).display().to_string()).collect();
    for (i, f) in files.iter().enumerate() {
        let text = std::fs::read_to_string(f).unwrap();
        let seeds: Vec<u64> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seed"].as_u64().unwrap())
            .collect();
        assert_eq!(seeds, (3..27).filter(|s| s % 4 == i as u64).collect::<Vec<_>>(), "shard {i} ran its own seeds");
    }
    let file_args: Vec<&str> = files.iter().map(String::as_str).collect();
    let merged = sdlab(&[&["merge", "--json"][..], &file_args].concat());
    assert_eq!(merged.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&merged.stdout), String::from_utf8_lossy(&whole.stdout));

    // A missing shard shows as fewer seeds run; an overlapping one is refused.
    let three = sdlab(&[&["merge", "--json"][..], &file_args[..3]].concat());
    let three: serde_json::Value = serde_json::from_slice(&three.stdout).unwrap();
    assert_eq!(three["seeds_run"], 18);
    let twice = sdlab(&["merge", &files[0], &files[1], &files[0]]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("appears twice"));
    std::fs::remove_dir_all(dir).unwrap();
}
