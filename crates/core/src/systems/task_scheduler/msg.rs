//! Messages and observations. Four conversations: schedulers with the coordinator (the
//! leader lease, and the durable record of what was started and settled), the leader with
//! workers (run this, heartbeats, done), workers with the sink (the execution's writes),
//! and nothing else. An execution is named by its fencing token, unique across the run.

use super::table::TaskId;
use crate::blocks::lease::token_text;
use crate::sim::node::Message;

/// One round of one task: the task and the simulated millisecond that round was due.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct TaskRound {
    pub task: TaskId,
    pub round: u64,
}

/// What a new leader inherits from the coordinator.
#[derive(Clone, Debug, Default, Hash)]
pub struct Handover {
    /// Every fire due at or before this millisecond (leader's clock) was recorded.
    pub through_ms: i64,
    /// Started and not settled, with the latest token.
    pub open: Vec<(TaskRound, u64)>,
    /// Pipeline rounds settled: succeeded (true) or given up (false).
    pub pipeline: Vec<(TaskRound, bool)>,
}

/// One execution's write to the sink.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum WriteKind {
    Begin,
    Progress,
    Finish { ok: bool },
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Scheduler → coordinator: take or renew the leader lease.
    Acquire {
        req: u64,
        renew: bool,
    },
    /// Coordinator → scheduler; a fresh term carries the handover.
    Granted {
        req: u64,
        epoch: u64,
        handover: Option<Handover>,
    },
    Busy {
        req: u64,
    },
    /// Leader → coordinator: record these starts and settlements (write-ahead: nothing in
    /// it is dispatched before the coordinator acknowledges it).
    Record {
        epoch: u64,
        batch: u64,
        through_ms: i64,
        started: Vec<(TaskRound, u64)>,
        settled: Vec<(TaskRound, bool)>,
    },
    RecordOk {
        batch: u64,
    },
    NotLeader {
        batch: u64,
    },
    /// Leader → worker: run this round under `token` for `run_ms`.
    Run {
        token: u64,
        tr: TaskRound,
        run_ms: u64,
    },
    /// Worker → leader: still running (renews the execution's lease).
    Heartbeat {
        token: u64,
    },
    /// Leader → worker: this execution's lease is gone; stop.
    Lost {
        token: u64,
    },
    /// Worker → leader: the execution finished and the sink has its result.
    Done {
        token: u64,
        tr: TaskRound,
        ok: bool,
    },
    /// Worker → sink.
    Write {
        token: u64,
        tr: TaskRound,
        kind: WriteKind,
    },
    /// Sink → worker: the finish is stored.
    FinishOk {
        token: u64,
    },
    /// Sink → worker: a newer execution of this task holds a higher token.
    Fenced {
        token: u64,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        let tr = |t: &TaskRound| format!("t{}@{}", t.task, t.round);
        match self {
            Msg::Acquire { renew: true, .. } => "renew lease".into(),
            Msg::Acquire { .. } => "acquire lease".into(),
            Msg::Granted { epoch, handover: Some(_), .. } => format!("leader, epoch {epoch}"),
            Msg::Granted { .. } => "renewed".into(),
            Msg::Busy { .. } => "lease held".into(),
            Msg::Record { started, settled, .. } => format!("record +{} ✓{}", started.len(), settled.len()),
            Msg::RecordOk { .. } => "recorded".into(),
            Msg::NotLeader { .. } => "not leader".into(),
            Msg::Run { token, tr: t, .. } => format!("run {} {}", tr(t), token_text(*token)),
            Msg::Heartbeat { token } => format!("heartbeat {}", token_text(*token)),
            Msg::Lost { token } => format!("lease lost {}", token_text(*token)),
            Msg::Done { tr: t, ok, .. } => format!("{} {}", tr(t), if *ok { "ok" } else { "failed" }),
            Msg::Write { token, tr: t, kind } => format!("{kind:?} {} {}", tr(t), token_text(*token)).to_lowercase(),
            Msg::FinishOk { .. } => "stored".into(),
            Msg::Fenced { token } => format!("fenced {}", token_text(*token)),
        }
    }
}

/// What nodes report to the checks; the kernel stamps each with true time.
#[derive(Clone, Debug)]
pub enum Obs {
    /// The sink accepted a write of this execution.
    Wrote { tr: TaskRound, token: u64, kind: WriteKind, worker: u32 },
    /// The sink refused a write (fenced).
    Refused { tr: TaskRound, token: u64 },
}
