//! The views of the distributed-lock system: a holder timeline (one lane per worker; a span
//! while it believes it holds the lock, turning red where it wrote after its lease ran out
//! and the storage accepted, amber where fencing refused it), the storage's recent writes
//! and refusals, and the lock servers' state.

use super::node::Node;
use crate::blocks::raft::Role;
use crate::sim::world::World;
use crate::view::{Span, Table, Timeline, TimelineLane, View};

pub fn views(world: &World<Node>) -> Vec<View> {
    let names = world.node_names();
    let now_ms = world.now().as_ms();
    let mut lanes = Vec::new();
    let mut storage_rows = Vec::new();
    let mut server_rows = Vec::new();
    for (i, node) in world.nodes().iter().enumerate() {
        let name = names[i].clone();
        match node {
            Node::Worker(w) => lanes.push(TimelineLane { name, spans: worker_spans(w, now_ms) }),
            Node::Storage(s) => {
                for r in s.log.iter().rev() {
                    let op = if r.write { format!("write {}", r.value) } else { "read".to_string() };
                    let verdict = if r.accepted { "accepted" } else { "rejected" };
                    let who = names.get(r.worker as usize).cloned().unwrap_or_default();
                    storage_rows.push(vec![
                        format!("{:.1}", r.at_ms),
                        who,
                        op,
                        r.token.to_string(),
                        verdict.to_string(),
                    ]);
                }
            }
            Node::Server(s) => {
                let (holder, token, until) = match s.key {
                    Some(k) => (
                        names.get(k.lease.worker as usize).cloned().unwrap_or_default(),
                        k.token.to_string(),
                        k.expires_local.to_string(),
                    ),
                    None => ("—".into(), "—".into(), "—".into()),
                };
                server_rows.push(vec![
                    name,
                    "server".into(),
                    holder,
                    token,
                    until,
                    s.counter.to_string(),
                    s.grants.to_string(),
                ]);
            }
            Node::Replica(r) => {
                let term = r.raft.term;
                let role = match r.raft.role {
                    Role::Leader => format!("leader t{term}"),
                    Role::Candidate => format!("candidate t{term}"),
                    Role::PreCandidate => format!("pre-candidate t{term}"),
                    Role::Follower => format!("follower t{term}"),
                };
                let (holder, token) = match r.state.holder {
                    Some((l, t)) => (names.get(l.worker as usize).cloned().unwrap_or_default(), t.to_string()),
                    None => ("—".into(), "—".into()),
                };
                let log = format!("{} (commit {})", r.raft.log.last_index(), r.raft.commit);
                server_rows.push(vec![
                    name,
                    role,
                    holder,
                    token,
                    "leader's timer".into(),
                    log,
                    r.state.grants.to_string(),
                ]);
            }
        }
    }
    let columns = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        View::Timeline(Timeline { title: "Who believes it holds the lock".into(), lanes }),
        View::Table(Table {
            title: "Storage: recent writes and refusals".into(),
            columns: columns(&["at ms", "worker", "op", "token", "verdict"]),
            rows: storage_rows,
        }),
        View::Table(Table {
            title: "Lock servers".into(),
            columns: columns(&["server", "role", "holder", "token", "expires (local)", "counter / log", "grants"]),
            rows: server_rows,
        }),
    ]
}

fn worker_spans(w: &super::worker::Worker, now_ms: f64) -> Vec<Span> {
    let mut spans = Vec::new();
    for s in &w.spans {
        let end = s.end_ms.unwrap_or(now_ms);
        let label = if s.token > 0 { format!("token {}", s.token) } else { "lock".to_string() };
        let cut = s.expiry_ms.min(end).max(s.start_ms);
        spans.push(Span { start_ms: s.start_ms, end_ms: cut, label: label.clone(), kind: "ok".into() });
        if end > cut {
            let kind = match (s.late, s.outcome) {
                (true, "accepted") => "bad",
                (true, _) => "warn",
                _ => "info",
            };
            let text = if s.outcome.is_empty() { "expired" } else { s.outcome };
            spans.push(Span {
                start_ms: cut,
                end_ms: end,
                label: format!("{label}: after expiry, {text}"),
                kind: kind.into(),
            });
        }
    }
    spans
}
