//! A worker: the client of the lock. It loops acquire → read the counter from storage →
//! compute for `work_ms` → write the counter + 1 → release, then thinks and starts over.
//! Before computing it checks, on its own clock, that enough of its lease is left (the
//! remaining-validity test the Redlock description asks clients to make); a pause *during*
//! the computation is exactly what that test cannot see, which is the whole lesson.
//!
//! Under Redlock it asks all N instances and holds the lock only with a majority, for
//! `TTL − elapsed − drift` (Sanfilippo's validity formula, drift = TTL·factor + 2 ms).

use super::msg::{Lease, Msg, Obs};
use super::Strategy;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;

const TAG_NEXT: u64 = 1;
const TAG_ACQUIRE_TIMEOUT: u64 = 2;
const TAG_WORK_DONE: u64 = 3;
const TAG_IO_TIMEOUT: u64 = 4;
const IO_TIMEOUT_MS: u64 = 200;
/// Spans kept per worker for the timeline.
const MAX_SPANS: usize = 120;

#[derive(Clone, Debug)]
pub struct WorkerCfg {
    pub strategy: Strategy,
    pub servers: Vec<NodeId>,
    pub storage: NodeId,
    pub ttl_ms: u64,
    pub work_ms: u64,
    /// Redlock's clock-drift allowance, in percent of the TTL.
    pub drift_pct: u64,
    pub workload: WorkloadSpec,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Idle,
    Acquiring,
    Reading,
    Working,
    Writing,
}

/// One stretch in which the worker believed it held the lock (for the timeline).
#[derive(Clone, Debug)]
pub struct HoldSpan {
    pub start_ms: f64,
    /// When its lease ran out, as the worker reckons it, converted to true time.
    pub expiry_ms: f64,
    pub end_ms: Option<f64>,
    pub token: u64,
    /// "accepted", "rejected", "abandoned", or "" while open.
    pub outcome: &'static str,
    /// Whether the write left after the lease had run out.
    pub late: bool,
}

#[derive(Clone, Debug)]
pub struct Worker {
    pub cfg: WorkerCfg,
    pub phase: Phase,
    seq: u64,
    pub lease: Lease,
    token: u64,
    started_local: SimTime,
    started_true: SimTime,
    valid_until_local: SimTime,
    value_read: u64,
    /// Redlock: instances that granted / refused this attempt.
    granted_by: Vec<NodeId>,
    refused: usize,
    leader_guess: usize,
    pub spans: Vec<HoldSpan>,
    pub acquired: u64,
}

impl Worker {
    pub fn new(cfg: WorkerCfg) -> Worker {
        Worker {
            cfg,
            phase: Phase::Idle,
            seq: 0,
            lease: Lease { worker: 0, nonce: 0 },
            token: 0,
            started_local: SimTime::ZERO,
            started_true: SimTime::ZERO,
            valid_until_local: SimTime::ZERO,
            value_read: 0,
            granted_by: Vec::new(),
            refused: 0,
            leader_guess: 0,
            spans: Vec::new(),
            acquired: 0,
        }
    }

    fn timer(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, after_ms: u64, kind: u64) {
        ctx.set_timer(SimDuration::from_ms(after_ms), (self.seq << 4) | kind);
    }

    /// Moves to `phase`, invalidating every timer of the previous one.
    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.seq += 1;
    }

    fn quorum(&self) -> usize {
        self.cfg.servers.len() / 2 + 1
    }

    fn begin(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.cfg.workload.active(ctx.now()) {
            self.enter(Phase::Idle);
            return;
        }
        self.enter(Phase::Acquiring);
        self.lease = Lease { worker: ctx.me(), nonce: ctx.rng.next_u64() };
        self.started_local = ctx.local_time();
        self.started_true = ctx.now();
        self.granted_by.clear();
        self.refused = 0;
        let acquire = Msg::Acquire { lease: self.lease, ttl_ms: self.cfg.ttl_ms };
        match self.cfg.strategy {
            Strategy::Redlock => {
                for &s in &self.cfg.servers {
                    ctx.send(s, acquire.clone());
                }
            }
            Strategy::Consensus => ctx.send(self.cfg.servers[self.leader_guess], acquire),
            _ => ctx.send(self.cfg.servers[0], acquire),
        }
        let timeout = if self.cfg.strategy == Strategy::Consensus { 150 } else { 50 };
        self.timer(ctx, timeout, TAG_ACQUIRE_TIMEOUT);
    }

    fn release(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, lease: Lease) {
        let msg = Msg::Release { lease };
        match self.cfg.strategy {
            Strategy::Redlock => {
                for &s in &self.cfg.servers {
                    ctx.send(s, msg.clone());
                }
            }
            Strategy::Consensus => ctx.send(self.cfg.servers[self.leader_guess], msg),
            _ => ctx.send(self.cfg.servers[0], msg),
        }
    }

    /// Failed to get the lock this time: clean up and retry after a jittered backoff.
    fn give_up(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, release: bool) {
        if release {
            self.release(ctx, self.lease);
        }
        self.enter(Phase::Idle);
        let backoff = ctx.rng.between(5, 25);
        self.timer(ctx, backoff, TAG_NEXT);
    }

    /// The critical section ended (written, refused, abandoned or timed out).
    fn finish(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, outcome: &'static str, ok: bool) {
        ctx.metrics.request(ctx.now(), ctx.now().since(self.started_true), ok);
        ctx.observe(Obs::Done { lease: self.lease });
        if let Some(s) = self.spans.last_mut() {
            s.end_ms = Some(ctx.now().as_ms());
            s.outcome = outcome;
        }
        self.release(ctx, self.lease);
        self.enter(Phase::Idle);
        let think = self.cfg.workload.think_ms + ctx.rng.between(0, 10);
        self.timer(ctx, think, TAG_NEXT);
    }

    fn hold(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, token: u64, validity: SimDuration) {
        self.token = token;
        self.valid_until_local = ctx.local_time() + validity;
        self.acquired += 1;
        let expires = self.started_true + SimDuration::from_ms(self.cfg.ttl_ms);
        ctx.observe(Obs::Holding { lease: self.lease, token, expires });
        let now_ms = ctx.now().as_ms();
        self.spans.push(HoldSpan {
            start_ms: now_ms,
            expiry_ms: now_ms + validity.as_ms(),
            end_ms: None,
            token,
            outcome: "",
            late: false,
        });
        if self.spans.len() > MAX_SPANS {
            self.spans.remove(0);
        }
        ctx.send(self.cfg.storage, Msg::Read { lease: self.lease, token });
        self.enter(Phase::Reading);
        self.timer(ctx, IO_TIMEOUT_MS, TAG_IO_TIMEOUT);
    }

    fn release_to(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, to: NodeId, lease: Lease) {
        if self.cfg.strategy != Strategy::SetnxBlind {
            ctx.send(to, Msg::Release { lease });
        }
    }

    fn on_granted(&mut self, from: NodeId, token: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let ttl = SimDuration::from_ms(self.cfg.ttl_ms);
        if self.cfg.strategy != Strategy::Redlock {
            // The lease is counted from when the request left: a safe lower bound.
            let elapsed = ctx.local_time().since(self.started_local);
            self.hold(ctx, token, SimDuration(ttl.0.saturating_sub(elapsed.0)));
            return;
        }
        if self.granted_by.contains(&from) {
            return;
        }
        self.granted_by.push(from);
        if self.granted_by.len() < self.quorum() {
            return;
        }
        let elapsed = ctx.local_time().since(self.started_local);
        let drift = SimDuration(ttl.0 * self.cfg.drift_pct / 100 + 2_000);
        match ttl.0.checked_sub(elapsed.0 + drift.0) {
            Some(v) if v > 0 => {
                // Redlock's grant is the client's own verdict over its majority.
                ctx.observe(Obs::Grant { lease: self.lease, token: 0 });
                self.hold(ctx, 0, SimDuration(v))
            }
            _ => self.give_up(ctx, true),
        }
    }
}

impl Actor for Worker {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.enter(Phase::Idle);
        let stagger = ctx.rng.between(0, 20);
        self.timer(ctx, stagger, TAG_NEXT);
    }

    fn on_crash(&mut self) {
        self.phase = Phase::Idle;
        self.granted_by.clear();
        if let Some(s) = self.spans.last_mut() {
            if s.end_ms.is_none() {
                s.outcome = "crashed";
                s.end_ms = Some(s.start_ms.max(s.expiry_ms));
            }
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag >> 4 != self.seq {
            return;
        }
        match tag & 0xf {
            TAG_NEXT => self.begin(ctx),
            TAG_ACQUIRE_TIMEOUT => {
                if self.cfg.strategy == Strategy::Consensus {
                    self.leader_guess = (self.leader_guess + 1) % self.cfg.servers.len();
                }
                self.give_up(ctx, false);
            }
            TAG_WORK_DONE => {
                let late = ctx.local_time() >= self.valid_until_local;
                if let Some(s) = self.spans.last_mut() {
                    s.late = late;
                }
                let msg = Msg::Write { lease: self.lease, token: self.token, value: self.value_read + 1 };
                ctx.send(self.cfg.storage, msg);
                self.enter(Phase::Writing);
                self.timer(ctx, IO_TIMEOUT_MS, TAG_IO_TIMEOUT);
            }
            TAG_IO_TIMEOUT => self.finish(ctx, "timed out", false),
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Granted { lease, token } => {
                if lease != self.lease {
                    // A grant for an attempt already given up: hand it back.
                    self.release_to(ctx, from, lease);
                    return;
                }
                if self.phase != Phase::Acquiring {
                    return;
                }
                self.on_granted(from, token, ctx);
            }
            Msg::Busy { lease } if lease == self.lease && self.phase == Phase::Acquiring => {
                if self.cfg.strategy == Strategy::Redlock {
                    self.refused += 1;
                    if self.refused > self.cfg.servers.len() - self.quorum() {
                        self.give_up(ctx, true);
                    }
                } else {
                    self.give_up(ctx, false);
                }
            }
            Msg::NotLeader { lease, hint } if lease == self.lease && self.phase == Phase::Acquiring => {
                if let Some(i) = hint.and_then(|h| self.cfg.servers.iter().position(|&s| s == h)) {
                    self.leader_guess = i;
                    ctx.send(self.cfg.servers[i], Msg::Acquire { lease, ttl_ms: self.cfg.ttl_ms });
                }
            }
            Msg::ReadOk { lease, value } if lease == self.lease && self.phase == Phase::Reading => {
                let left = self.valid_until_local.0.saturating_sub(ctx.local_time().0);
                if left < self.cfg.work_ms * 1_000 {
                    self.finish(ctx, "abandoned", false);
                    return;
                }
                self.value_read = value;
                self.enter(Phase::Working);
                self.timer(ctx, self.cfg.work_ms, TAG_WORK_DONE);
            }
            Msg::WriteOk { lease } if lease == self.lease && self.phase == Phase::Writing => {
                self.finish(ctx, "accepted", true);
            }
            Msg::Rejected { lease, .. }
                if lease == self.lease && matches!(self.phase, Phase::Reading | Phase::Writing) =>
            {
                self.finish(ctx, "rejected", false);
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        match self.phase {
            Phase::Idle => format!("idle · {} holds", self.acquired),
            Phase::Acquiring => "acquiring".into(),
            _ if self.token > 0 => format!("holds token {} ({:?})", self.token, self.phase).to_lowercase(),
            _ => format!("holds lock ({:?})", self.phase).to_lowercase(),
        }
    }
}
