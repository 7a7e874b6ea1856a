//! `deploy/sweep-job.yaml` is read as Kubernetes would read it and its command is run:
//! no cluster is reachable here, so the test checks the fields an Indexed Job depends on
//! and then runs the pod's own command line (with a small seed range) for one index.

use serde_yaml::Value;
use std::process::Command;

fn manifest() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/sweep-job.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_sweep_job_is_an_indexed_job_whose_shards_match_its_completions() {
    let m = manifest();
    assert_eq!(m["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(m["kind"].as_str(), Some("Job"));
    let spec = &m["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"), "JOB_COMPLETION_INDEX is set only in Indexed mode");
    let completions = spec["completions"].as_u64().unwrap();
    assert!(spec["parallelism"].as_u64().unwrap() <= completions);
    let pod = &spec["template"]["spec"];
    assert!(
        matches!(pod["restartPolicy"].as_str(), Some("Never" | "OnFailure")),
        "a Job's pods may not restart Always"
    );
    let containers = pod["containers"].as_sequence().unwrap();
    assert_eq!(containers.len(), 1);
    let script = containers[0]["args"][0].as_str().unwrap();
    assert!(
        script.contains(&format!("--shard \"${{JOB_COMPLETION_INDEX}}/{completions}\"")),
        "shard count = completions: {script}"
    );
    assert!(script.contains("--jsonl") && script.contains("/results/shard-${JOB_COMPLETION_INDEX}.jsonl"));
    // Exit 1 (violations found) must not fail the pod, or Kubernetes would retry a finding.
    assert!(script.contains("[ \"$code\" -eq 1 ]"));
    let mount = containers[0]["volumeMounts"][0]["mountPath"].as_str();
    assert_eq!(mount, Some("/results"));
}

#[test]
fn the_pods_command_line_runs_its_shard() {
    let m = manifest();
    let script = m["spec"]["template"]["spec"]["containers"][0]["args"][0].as_str().unwrap();
    // The `sdlab …` part, up to the redirection, split as the shell would (no quotes but the shard's).
    let command = script.split('>').next().unwrap().replace('"', "");
    let mut words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    assert_eq!(words.remove(0), "sdlab");
    let range = words.iter().position(|w| w == "--seed-range").unwrap() + 1;
    words[range] = "0..48".into();
    for w in &mut words {
        *w = w.replace("${JOB_COMPLETION_INDEX}", "5");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_sdlab")).args(&words).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    let seeds: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds, vec![5, 21, 37], "index 5 of 16 runs the seeds ≡ 5 (mod 16)");
}
