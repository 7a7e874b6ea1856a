//! The three properties, each judged against records the checks keep themselves:
//!
//! - **What ran, and when** is the sink's record: every write it accepted, stamped by the
//!   kernel with true time. An execution's interval is its first to its last accepted
//!   write. Nothing a scheduler or worker believed is consulted.
//! - **What should have run** is the task table checked minute by minute against each cron
//!   expression (`table::due_by_scan`), not the field-skipping search the leader uses, and
//!   the pipeline's parents as the table declares them.
//! - **What went wrong** is the scenario's fault plan (`windows`).
//!
//! `no-concurrent-run` (safety): two executions of one task overlap in true time exactly
//! when an execution writes after a newer one (of any round) began; judged at that write.
//!
//! `dependencies-first` (safety): a pipeline task's round begins only after each parent's
//! run of that round finished successfully at the sink, and no parent writes to that
//! round again once a child has begun (the child would read output still changing).
//!
//! `dispatch-lag` (SLO, judged at the end): every round due before the workload ends
//! begins within `slo_ms` of when it was due — or of when the task's previous round last
//! wrote, if that was later (one round of a task at a time). Rounds due inside a fault
//! window (see `windows`), or after a scheduler's or the coordinator's clock was skewed,
//! are not judged: a failover or a retry is allowed to be late.

use super::msg::{Obs, TaskRound, WriteKind};
use super::table::{Kind, TaskId, TaskTable, DAG};
use crate::blocks::lease::token_text;
use crate::check::{Property, RunEnd};
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Clone)]
pub struct NoConcurrentRun {
    table: Arc<TaskTable>,
    /// Per task: every execution that has written (token → first write), and the newest.
    begun: BTreeMap<TaskId, BTreeMap<u64, SimTime>>,
    newest: BTreeMap<TaskId, u64>,
    writes: u64,
}

impl NoConcurrentRun {
    pub fn new(table: Arc<TaskTable>) -> NoConcurrentRun {
        NoConcurrentRun { table, begun: BTreeMap::new(), newest: BTreeMap::new(), writes: 0 }
    }
}

impl Property<Obs> for NoConcurrentRun {
    fn name(&self) -> &'static str {
        "no-concurrent-run"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Wrote { tr, token, .. } = *obs else { return None };
        self.writes += 1;
        let begun = self.begun.entry(tr.task).or_default();
        if let std::collections::btree_map::Entry::Vacant(e) = begun.entry(token) {
            e.insert(at);
            self.newest.insert(tr.task, token);
            return None;
        }
        let newest = self.newest.get(&tr.task).copied().unwrap_or(token);
        if newest == token {
            return None;
        }
        let newer_at = begun.get(&newest).copied().unwrap_or(at);
        Some(format!(
            "{} ran twice at once: execution {} (round {} ms) wrote at {at}, after execution {} began at {newer_at}",
            self.table.name(tr.task),
            token_text(token),
            tr.round,
            token_text(newest)
        ))
    }
    fn samples(&self) -> u64 {
        self.writes
    }
    fn summary(&self) -> String {
        let execs: usize = self.begun.values().map(BTreeMap::len).sum();
        format!("{execs} executions of {} tasks, none overlapping another of its task", self.begun.len())
    }
}

#[derive(Clone)]
pub struct DependenciesFirst {
    table: Arc<TaskTable>,
    /// Pipeline rounds that finished successfully at the sink, and when.
    succeeded: BTreeMap<TaskRound, SimTime>,
    /// Pipeline rounds that have begun, and when.
    begun: BTreeMap<TaskRound, SimTime>,
    judged: u64,
}

impl DependenciesFirst {
    pub fn new(table: Arc<TaskTable>) -> DependenciesFirst {
        DependenciesFirst { table, succeeded: BTreeMap::new(), begun: BTreeMap::new(), judged: 0 }
    }
}

impl Property<Obs> for DependenciesFirst {
    fn name(&self) -> &'static str {
        "dependencies-first"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Wrote { tr, kind, .. } = *obs else { return None };
        let Kind::Pipeline(k) = self.table.kind(tr.task) else { return None };
        let task = |j: usize| TaskRound { task: self.table.pipeline_task(j), round: tr.round };
        // A parent writing to a round one of its children already began.
        for c in TaskTable::children(k) {
            if let Some(&child_at) = self.begun.get(&task(c)) {
                return Some(format!(
                    "{} wrote to round {} ms at {at}, after its child {} began that round at {child_at}",
                    DAG[k].0, tr.round, DAG[c].0
                ));
            }
        }
        if let WriteKind::Finish { ok: true } = kind {
            self.succeeded.entry(tr).or_insert(at);
        }
        if self.begun.contains_key(&tr) {
            return None;
        }
        self.begun.insert(tr, at);
        self.judged += 1;
        for &p in DAG[k].1 {
            if !self.succeeded.contains_key(&task(p)) {
                return Some(format!(
                    "{} began round {} ms at {at}, before its parent {} succeeded in that round",
                    DAG[k].0, tr.round, DAG[p].0
                ));
            }
        }
        None
    }
    fn samples(&self) -> u64 {
        self.judged
    }
    fn summary(&self) -> String {
        format!("{} pipeline runs began, each after its parents' runs of the round succeeded", self.judged)
    }
}

/// Intervals in which the fault plan allows lateness: each fault from `slo` before it
/// (work already on its way) to `allowance` after its repair, merged; plus the start of
/// the run (the first election and index load). Also the first skew of a scheduler's or
/// the coordinator's clock: timing is not judged after it.
pub fn windows(
    faults: &[TimedFault],
    clock_nodes: &[String],
    slo_ms: u64,
    allowance_ms: u64,
    end: SimTime,
) -> (Vec<(SimTime, SimTime)>, Option<SimTime>) {
    let ms = SimTime::from_ms;
    let mut out = vec![(SimTime::ZERO, ms(allowance_ms))];
    let mut skew: Option<SimTime> = None;
    let until = |i: usize, pred: &dyn Fn(&Fault) -> bool| -> SimTime {
        faults[i + 1..].iter().find(|g| pred(&g.fault)).map_or(end, |g| ms(g.at_ms))
    };
    for (i, f) in faults.iter().enumerate() {
        let stop = match &f.fault {
            Fault::Crash { node } => {
                let n = node.clone();
                until(i, &|g| matches!(g, Fault::Restart { node } if *node == n))
            }
            Fault::Pause { for_ms, .. } => ms(f.at_ms + for_ms),
            Fault::Partition { .. } => until(i, &|g| matches!(g, Fault::Heal)),
            Fault::Clog { from, to, .. } => {
                let (x, y) = (from.clone(), to.clone());
                until(i, &|g| matches!(g, Fault::Unclog { from, to } if *from == x && *to == y))
            }
            Fault::Loss { rate } if *rate > 0.0 => until(i, &|g| matches!(g, Fault::Loss { rate } if *rate == 0.0)),
            Fault::Skew { node, .. } => {
                if clock_nodes.iter().any(|n| n == node) {
                    skew = Some(skew.map_or(ms(f.at_ms), |s: SimTime| s.min(ms(f.at_ms))));
                }
                continue;
            }
            _ => continue,
        };
        let from = ms(f.at_ms.saturating_sub(slo_ms));
        out.push((from, SimTime(stop.0.saturating_add(allowance_ms * 1_000))));
    }
    out.sort();
    let mut merged: Vec<(SimTime, SimTime)> = Vec::new();
    for (a, b) in out {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    (merged, skew)
}

#[derive(Clone)]
pub struct DispatchLag {
    table: Arc<TaskTable>,
    /// (task, due ms) every round due before the workload ends, by brute force.
    due: Vec<(TaskId, u64)>,
    due_set: BTreeSet<(TaskId, u64)>,
    /// First accepted write of each judged round, and the lag it was measured with.
    began: BTreeMap<(TaskId, u64), (SimTime, u64)>,
    /// Per task: the last accepted write (any round).
    last_write: BTreeMap<TaskId, (u64, SimTime)>,
    slo_ms: u64,
    windows: Vec<(SimTime, SimTime)>,
    skew_from: Option<SimTime>,
    judged: u64,
    verdict: String,
}

impl DispatchLag {
    pub fn new(
        table: Arc<TaskTable>,
        due: Vec<(TaskId, u64)>,
        slo_ms: u64,
        windows: Vec<(SimTime, SimTime)>,
        skew_from: Option<SimTime>,
    ) -> DispatchLag {
        let due_set = due.iter().copied().collect();
        DispatchLag {
            table,
            due,
            due_set,
            began: BTreeMap::new(),
            last_write: BTreeMap::new(),
            slo_ms,
            windows,
            skew_from,
            judged: 0,
            verdict: String::new(),
        }
    }

    fn excused(&self, due: SimTime) -> bool {
        self.skew_from.is_some_and(|s| due >= s) || self.windows.iter().any(|&(a, b)| a <= due && due <= b)
    }
}

impl Property<Obs> for DispatchLag {
    fn name(&self) -> &'static str {
        "dispatch-lag"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Wrote { tr, .. } = *obs else { return None };
        let key = (tr.task, tr.round);
        if self.due_set.contains(&key) && !self.began.contains_key(&key) {
            // Measured from the due time, or from the previous round's last write.
            let mut from = SimTime::from_ms(tr.round);
            if let Some(&(round, last)) = self.last_write.get(&tr.task) {
                if round != tr.round {
                    from = from.max(last);
                }
            }
            self.began.insert(key, (at, at.0.saturating_sub(from.0)));
        }
        self.last_write.insert(tr.task, (tr.round, at));
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let limit_us = self.slo_ms * 1_000;
        let mut lags: Vec<u64> = Vec::new();
        let mut problems: Vec<String> = Vec::new();
        let mut excused = 0u64;
        for &(task, due_ms) in &self.due {
            let due = SimTime::from_ms(due_ms);
            if self.excused(due) {
                excused += 1;
                continue;
            }
            self.judged += 1;
            match self.began.get(&(task, due_ms)) {
                Some(&(at, lag)) => {
                    lags.push(lag);
                    if lag > limit_us {
                        problems.push(format!(
                            "{} (due {due}) began at {at}: {:.1} ms late, over the {} ms SLO",
                            self.table.name(task),
                            lag as f64 / 1_000.0,
                            self.slo_ms
                        ));
                    }
                }
                None => problems.push(format!("{} (due {due}) never began", self.table.name(task))),
            }
        }
        lags.sort_unstable();
        let q = |p: f64| lags.get(((lags.len() as f64 * p) as usize).min(lags.len().saturating_sub(1))).copied();
        let ms = |v: Option<u64>| v.map_or("—".into(), |us| format!("{:.1} ms", us as f64 / 1_000.0));
        self.verdict = format!(
            "{} rounds judged (p50 {}, p99 {}, max {}); {excused} due inside a fault window not judged",
            self.judged,
            ms(q(0.5)),
            ms(q(0.99)),
            ms(lags.last().copied())
        );
        let first = problems.first()?;
        let more = if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() };
        Some(format!("{first}{more}"))
    }
    fn samples(&self) -> u64 {
        self.due.len() as u64
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
}
