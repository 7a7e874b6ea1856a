//! A client: a closed loop of transactions. Each writes one key (drawn from the workload's
//! key distribution) at each of `span` participants chosen at random, waits for the
//! outcome (or gives up after `timeout_ms`), thinks, and starts the next. It never retries
//! a transaction: a give-up leaves the outcome unknown to it, as a timed-out RPC does.
//!
//! Its sequence number is treated as durable (a client that crashes resumes numbering
//! where it stopped), so transaction ids are never reused.

use super::msg::{Msg, Obs, TxnId};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::{KeySampler, WorkloadSpec};
use crate::sim::NodeId;

const KIND_NEXT: u64 = 1;
const KIND_TIMEOUT: u64 = 2;

#[derive(Clone, Debug)]
pub struct Client {
    pub index: u32,
    pub coordinator: NodeId,
    pub participants: Vec<NodeId>,
    pub span: usize,
    pub workload: WorkloadSpec,
    pub timeout_ms: u64,
    keys: KeySampler,
    /// Durable: survives a crash.
    pub seq: u32,
    current: Option<(TxnId, SimTime)>,
    pub committed: u64,
    pub aborted: u64,
    pub unknown: u64,
}

impl Client {
    pub fn new(
        index: u32,
        coordinator: NodeId,
        participants: Vec<NodeId>,
        span: usize,
        workload: WorkloadSpec,
        timeout_ms: u64,
    ) -> Client {
        let keys = workload.key_sampler();
        let span = span.clamp(1, participants.len().max(1));
        Client {
            index,
            coordinator,
            participants,
            span,
            workload,
            timeout_ms,
            keys,
            seq: 0,
            current: None,
            committed: 0,
            aborted: 0,
            unknown: 0,
        }
    }

    /// Timer tags carry the sequence number, so a stale timer is recognised.
    fn timer(&self, ctx: &mut Ctx<'_, Msg, Obs>, after_ms: u64, kind: u64) {
        ctx.set_timer(SimDuration::from_ms(after_ms), (u64::from(self.seq) << 4) | kind);
    }

    fn begin(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.workload.active(ctx.now()) {
            self.current = None;
            return;
        }
        self.seq += 1;
        let txn = TxnId { client: self.index, seq: self.seq };
        let mut chosen = self.participants.clone();
        ctx.rng.shuffle(&mut chosen);
        chosen.truncate(self.span);
        chosen.sort_unstable();
        let work: Vec<(NodeId, u64)> = chosen.iter().map(|&p| (p, self.keys.sample(ctx.rng))).collect();
        ctx.observe(Obs::Submitted { txn, participants: chosen });
        ctx.send(self.coordinator, Msg::Begin { txn, work });
        self.current = Some((txn, ctx.now()));
        self.timer(ctx, self.timeout_ms, KIND_TIMEOUT);
    }

    fn next(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.current = None;
        let think = self.workload.think_ms + ctx.rng.between(0, self.workload.think_ms.max(1));
        self.timer(ctx, think, KIND_NEXT);
    }
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let stagger = ctx.rng.between(0, 20);
        self.timer(ctx, stagger, KIND_NEXT);
    }

    fn on_crash(&mut self) {
        self.current = None;
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag >> 4 != u64::from(self.seq) {
            return;
        }
        match tag & 0xf {
            KIND_NEXT => self.begin(ctx),
            KIND_TIMEOUT => {
                if let Some((_, started)) = self.current {
                    self.unknown += 1;
                    ctx.metrics.add("client_timeouts", 1);
                    ctx.metrics.request(ctx.now(), ctx.now().since(started), false);
                    self.next(ctx);
                }
            }
            _ => {}
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::Outcome { txn, committed } = msg else { return };
        // Any answer is an acknowledgement, even one that comes after the client gave up.
        ctx.observe(Obs::Acked { txn, committed });
        let Some((_, started)) = self.current.filter(|c| c.0 == txn) else { return };
        if committed {
            self.committed += 1;
        } else {
            self.aborted += 1;
        }
        ctx.metrics.request(ctx.now(), ctx.now().since(started), committed);
        self.next(ctx);
    }

    fn describe(&self) -> String {
        format!("{} committed · {} aborted · {} unknown", self.committed, self.aborted, self.unknown)
    }
}
