//! The views: worker lanes (one per worker, a span per execution: green when it
//! succeeded, amber when the sink fenced it off, red when the job failed; plus each
//! scheduler's leadership terms), the pipeline DAG as a tree and as a table of its rounds,
//! the leader's timing-wheel slots (entries per level, the slots in use, the overflow), and
//! the sink's recent executions with their tokens.

use super::msg::TaskRound;
use super::node::Node;
use super::table::{TaskTable, DAG};
use super::worker::End;
use crate::blocks::lease::token_text;
use crate::sim::world::World;
use crate::view::{Span, Table, Timeline, TimelineLane, Tree, TreeNode, View};
use std::sync::Arc;

fn columns(c: &[&str]) -> Vec<String> {
    c.iter().map(|s| s.to_string()).collect()
}

pub fn views(world: &World<Node>) -> Vec<View> {
    let names = world.node_names();
    let now_ms = world.now().as_ms();
    let table: Option<Arc<TaskTable>> = world.nodes().iter().find_map(|n| match n {
        Node::Scheduler(s) => Some(Arc::clone(&s.cfg.table)),
        _ => None,
    });
    let Some(table) = table else { return Vec::new() };
    let short = |tr: TaskRound| match table.kind(tr.task) {
        super::table::Kind::Pipeline(k) => format!("{}@{}", DAG[k].0, tr.round),
        _ => format!("t{}@{}", tr.task, tr.round),
    };
    let mut lanes = Vec::new();
    let mut wheel_rows = Vec::new();
    let mut sink_rows = Vec::new();
    let mut pipeline_rows = Vec::new();
    for (i, node) in world.nodes().iter().enumerate() {
        let name = names[i].clone();
        match node {
            Node::Scheduler(s) => {
                let spans = s
                    .terms
                    .iter()
                    .map(|t| Span {
                        start_ms: t.start_ms,
                        end_ms: t.end_ms.unwrap_or(now_ms),
                        label: format!("leader, epoch {}", t.epoch),
                        kind: "info".into(),
                    })
                    .collect();
                lanes.push(TimelineLane { name: name.clone(), spans });
                if let Some(w) = &s.wheel {
                    let (levels, overflow) = w.occupancy();
                    for (l, slots) in levels.iter().enumerate() {
                        let used = slots.iter().filter(|&&n| n > 0).count();
                        let entries: usize = slots.iter().sum();
                        let busiest = slots.iter().max().copied().unwrap_or(0);
                        let width_ms = (w.tick() as f64) * 64f64.powi(l as i32);
                        wheel_rows.push(vec![
                            name.clone(),
                            format!("level {l}"),
                            format!("{width_ms} ms"),
                            format!("{used} / 64"),
                            entries.to_string(),
                            busiest.to_string(),
                        ]);
                    }
                    wheel_rows.push(vec![
                        name.clone(),
                        "overflow".into(),
                        "—".into(),
                        "—".into(),
                        overflow.to_string(),
                        "—".into(),
                    ]);
                    wheel_rows.push(vec![
                        name.clone(),
                        "per pass".into(),
                        format!("{} ms tick", w.tick()),
                        format!("{} rows charged", s.last_rows),
                        format!("{} open runs", s.open()),
                        format!("{:.1} ms busy in all", s.busy_us as f64 / 1_000.0),
                    ]);
                }
                if !s.pipeline.is_empty() || s.wheel.is_some() {
                    let mut rounds: Vec<u64> = s.pipeline.keys().map(|tr| tr.round).collect();
                    rounds.dedup();
                    for round in rounds.into_iter().rev().take(6) {
                        let mut row = vec![format!("{round} ms")];
                        for k in 0..DAG.len() {
                            let tr = TaskRound { task: table.pipeline_task(k), round };
                            row.push(match s.pipeline.get(&tr) {
                                Some(true) => "✓".into(),
                                Some(false) => "gave up".into(),
                                None => "·".into(),
                            });
                        }
                        pipeline_rows.push(row);
                    }
                }
            }
            Node::Worker(w) => {
                let spans = w
                    .spans
                    .iter()
                    .map(|x| {
                        let (kind, what) = match x.end {
                            Some(End::Succeeded) => ("ok", "succeeded"),
                            Some(End::Failed) => ("bad", "job failed"),
                            Some(End::Fenced) => ("warn", "write fenced"),
                            Some(End::LeaseLost) => ("warn", "lease lost"),
                            Some(End::Unconfirmed) => ("info", "finish unconfirmed"),
                            Some(End::Crashed) => ("info", "lost in a crash"),
                            None => ("info", "running"),
                        };
                        Span {
                            start_ms: x.start_ms,
                            end_ms: x.end_ms.unwrap_or(now_ms),
                            label: format!("{} {}: {what}", short(x.tr), token_text(x.token)),
                            kind: kind.into(),
                        }
                    })
                    .collect();
                lanes.push(TimelineLane { name, spans });
            }
            Node::Sink(k) => {
                for r in k.rows.iter().rev().take(40) {
                    sink_rows.push(vec![
                        short(r.tr),
                        token_text(r.token),
                        names.get(r.worker as usize).cloned().unwrap_or_default(),
                        format!("{:.1}", r.first_ms),
                        format!("{:.1}", r.last_ms),
                        match r.result {
                            Some(true) => "succeeded".into(),
                            Some(false) => "failed".into(),
                            None => "—".into(),
                        },
                        r.refused.to_string(),
                    ]);
                }
            }
            Node::Coordinator(_) => {}
        }
    }
    let tree = Tree {
        title: "Pipeline DAG (a task runs once every parent of its round succeeded)".into(),
        nodes: DAG
            .iter()
            .map(|(name, parents)| TreeNode {
                id: (*name).into(),
                parent: parents.last().map(|&p| DAG[p].0.to_string()),
                label: if parents.len() > 1 {
                    format!("{name} (after {})", parents.iter().map(|&p| DAG[p].0).collect::<Vec<_>>().join(" + "))
                } else {
                    (*name).to_string()
                },
            })
            .collect(),
    };
    let mut pipeline_cols = vec!["round"];
    pipeline_cols.extend(DAG.iter().map(|(n, _)| *n));
    vec![
        View::Timeline(Timeline { title: "Worker lanes: executions and leadership".into(), lanes }),
        View::Tree(tree),
        View::Table(Table {
            title: "Pipeline rounds as the leader knows them".into(),
            columns: columns(&pipeline_cols),
            rows: pipeline_rows,
        }),
        View::Table(Table {
            title: format!("Leader's index: timing-wheel slots ({} tasks in the table)", table.len()),
            columns: columns(&["node", "level", "slot width", "slots used", "entries", "busiest slot"]),
            rows: wheel_rows,
        }),
        View::Table(Table {
            title: "Sink: recent executions (first and last accepted write, true ms)".into(),
            columns: columns(&["round", "token", "worker", "first", "last", "result", "refused writes"]),
            rows: sink_rows,
        }),
    ]
}
