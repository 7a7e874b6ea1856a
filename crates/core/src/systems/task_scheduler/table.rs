//! The task table: what the scheduler must run, as configuration every node derives from
//! the parameters (it is not state: a new leader reads the same table).
//!
//! - **Recurring tasks by the hundred thousand** (`tasks`): task `i` runs weekly at its own
//!   minute of the week, `M H * * D`, the minute picked by hashing `i`, so a million tasks
//!   spread about 99 to a minute, as user-defined schedules do. Each is a real cron
//!   expression (the `cron` block parses it; tasks sharing a minute share the parsed copy).
//! - **A pipeline** (the DAG): six tasks; the root runs on its own cron expression and each
//!   round's other tasks run once all their parents of that round have succeeded.
//! - **One-shot tasks** (`oneshots`): a single run at a given millisecond.
//!
//! **Time scale.** As in the cron scheduler, the schedule clock runs 60× fast: one minute
//! of schedule time is one simulated second. The run starts on Monday 2 March 2026 at
//! 09:00 UTC. A *round* of a task is named by the simulated millisecond it was due at; a
//! pipeline task's round is its root's.

use crate::blocks::cron::{Civil, Schedule};
use crate::sim::rng::mix64;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Simulated milliseconds per schedule minute.
pub const MS_PER_MINUTE: u64 = 1_000;
/// Minutes in a week: the number of distinct weekly slots.
pub const WEEK_MINUTES: u64 = 7 * 24 * 60;

pub type TaskId = u32;

/// 2026-03-02T09:00Z (a Monday) in Unix minutes.
pub fn start_minute() -> i64 {
    Civil { year: 2026, month: 3, day: 2, hour: 9, minute: 0 }.to_unix_minutes()
}

/// The pipeline: name and parents (indices into this list), in topological order.
pub const DAG: [(&str, &[usize]); 6] =
    [("extract", &[]), ("clean", &[0]), ("enrich", &[0]), ("join", &[1, 2]), ("index", &[3]), ("report", &[2, 3])];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A weekly task and its slot (minute of the week, Sunday 00:00 = 0).
    Recurring(u32),
    /// The pipeline's task `k`.
    Pipeline(usize),
    /// One run at this millisecond.
    OneShot(u64),
}

#[derive(Clone, Debug)]
pub struct TaskTable {
    pub recurring: u32,
    /// Parsed weekly expressions, by slot (only the slots some task uses).
    pub weekly: BTreeMap<u32, Schedule>,
    pub pipeline: Schedule,
    /// Due millisecond of each one-shot task.
    pub oneshots: Vec<u64>,
}

/// The slot (minute of the week) of recurring task `i`.
pub fn slot_of(i: TaskId) -> u32 {
    (mix64(u64::from(i) ^ 0x7a5c_0de5) % WEEK_MINUTES) as u32
}

/// `M H * * D` for a minute of the week.
pub fn weekly_expr(slot: u32) -> String {
    let (d, h, m) = (slot / 1_440, slot / 60 % 24, slot % 60);
    format!("{m} {h} * * {d}")
}

impl TaskTable {
    /// `recurring` weekly tasks, the pipeline on `pipeline_expr`, `oneshots` one-shot tasks
    /// spread over the first `window_ms`.
    pub fn new(recurring: u32, pipeline_expr: &str, oneshots: u32, window_ms: u64) -> Arc<TaskTable> {
        let mut weekly = BTreeMap::new();
        for i in 0..recurring {
            let s = slot_of(i);
            weekly.entry(s).or_insert_with(|| Schedule::parse(&weekly_expr(s)).expect("weekly expressions are valid"));
            if weekly.len() as u64 == WEEK_MINUTES {
                break;
            }
        }
        let pipeline = Schedule::parse(pipeline_expr).expect("the pipeline expression is valid");
        let oneshots = (0..u64::from(oneshots)).map(|k| 1 + mix64(k ^ 0x0e5_0e5) % window_ms.max(2)).collect();
        Arc::new(TaskTable { recurring, weekly, pipeline, oneshots })
    }

    pub fn len(&self) -> u32 {
        self.recurring + DAG.len() as u32 + self.oneshots.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn kind(&self, t: TaskId) -> Kind {
        let r = self.recurring;
        if t < r {
            Kind::Recurring(slot_of(t))
        } else if ((t - r) as usize) < DAG.len() {
            Kind::Pipeline((t - r) as usize)
        } else {
            Kind::OneShot(self.oneshots[(t - r) as usize - DAG.len()])
        }
    }

    pub fn pipeline_task(&self, k: usize) -> TaskId {
        self.recurring + k as u32
    }

    pub fn name(&self, t: TaskId) -> String {
        match self.kind(t) {
            Kind::Recurring(s) => format!("task {t} ({})", weekly_expr(s)),
            Kind::Pipeline(k) => format!("{} (pipeline)", DAG[k].0),
            Kind::OneShot(at) => format!("one-shot {t} @{at} ms"),
        }
    }

    /// The pipeline tasks whose parents include pipeline task `k`.
    pub fn children(k: usize) -> Vec<usize> {
        (0..DAG.len()).filter(|&c| DAG[c].1.contains(&k)).collect()
    }
}

/// The millisecond of the first fire of `s` strictly after schedule minute `after` (minutes
/// from the start), by the cron block's field-skipping search.
pub fn next_fire_ms(s: &Schedule, after: i64) -> Option<u64> {
    let start = start_minute();
    s.next_after(start + after).map(|m| (m - start).max(0) as u64 * MS_PER_MINUTE)
}

/// Brute force, independent of `next_after`: every (task, due ms) due before `end_ms`,
/// found by testing each minute of the run against each expression in use, plus the
/// one-shot times. Sorted by due time, then task.
pub fn due_by_scan(table: &TaskTable, end_ms: u64) -> Vec<(TaskId, u64)> {
    let start = start_minute();
    let minutes = end_ms.div_ceil(MS_PER_MINUTE) as i64;
    let civil: Vec<Civil> = (0..minutes).map(|k| Civil::from_unix_minutes(start + k)).collect();
    let mut by_slot: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for (&slot, s) in &table.weekly {
        let hits: Vec<u64> =
            (0..minutes).filter(|&k| s.matches(civil[k as usize])).map(|k| k as u64 * MS_PER_MINUTE).collect();
        if !hits.is_empty() {
            by_slot.insert(slot, hits);
        }
    }
    let mut out = Vec::new();
    if !by_slot.is_empty() {
        for t in 0..table.recurring {
            if let Some(hits) = by_slot.get(&slot_of(t)) {
                out.extend(hits.iter().map(|&ms| (t, ms)));
            }
        }
    }
    let root = table.pipeline_task(0);
    for k in 0..minutes {
        if table.pipeline.matches(civil[k as usize]) {
            out.push((root, k as u64 * MS_PER_MINUTE));
        }
    }
    for (j, &at) in table.oneshots.iter().enumerate() {
        out.push((table.recurring + DAG.len() as u32 + j as u32, at));
    }
    out.retain(|&(_, ms)| ms < end_ms);
    out.sort_by_key(|&(t, ms)| (ms, t));
    out
}
