//! The views: each recent transaction's state at the coordinator and at every participant
//! (the per-participant state machine: preparing → in doubt → (pre-committed) → committed
//! or aborted), a timeline of each participant's time in doubt (red where the
//! transaction's participants disagree), and the write-ahead logs side by side with their
//! durable prefix. The message sequence diagram comes from the trace, labelled by
//! `Msg::label`.

use super::coordinator::{Coordinator, Phase};
use super::msg::{CoordRec, PartRec, TxnId};
use super::node::Node;
use super::participant::{PState, Participant, Trail};
use crate::sim::world::World;
use crate::view::{Log, LogLane, Span, Table, Timeline, TimelineLane, View};
use std::collections::BTreeMap;

/// Transactions shown in the table.
const ROWS: usize = 14;
/// Records shown per log lane.
const LOG_ROWS: usize = 14;

pub fn views(world: &World<Node>) -> Vec<View> {
    let names = world.node_names();
    let now_ms = world.now().as_ms();
    let mut coordinator: Option<&Coordinator> = None;
    let mut parts: Vec<(String, &Participant)> = Vec::new();
    for (i, n) in world.nodes().iter().enumerate() {
        match n {
            Node::Coordinator(c) => coordinator = Some(c),
            Node::Participant(p) => parts.push((names[i].clone(), p)),
            Node::Client(_) => {}
        }
    }
    let mixed = mixed_outcomes(&parts);
    let mut views = vec![
        View::Table(state_table(coordinator, &parts, &mixed, now_ms)),
        View::Timeline(doubt_timeline(&parts, &mixed, now_ms)),
    ];
    views.push(View::Log(logs(coordinator, &parts)));
    views
}

/// Transactions some participant committed and another aborted.
fn mixed_outcomes(parts: &[(String, &Participant)]) -> BTreeMap<TxnId, bool> {
    let mut seen: BTreeMap<TxnId, (bool, bool)> = BTreeMap::new();
    for (_, p) in parts {
        for t in &p.trail {
            if let Some(c) = t.outcome {
                let e = seen.entry(t.txn).or_default();
                if c {
                    e.0 = true;
                } else {
                    e.1 = true;
                }
            }
        }
    }
    seen.into_iter().map(|(t, (c, a))| (t, c && a)).collect()
}

fn cell(p: &Participant, txn: TxnId, now_ms: f64) -> String {
    if let Some(a) = p.active.get(&txn) {
        let since = p.trail.iter().rev().find(|t| t.txn == txn).and_then(|t| t.prepared_ms);
        let doubt = since.map(|s| format!(" {:.0} ms", now_ms - s)).unwrap_or_default();
        let recovered = if a.recovered { " (recovered)" } else { "" };
        return match a.state {
            PState::Preparing => "preparing (forcing log)".into(),
            PState::Prepared => format!("in doubt{doubt}{recovered}"),
            PState::PreCommitting => "pre-committing".into(),
            PState::PreCommitted => format!("pre-committed{doubt}{recovered}"),
            PState::Committing => "committing (forcing log)".into(),
        };
    }
    let Some(t) = p.trail.iter().rev().find(|t| t.txn == txn) else { return "—".into() };
    let path = |t: &Trail| {
        let mut s = String::new();
        if t.prepared_ms.is_some() {
            s.push_str("prepared → ");
        }
        if t.precommitted_ms.is_some() {
            s.push_str("pre-committed → ");
        }
        s
    };
    match t.outcome {
        Some(c) => {
            let verdict = if c { "committed" } else { "aborted" };
            let how = if t.how.is_empty() { String::new() } else { format!(" ({})", t.how) };
            format!("{}{verdict}{how}", path(t))
        }
        None => format!("{}(lost in a crash)", path(t)),
    }
}

fn coordinator_cell(c: Option<&Coordinator>, txn: TxnId) -> String {
    let Some(c) = c else { return "—".into() };
    if let Some(t) = c.txns.get(&txn) {
        let n = t.work.len();
        return match t.phase {
            Phase::Collecting => format!("collecting votes {}/{n}", t.heard.len()),
            Phase::Deciding => "forcing decision".into(),
            Phase::PreCommitting => format!("pre-commit acks {}/{n}", t.heard.len()),
            Phase::Committing => format!("commit acks {}/{n}", t.heard.len()),
        };
    }
    match c.recent.iter().rev().find(|r| r.0 == txn) {
        Some((_, what)) => what.to_string(),
        None => "no record (presumed abort)".into(),
    }
}

fn state_table(
    coordinator: Option<&Coordinator>,
    parts: &[(String, &Participant)],
    mixed: &BTreeMap<TxnId, bool>,
    now_ms: f64,
) -> Table {
    // The most recently started transactions any participant saw.
    let mut first: BTreeMap<TxnId, f64> = BTreeMap::new();
    for (_, p) in parts {
        for t in &p.trail {
            let e = first.entry(t.txn).or_insert(t.first_ms);
            *e = e.min(t.first_ms);
        }
    }
    let mut order: Vec<(f64, TxnId)> = first.into_iter().map(|(t, at)| (at, t)).collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    order.truncate(ROWS);
    let rows = order
        .into_iter()
        .map(|(at, txn)| {
            let mut row = vec![txn.to_string(), format!("{at:.1}"), coordinator_cell(coordinator, txn)];
            row.extend(parts.iter().map(|(_, p)| cell(p, txn, now_ms)));
            let verdict = if mixed.get(&txn) == Some(&true) { "MIXED: not atomic" } else { "" };
            row.push(verdict.into());
            row
        })
        .collect();
    let mut columns = vec!["txn".to_string(), "started ms".into(), "coordinator".into()];
    columns.extend(parts.iter().map(|(n, _)| n.clone()));
    columns.push("verdict".into());
    Table { title: "Recent transactions: state at each node".into(), columns, rows }
}

fn doubt_timeline(parts: &[(String, &Participant)], mixed: &BTreeMap<TxnId, bool>, now_ms: f64) -> Timeline {
    let lanes = parts
        .iter()
        .map(|(name, p)| {
            let spans = p
                .trail
                .iter()
                .filter_map(|t| {
                    let start = t.prepared_ms?;
                    let end = t.decided_ms.unwrap_or(now_ms);
                    let (kind, what) = match t.outcome {
                        _ if mixed.get(&t.txn) == Some(&true) => ("bad", "mixed outcome"),
                        Some(true) => ("ok", "committed"),
                        Some(false) => ("info", "aborted"),
                        None => ("warn", "in doubt"),
                    };
                    Some(Span {
                        start_ms: start,
                        end_ms: end.max(start),
                        label: format!("{} {what}", t.txn),
                        kind: kind.into(),
                    })
                })
                .collect();
            TimelineLane { name: name.clone(), spans }
        })
        .collect();
    Timeline { title: "Time in doubt (vote yes → decision), per participant".into(), lanes }
}

fn part_rec(r: &PartRec) -> String {
    match r {
        PartRec::Prepared { txn, key, .. } => format!("prepared {txn} key {key}"),
        PartRec::PreCommitted { txn } => format!("pre-committed {txn}"),
        PartRec::Committed { txn } => format!("committed {txn}"),
        PartRec::Aborted { txn } => format!("aborted {txn}"),
    }
}

fn coord_rec(r: &CoordRec) -> String {
    match r {
        CoordRec::Commit { txn, participants } => format!("commit {txn} ({} parts)", participants.len()),
        CoordRec::PreCommit { txn, participants } => format!("pre-commit {txn} ({} parts)", participants.len()),
        CoordRec::End { txn } => format!("end {txn}"),
    }
}

/// The last records of a log, and how many of them are durable.
fn tail<R>(records: &[R], durable: usize, fmt: fn(&R) -> String) -> (Vec<String>, usize) {
    let from = records.len().saturating_sub(LOG_ROWS);
    let entries = records[from..].iter().map(fmt).collect();
    (entries, durable.saturating_sub(from))
}

fn logs(coordinator: Option<&Coordinator>, parts: &[(String, &Participant)]) -> Log {
    let mut lanes = Vec::new();
    if let Some(c) = coordinator {
        let (entries, committed) = tail(c.wal.records(), c.wal.durable_len(), coord_rec);
        lanes.push(LogLane { name: "coordinator".into(), entries, committed });
    }
    for (name, p) in parts {
        let (entries, committed) = tail(p.wal.records(), p.wal.durable_len(), part_rec);
        lanes.push(LogLane { name: name.clone(), entries, committed });
    }
    Log { title: "Write-ahead logs (last records; the durable prefix is marked)".into(), lanes }
}
