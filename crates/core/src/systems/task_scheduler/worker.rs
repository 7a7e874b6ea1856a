//! A worker runs what the leader sends it, any number at once (a process pool). An
//! execution writes to the sink as it goes — a `Begin`, a `Progress` write with every
//! heartbeat (every third of the execution lease), and a `Finish` with its result (the
//! job fails with probability `fail_pct`) — and heartbeats the leader that dispatched it.
//! It stops when the sink fences it off or the leader says its lease is gone.
//!
//! It trusts its lease until told otherwise: it does not check the lease against its own
//! clock before each write. A check like that narrows the window but cannot close it — a
//! process can be paused between the check and the write — and here, where a handler runs
//! atomically, it would hide the window the sink's fencing exists for. A pause freezes
//! every execution in place; after it they carry on writing exactly where they were.

use super::msg::{Msg, Obs, TaskRound, WriteKind};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;

const TAG_PROGRESS: u64 = 1;
const TAG_FINISH: u64 = 2;
const TAG_FINISH_TIMEOUT: u64 = 3;
const FINISH_TIMEOUT_MS: u64 = 20;
const FINISH_TRIES: u32 = 3;
/// Spans kept for the view.
const MAX_SPANS: usize = 150;

#[derive(Clone, Debug)]
struct Running {
    slot: u64,
    token: u64,
    tr: TaskRound,
    leader: NodeId,
    /// The result once the job has finished, while the sink has not confirmed it.
    result: Option<bool>,
    tries: u32,
}

/// How an execution ended, for the worker lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Succeeded,
    Failed,
    /// The sink refused a write: a newer execution holds a higher token.
    Fenced,
    /// The leader said the lease is gone.
    LeaseLost,
    /// The sink never confirmed the finish.
    Unconfirmed,
    Crashed,
}

#[derive(Clone, Debug)]
pub struct ExecSpan {
    pub start_ms: f64,
    pub end_ms: Option<f64>,
    pub tr: TaskRound,
    pub token: u64,
    pub end: Option<End>,
}

#[derive(Clone, Debug)]
pub struct Worker {
    pub sink: NodeId,
    pub hb_ms: u64,
    pub fail_pct: u64,
    runs: Vec<Running>,
    next_slot: u64,
    pub spans: Vec<ExecSpan>,
    pub completed: u64,
}

impl Worker {
    pub fn new(sink: NodeId, hb_ms: u64, fail_pct: u64) -> Worker {
        Worker { sink, hb_ms: hb_ms.max(1), fail_pct, runs: Vec::new(), next_slot: 0, spans: Vec::new(), completed: 0 }
    }

    fn timer(ctx: &mut Ctx<'_, Msg, Obs>, ms: u64, slot: u64, kind: u64) {
        ctx.set_timer(SimDuration::from_ms(ms.max(1)), slot << 4 | kind);
    }

    fn end(&mut self, i: usize, how: End, ctx: &Ctx<'_, Msg, Obs>) -> Running {
        let r = self.runs.remove(i);
        self.completed += 1;
        if let Some(s) = self.spans.iter_mut().rev().find(|s| s.token == r.token && s.end.is_none()) {
            s.end_ms = Some(ctx.now().as_ms());
            s.end = Some(how);
        }
        r
    }

    fn by_token(&self, token: u64) -> Option<usize> {
        self.runs.iter().position(|r| r.token == token)
    }
}

impl Actor for Worker {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Run { token, tr, run_ms } => {
                if self.by_token(token).is_some() {
                    return;
                }
                self.next_slot += 1;
                let slot = self.next_slot;
                self.runs.push(Running { slot, token, tr, leader: from, result: None, tries: 0 });
                ctx.send(self.sink, Msg::Write { token, tr, kind: WriteKind::Begin });
                Self::timer(ctx, self.hb_ms, slot, TAG_PROGRESS);
                Self::timer(ctx, run_ms, slot, TAG_FINISH);
                self.spans.push(ExecSpan { start_ms: ctx.now().as_ms(), end_ms: None, tr, token, end: None });
                if self.spans.len() > MAX_SPANS {
                    self.spans.remove(0);
                }
            }
            Msg::FinishOk { token } => {
                if let Some(i) = self.by_token(token).filter(|&i| self.runs[i].result.is_some()) {
                    let ok = self.runs[i].result == Some(true);
                    let r = self.end(i, if ok { End::Succeeded } else { End::Failed }, ctx);
                    ctx.send(r.leader, Msg::Done { token, tr: r.tr, ok });
                }
            }
            Msg::Fenced { token } => {
                if let Some(i) = self.by_token(token) {
                    self.end(i, End::Fenced, ctx);
                }
            }
            Msg::Lost { token } => {
                if let Some(i) = self.by_token(token) {
                    self.end(i, End::LeaseLost, ctx);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let slot = tag >> 4;
        let Some(i) = self.runs.iter().position(|r| r.slot == slot) else { return };
        let r = self.runs[i].clone();
        match tag & 0xf {
            TAG_PROGRESS if r.result.is_none() => {
                ctx.send(r.leader, Msg::Heartbeat { token: r.token });
                ctx.send(self.sink, Msg::Write { token: r.token, tr: r.tr, kind: WriteKind::Progress });
                Self::timer(ctx, self.hb_ms, slot, TAG_PROGRESS);
            }
            TAG_FINISH if r.result.is_none() => {
                let ok = !ctx.rng.chance(self.fail_pct as f64 / 100.0);
                self.runs[i].result = Some(ok);
                ctx.send(self.sink, Msg::Write { token: r.token, tr: r.tr, kind: WriteKind::Finish { ok } });
                Self::timer(ctx, FINISH_TIMEOUT_MS, slot, TAG_FINISH_TIMEOUT);
            }
            TAG_FINISH_TIMEOUT => {
                self.runs[i].tries += 1;
                if self.runs[i].tries >= FINISH_TRIES {
                    self.end(i, End::Unconfirmed, ctx);
                } else if let Some(ok) = r.result {
                    ctx.send(self.sink, Msg::Write { token: r.token, tr: r.tr, kind: WriteKind::Finish { ok } });
                    Self::timer(ctx, FINISH_TIMEOUT_MS, slot, TAG_FINISH_TIMEOUT);
                }
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.runs.clear();
        for s in self.spans.iter_mut().filter(|s| s.end.is_none()) {
            s.end = Some(End::Crashed);
            s.end_ms = Some(s.start_ms);
        }
    }

    fn describe(&self) -> String {
        format!("{} running · {} done", self.runs.len(), self.completed)
    }
}
