//! Messages and observations of the cron-scheduler model. Four conversations: schedulers
//! with the coordinator (leader lease, per-fire locks), schedulers with workers (run this
//! fire, how did it go), workers with the target the jobs act on (claim the fire, apply
//! its effect), and nothing else. A fire is named by its job and its scheduled minute.
//!
//! What the checks need travels as observations made where each fact arises: a scheduler
//! reports each dispatch as it sends it, a worker each job failure, the target each effect
//! it applies. The checks hold those against the fire times they compute themselves.

use crate::sim::node::Message;
use crate::sim::NodeId;

/// One scheduled fire: job number and its minute, counted from the start of the run (one
/// minute of schedule time is one simulated second; see `jobs`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct FireId {
    pub job: u8,
    pub minute: i64,
}

/// Why the target turned a claim or an effect down.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Refusal {
    /// A newer attempt (higher token) has claimed this fire.
    Stale,
    /// The fire has already taken effect.
    AlreadyDone,
}

/// How a run ended, as the worker reports it to the scheduler that dispatched it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Refused(Refusal),
    /// The job itself failed before producing its effect.
    Failed,
    /// The target never answered.
    Unreachable,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Scheduler → coordinator: take or renew the leader lease. A renewal carries the
    /// holder's progress: per job, every fire up to this minute is settled.
    Acquire {
        req: u64,
        renew: bool,
        cursors: Vec<i64>,
    },
    /// Coordinator → scheduler. `fresh` marks a new term (a new epoch); it then carries the
    /// stored progress the new leader resumes from, and the fires started but not settled.
    Granted {
        req: u64,
        epoch: u64,
        fresh: bool,
        cursors: Vec<i64>,
        started: Vec<FireId>,
    },
    Busy {
        req: u64,
    },
    /// Leader → coordinator: record that this term starts `fire` (write-ahead, before the
    /// dispatch), so a later leader knows it was started and finishes it.
    Intent {
        epoch: u64,
        fire: FireId,
    },
    IntentOk {
        fire: FireId,
    },
    /// The coordinator refused an intent: `epoch` is not the live term.
    NotLeader {
        fire: FireId,
    },
    /// Scheduler → coordinator: `SET fire NX PX ttl`, the per-fire lock.
    TryLock {
        fire: FireId,
        ttl_ms: u64,
    },
    Locked {
        fire: FireId,
    },
    LockBusy {
        fire: FireId,
    },
    /// Scheduler → worker: run `fire`. `token` fences it at the target (0: none).
    Run {
        run: u64,
        fire: FireId,
        token: u64,
    },
    /// Worker → scheduler.
    RunDone {
        run: u64,
        fire: FireId,
        outcome: Outcome,
    },
    /// Worker → target: claim the fire for this attempt, before running it.
    Claim {
        run: u64,
        fire: FireId,
        token: u64,
    },
    ClaimOk {
        run: u64,
    },
    /// Worker → target: the job's effect (its one write), made when the run finishes.
    /// `dispatcher` is carried for the record only.
    Effect {
        run: u64,
        fire: FireId,
        token: u64,
        dispatcher: NodeId,
    },
    EffectOk {
        run: u64,
    },
    Refused {
        run: u64,
        why: Refusal,
    },
}

/// "e3.7": epoch 3, seventh attempt of that term (the `lease` block's tokens).
pub use crate::blocks::lease::token_text;

impl Message for Msg {
    fn label(&self) -> String {
        let f = |f: &FireId| format!("j{}@{}", f.job, f.minute);
        match self {
            Msg::Acquire { renew: true, .. } => "renew lease".into(),
            Msg::Acquire { .. } => "acquire lease".into(),
            Msg::Granted { epoch, fresh: true, .. } => format!("leader, epoch {epoch}"),
            Msg::Granted { .. } => "renewed".into(),
            Msg::Busy { .. } => "lease held".into(),
            Msg::Intent { fire, .. } => format!("start {}", f(fire)),
            Msg::IntentOk { fire } => format!("recorded {}", f(fire)),
            Msg::NotLeader { fire } => format!("not leader {}", f(fire)),
            Msg::TryLock { fire, .. } => format!("lock {}", f(fire)),
            Msg::Locked { fire } => format!("locked {}", f(fire)),
            Msg::LockBusy { fire } => format!("lock busy {}", f(fire)),
            Msg::Run { fire, token, .. } => format!("run {} token {}", f(fire), token_text(*token)),
            Msg::RunDone { fire, outcome, .. } => format!("{} {outcome:?}", f(fire)).to_lowercase(),
            Msg::Claim { fire, token, .. } => format!("claim {} token {}", f(fire), token_text(*token)),
            Msg::ClaimOk { .. } => "claimed".into(),
            Msg::Effect { fire, token, .. } => format!("effect {} token {}", f(fire), token_text(*token)),
            Msg::EffectOk { .. } => "applied".into(),
            Msg::Refused { why, .. } => format!("refused: {why:?}").to_lowercase(),
        }
    }
}

/// What nodes report to the checks; the kernel stamps each with true time.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A scheduler sent `Run` for this fire.
    Dispatched { fire: FireId, run: u64, token: u64, by: NodeId },
    /// A worker's run of the job failed (no effect).
    JobFailed { fire: FireId, run: u64 },
    /// The target applied this fire's effect.
    Applied { fire: FireId, run: u64, token: u64, worker: NodeId, dispatcher: NodeId },
}
