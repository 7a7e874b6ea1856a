//! Tests of the task-scheduler system.

use super::*;
use crate::check::CheckResult;
use crate::scenario::link;

fn from_json(json: &str) -> Scenario {
    Scenario::validate(&DEF, &link::parse_json(json).unwrap()).unwrap()
}

fn run(s: &Scenario) -> (World<Node>, Vec<CheckResult>) {
    let mut w = build_world(s, &BuildOptions::default()).unwrap();
    w.run_to_end();
    w.finish();
    let checks = w.checks().results();
    (w, checks)
}

#[test]
fn probe_defaults() {
    for st in ["poll-table", "wheel-no-fencing", "wheel-fencing"] {
        let s = from_json(&format!(r#"{{"version":1,"system":"task-scheduler","strategy":"{st}","seed":1}}"#));
        let s = Scenario { faults: (DEF.default_faults)(&s.params), ..s };
        let (w, checks) = run(&s);
        eprintln!("{st}: {} events", w.events());
        for c in checks {
            eprintln!("  {} ok={} samples={} {}", c.name, c.ok, c.samples, c.detail);
        }
    }
}

#[test]
fn probe_dep() {
    for st in ["wheel-no-fencing", "wheel-fencing"] {
        for wk in 0..4 {
            for at in [4050, 4300, 6050] {
                let s = from_json(&format!(r#"{{"version":1,"system":"task-scheduler","strategy":"{st}","seed":1,"faults":[{{"at_ms":{at},"kind":"pause","node":"worker-{wk}","for_ms":500}}]}}"#));
                let (_, checks) = run(&s);
                let bad: Vec<String> = checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.detail)).collect();
                eprintln!("{st} worker-{wk} at {at}: {bad:?}");
            }
        }
    }
}
