//! The views: the client history as a timeline (one lane per client, a span from call to
//! return labelled with the call and its answer; amber when abandoned, red for the calls of
//! the shortest failing window when `linearizable` fails), each replica's log tail with
//! terms and commit index, the keys as each replica holds them, and what the watchers saw.
//! Every view is bounded: the last calls, entries and events only.

use super::checks::parse_window;
use super::msg::{key_name, Cmd, KvState};
use super::node::Node;
use crate::blocks::raft::{Payload, Role};
use crate::sim::world::World;
use crate::view::{Log, LogLane, Span, Table, Timeline, TimelineLane, View};

/// Log entries shown per replica.
const LOG_TAIL: u64 = 24;

/// Width of the client timeline when no check has failed, in ms of simulated time.
const FOCUS_MS: f64 = 120.0;

fn detail_of(world: &World<Node>) -> String {
    world
        .checks()
        .results()
        .into_iter()
        .find(|c| c.name == "linearizable" && !c.ok)
        .map(|c| c.detail)
        .unwrap_or_default()
}

/// The calls a failure detail lists — "client-1 read → 7 [2985.500–2986.914]" — as
/// (client, what, call ms, return ms); a call still open ("…") ends where the window ends.
fn window_calls(detail: &str) -> Vec<(String, String, f64, f64)> {
    let Some((_, list)) = detail.split_once(" ms: ") else { return Vec::new() };
    let end = parse_window(detail).map_or(0.0, |(_, _, b)| b);
    list.split("; ")
        .filter_map(|op| {
            let (head, times) = op.rsplit_once(" [")?;
            let (who, what) = head.split_once(' ')?;
            let (a, b) = times.trim_end_matches(']').split_once('–')?;
            let a: f64 = a.parse().ok()?;
            Some((who.to_string(), what.to_string(), a, b.parse().unwrap_or(end)))
        })
        .collect()
}

/// The state machine of the replica furthest ahead: what "now" means for a cache.
fn newest_state(world: &World<Node>) -> Option<&KvState> {
    world
        .nodes()
        .iter()
        .filter_map(|n| match n {
            Node::Replica(r) => Some(&r.state),
            _ => None,
        })
        .max_by_key(|s| s.rev)
}

pub fn views(world: &World<Node>) -> Vec<View> {
    let names = world.node_names();
    let now_ms = world.now().as_ms();
    // The shortest failing window, if `linearizable` failed: its key and span.
    let window = world
        .checks()
        .results()
        .into_iter()
        .find(|c| c.name == "linearizable" && !c.ok)
        .and_then(|c| parse_window(&c.detail));
    // What the timeline shows: the failing window with a margin either side, or else the
    // last moments of the run; a whole run's calls would be one solid bar per client.
    let window_ops = window.as_ref().map(|_| window_calls(&detail_of(world))).unwrap_or_default();
    let focus = match &window {
        Some((_, a, b)) => {
            let pad = (b - a).max(FOCUS_MS / 8.0);
            (a - pad, b + pad)
        }
        None => ((now_ms - FOCUS_MS).max(0.0), now_ms),
    };
    let mut lanes = Vec::new();
    let mut logs = Vec::new();
    let mut keys = Vec::new();
    let mut watch_rows = Vec::new();
    for (i, node) in world.nodes().iter().enumerate() {
        let name = names[i].clone();
        match node {
            Node::Client(c) => {
                let (from, to) = focus;
                let mut spans: Vec<Span> = c
                    .calls
                    .iter()
                    .filter_map(|r| {
                        let start = r.call_us as f64 / 1_000.0;
                        let end = r.return_us.map_or(now_ms, |t| t as f64 / 1_000.0);
                        if end < from || start > to {
                            return None;
                        }
                        let kind = match r.outcome {
                            "ok" => "ok",
                            "unknown" => "warn",
                            _ => "info",
                        };
                        Some(Span {
                            start_ms: start.max(from),
                            end_ms: end.min(to),
                            label: r.text.clone(),
                            kind: kind.into(),
                        })
                    })
                    .collect();
                // The failing window's calls, from the check's own record (the client may
                // have moved past them), drawn over whatever the client still keeps.
                for (who, label, a, b) in &window_ops {
                    if *who == name {
                        spans.retain(|s| (s.start_ms - a.max(from)).abs() > 1e-3);
                        spans.push(Span {
                            start_ms: a.max(from),
                            end_ms: b.min(to),
                            label: label.clone(),
                            kind: "bad".into(),
                        });
                    }
                }
                spans.sort_by(|x, y| x.start_ms.total_cmp(&y.start_ms));
                lanes.push(TimelineLane { name, spans });
            }
            Node::Replica(r) => {
                let last = r.raft.log.last_index();
                let from = (r.raft.log.start() + 1).max(last.saturating_sub(LOG_TAIL - 1));
                let mut entries = Vec::new();
                let mut committed = 0;
                for idx in from..=last {
                    let Some(e) = r.raft.log.get(idx) else { continue };
                    let what = match &e.payload {
                        Payload::Noop => "no-op".to_string(),
                        Payload::Members(m) => format!("members {m:?}"),
                        Payload::Cmd(Cmd::Put { key, value, .. }) => format!("put {}={value}", key_name(*key)),
                        Payload::Cmd(Cmd::Cas { key, from, to, .. }) => format!("cas {} {from}→{to}", key_name(*key)),
                        Payload::Cmd(Cmd::Open { session, .. }) => format!("open session {:04x}", session & 0xffff),
                        Payload::Cmd(Cmd::Expire { session }) => format!("expire session {:04x}", session & 0xffff),
                    };
                    if idx <= r.raft.commit {
                        committed += 1;
                    }
                    entries.push(format!("{idx} · t{} · {what}", e.term));
                }
                let role = match r.raft.role {
                    Role::Leader => "leader",
                    Role::Candidate => "candidate",
                    Role::PreCandidate => "pre-candidate",
                    Role::Follower => "follower",
                };
                logs.push(LogLane {
                    name: format!(
                        "{name} ({role} t{}, commit {}, snapshot ≤{})",
                        r.raft.term,
                        r.raft.commit,
                        r.raft.log.start()
                    ),
                    entries,
                    committed,
                });
                let values: Vec<String> = r
                    .state
                    .items
                    .iter()
                    .map(|(k, item)| format!("{}={} (r{})", key_name(*k), item.value, item.mod_rev))
                    .collect();
                let lease = match r.lease_until {
                    Some(t) => format!("until {:.0} ms (its clock)", t.as_ms()),
                    None => "—".into(),
                };
                keys.push(vec![
                    name,
                    format!("r{}", r.state.rev),
                    values.join(", "),
                    r.state.sessions.len().to_string(),
                    r.subs.len().to_string(),
                    lease,
                    r.reads_served.to_string(),
                ]);
            }
            Node::Watcher(w) => {
                let newest = newest_state(world);
                let cache: Vec<String> = w
                    .cache
                    .iter()
                    .take(8)
                    .map(|(k, v)| match newest.and_then(|s| s.get(*k)) {
                        Some(now) if now != *v => format!("{}={v} (now {now})", key_name(*k)),
                        _ => format!("{}={v}", key_name(*k)),
                    })
                    .collect();
                let seen: Vec<String> = w
                    .seen
                    .iter()
                    .rev()
                    .take(8)
                    .map(|e| {
                        let v = e.value.map_or("deleted".to_string(), |v| v.to_string());
                        format!("r{} {}={v}", e.rev, key_name(e.key))
                    })
                    .collect();
                watch_rows.push(vec![
                    name,
                    w.prefix.name().to_string(),
                    names.get(w.replicas[w.at] as usize).cloned().unwrap_or_default(),
                    format!("r{}", w.last),
                    w.events.to_string(),
                    w.reconnects.to_string(),
                    cache.join(", "),
                    seen.join(", "),
                ]);
            }
        }
    }
    let columns = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        View::Timeline(Timeline {
            title: if window.is_some() {
                "Client calls around the shortest window with no linearization (red: its calls)".into()
            } else {
                format!("Client calls, call → return, last {FOCUS_MS} ms (amber: abandoned, outcome unknown)")
            },
            lanes,
        }),
        View::Log(Log { title: "Replica logs: index · term · command (last 24)".into(), lanes: logs }),
        View::Table(Table {
            title: "State machine per replica".into(),
            columns: columns(&["replica", "revision", "keys", "sessions", "watchers", "read lease", "reads served"]),
            rows: keys,
        }),
        View::Table(Table {
            title: "Watchers and their SDK caches (\"now\": the newest replica's value differs)".into(),
            columns: columns(&[
                "watcher",
                "prefix",
                "replica",
                "cached up to",
                "events",
                "reconnects",
                "cache",
                "latest events",
            ]),
            rows: watch_rows,
        }),
    ]
}
