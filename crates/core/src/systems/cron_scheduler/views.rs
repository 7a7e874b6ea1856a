//! The views: a timeline of fires per node (each scheduler's leadership terms and
//! dispatches, each worker's runs; red where a fire took effect more than once, amber where
//! the target turned an attempt away), the job registry with each job's next fire, the
//! target's recent effects and refusals, and the coordinator's lease and stored progress.

use super::jobs::{clock, Job, MS_PER_MINUTE};
use super::msg::{token_text, FireId, Outcome};
use super::node::Node;
use super::target::Record;
use crate::sim::world::World;
use crate::view::{Span, Table, Timeline, TimelineLane, View};
use std::collections::BTreeMap;

pub fn views(world: &World<Node>) -> Vec<View> {
    let names = world.node_names();
    let now_ms = world.now().as_ms();
    let records: BTreeMap<FireId, Record> = world
        .nodes()
        .iter()
        .find_map(|n| match n {
            Node::Target(t) => Some(t.records.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let jobs: Vec<Job> = world
        .nodes()
        .iter()
        .find_map(|n| match n {
            Node::Scheduler(s) => Some(s.cfg.jobs.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let label = |f: FireId| format!("{} {}", jobs.get(f.job as usize).map_or("?", |j| j.name), clock(f.minute));
    let doubled = |f: FireId| records.get(&f).is_some_and(|r| r.effects > 1);
    let mut lanes = Vec::new();
    let mut coord_rows = Vec::new();
    let mut target_rows = Vec::new();
    for (i, node) in world.nodes().iter().enumerate() {
        let lane_name = names[i].clone();
        match node {
            Node::Scheduler(s) => {
                let mut spans: Vec<Span> = s
                    .terms
                    .iter()
                    .map(|t| Span {
                        start_ms: t.start_ms,
                        end_ms: t.end_ms.unwrap_or(now_ms),
                        label: format!("leader, epoch {}", t.epoch),
                        kind: "info".into(),
                    })
                    .collect();
                for d in &s.spans {
                    let kind = match d.result {
                        "applied" if doubled(d.fire) => "bad",
                        "applied" => "ok",
                        "already done" | "fenced" | "skipped (late)" => "warn",
                        _ => "info",
                    };
                    let result = if d.result.is_empty() { "running" } else { d.result };
                    spans.push(Span {
                        start_ms: d.start_ms,
                        end_ms: d.end_ms.unwrap_or(now_ms),
                        label: format!("{} token {}: {result}", label(d.fire), token_text(d.token)),
                        kind: kind.into(),
                    });
                }
                lanes.push(TimelineLane { name: lane_name, spans });
            }
            Node::Worker(w) => {
                let spans = w
                    .spans
                    .iter()
                    .map(|r| {
                        let (kind, what) = match r.outcome {
                            Some(Outcome::Applied) if doubled(r.fire) => {
                                ("bad", "applied — a second effect".to_string())
                            }
                            Some(Outcome::Applied) => ("ok", "applied".to_string()),
                            Some(Outcome::Refused(why)) => ("warn", format!("refused: {why:?}").to_lowercase()),
                            Some(o) => ("info", format!("{o:?}").to_lowercase()),
                            None if r.end_ms.is_some() => ("info", "lost in a crash".to_string()),
                            None => ("info", "running".to_string()),
                        };
                        Span {
                            start_ms: r.start_ms,
                            end_ms: r.end_ms.unwrap_or(now_ms),
                            label: format!("{}: {what}", label(r.fire)),
                            kind: kind.into(),
                        }
                    })
                    .collect();
                lanes.push(TimelineLane { name: lane_name, spans });
            }
            Node::Coordinator(c) => {
                let holder = c
                    .lease
                    .lease
                    .map_or("—".to_string(), |l| names.get(l.holder as usize).cloned().unwrap_or_default());
                let progress: Vec<String> = jobs
                    .iter()
                    .zip(&c.cursors)
                    .map(|(j, &m)| if m < 0 { format!("{} —", j.name) } else { format!("{} {}", j.name, clock(m)) })
                    .collect();
                coord_rows.push(vec![
                    holder,
                    c.lease.lease.map_or("—".into(), |l| l.epoch.to_string()),
                    c.lease.lease.map_or("—".into(), |l| l.until.to_string()),
                    c.lease.epoch.to_string(),
                    c.locks.len().to_string(),
                    progress.join(", "),
                ]);
            }
            Node::Target(t) => {
                for r in t.log.iter().rev() {
                    target_rows.push(vec![
                        format!("{:.0}", r.at_ms),
                        label(r.fire),
                        names.get(r.worker as usize).cloned().unwrap_or_default(),
                        token_text(r.token),
                        r.what.clone(),
                    ]);
                }
            }
        }
    }
    let now_minute = (now_ms / MS_PER_MINUTE as f64).floor() as i64;
    let job_rows = jobs
        .iter()
        .enumerate()
        .map(|(j, job)| {
            let mut due = Vec::new();
            let mut k = -1;
            while let Some(n) = job.next_after(k).filter(|&n| n <= now_minute) {
                due.push(n);
                k = n;
            }
            let fire = |m: i64| FireId { job: j as u8, minute: m };
            let effects: u32 = due.iter().filter_map(|&m| records.get(&fire(m))).map(|r| r.effects).sum();
            let twice = due.iter().filter(|&&m| doubled(fire(m))).count();
            vec![
                job.name.to_string(),
                job.expr.clone(),
                job.next_after(now_minute).map_or("never".into(), clock),
                due.len().to_string(),
                effects.to_string(),
                twice.to_string(),
            ]
        })
        .collect();
    let columns = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        View::Timeline(Timeline { title: "Fires per node: leadership, dispatches, runs".into(), lanes }),
        View::Table(Table {
            title: "Job registry (one schedule minute = one simulated second)".into(),
            columns: columns(&["job", "expression", "next fire", "fires so far", "effects", "fires doubled"]),
            rows: job_rows,
        }),
        View::Table(Table {
            title: "Target: recent effects and refusals".into(),
            columns: columns(&["at ms", "fire", "worker", "token", "what"]),
            rows: target_rows,
        }),
        View::Table(Table {
            title: "Coordinator".into(),
            columns: columns(&["lease holder", "epoch", "expires (its clock)", "epochs issued", "locks", "progress"]),
            rows: coord_rows,
        }),
    ]
}
