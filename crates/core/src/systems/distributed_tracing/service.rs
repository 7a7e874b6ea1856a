//! One microservice with its tracing SDK. It serves a call by doing its own work, then
//! calling its dependencies stage by stage (the calls of a stage in parallel: a fan-out),
//! then answering. Around that it does what an instrumented service does: take the trace
//! context from the incoming `traceparent` (or start a trace when there is none, or when
//! the design does not propagate), open a span, put a `traceparent` naming that span on
//! every outgoing call, and hand the finished span to its exporter if the trace is sampled.
//!
//! A dependency that does not answer within the RPC timeout fails the call; an error from
//! any dependency fails it too (the span records the error, as an HTTP 500 would). One
//! service fails a share of its calls on purpose: the rare errors tracing exists to find.

use super::exporter::{Exporter, EXPORT_MS};
use super::msg::{Msg, Obs, SpanRec};
use crate::blocks::traceparent::TraceParent;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

type Cx<'a, 'b> = &'a mut Ctx<'b, Msg, Obs>;

/// Calls one service serves at once; more are shed (not answered, no span).
pub const MAX_ACTIVE: usize = 4_096;

const T_EXPORT: u64 = 0;
const K_WORK: u64 = 1;
const K_TIMEOUT: u64 = 2;

#[derive(Clone, Debug)]
pub struct SvcCfg {
    /// Dependencies, called stage by stage after the service's own work; the calls of one
    /// stage go out together.
    pub stages: Vec<Vec<NodeId>>,
    /// Mean of the exponential part of the service's own work, on top of a 0.2 ms floor.
    pub work_ms: f64,
    /// Calls failed on purpose, per thousand.
    pub error_permille: u64,
    pub timeout_ms: u64,
    pub collector: NodeId,
    /// Whether outgoing calls carry a `traceparent` and incoming ones are continued.
    pub propagate: bool,
    /// Probability that a trace this service starts is sampled (1 records everything).
    pub root_sample: f64,
}

#[derive(Clone, Debug)]
struct Active {
    caller: NodeId,
    rpc: u64,
    ctx: TraceParent,
    /// The caller's span, if the trace was continued.
    parent: Option<u64>,
    span: u64,
    start: SimTime,
    stage: usize,
    pending: BTreeSet<u64>,
    error: bool,
    injected: bool,
    children: u16,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub cfg: SvcCfg,
    active: BTreeMap<u64, Active>,
    next_slot: u64,
    /// Outgoing call → the slot of the call it serves.
    outstanding: BTreeMap<u64, u64>,
    pub exporter: Exporter,
    pub served: u64,
    pub failed: u64,
}

impl Service {
    pub fn new(cfg: SvcCfg) -> Service {
        Service {
            cfg,
            active: BTreeMap::new(),
            next_slot: 0,
            outstanding: BTreeMap::new(),
            exporter: Exporter::default(),
            served: 0,
            failed: 0,
        }
    }

    fn accept(&mut self, caller: NodeId, rpc: u64, header: Option<String>, ctx: Cx) {
        if self.active.len() >= MAX_ACTIVE {
            ctx.metrics.add("calls_shed", 1);
            return;
        }
        let continued = if self.cfg.propagate { header.and_then(|h| TraceParent::parse(&h).ok()) } else { None };
        let span = ctx.rng.next_u64().max(1);
        let (tp, parent) = match continued {
            Some(tp) => (tp, Some(tp.parent_id)),
            None => {
                let trace = (u128::from(ctx.rng.next_u64()) << 64 | u128::from(ctx.rng.next_u64())).max(1);
                let sampled = ctx.rng.chance(self.cfg.root_sample);
                (TraceParent::new(trace, span, sampled), None)
            }
        };
        self.next_slot += 1;
        let slot = self.next_slot;
        let a = Active {
            caller,
            rpc,
            ctx: tp,
            parent,
            span,
            start: ctx.local_time(),
            stage: 0,
            pending: BTreeSet::new(),
            error: false,
            injected: false,
            children: 0,
        };
        self.active.insert(slot, a);
        let work = 0.2 + ctx.rng.exponential(self.cfg.work_ms);
        ctx.set_timer(SimDuration::from_ms_f64(work), slot << 8 | K_WORK);
    }

    fn work_done(&mut self, slot: u64, ctx: Cx) {
        let Some(a) = self.active.get_mut(&slot) else { return };
        if self.cfg.error_permille > 0 && ctx.rng.below(1_000) < self.cfg.error_permille {
            a.error = true;
            a.injected = true;
            self.finish(slot, ctx);
            return;
        }
        self.next_stage(slot, ctx);
    }

    /// Starts the stage the call is at, or answers when there is none left.
    fn next_stage(&mut self, slot: u64, ctx: Cx) {
        let Some(a) = self.active.get_mut(&slot) else { return };
        let Some(callees) = self.cfg.stages.get(a.stage) else {
            self.finish(slot, ctx);
            return;
        };
        let header = self.cfg.propagate.then(|| a.ctx.child(a.span).format());
        for &to in callees {
            let rpc = ctx.rng.next_u64();
            a.pending.insert(rpc);
            a.children += 1;
            self.outstanding.insert(rpc, slot);
            ctx.observe(Obs::Call { rpc, parent: Some(a.rpc) });
            ctx.send(to, Msg::Call { rpc, traceparent: header.clone() });
        }
        let tag = slot << 8 | (a.stage as u64) << 4 | K_TIMEOUT;
        ctx.set_timer(SimDuration::from_ms(self.cfg.timeout_ms), tag);
    }

    fn reply(&mut self, rpc: u64, ok: bool, ctx: Cx) {
        let Some(slot) = self.outstanding.remove(&rpc) else { return };
        let Some(a) = self.active.get_mut(&slot) else { return };
        if !a.pending.remove(&rpc) {
            return;
        }
        a.error |= !ok;
        if !a.pending.is_empty() {
            return;
        }
        if a.error {
            self.finish(slot, ctx);
            return;
        }
        a.stage += 1;
        self.next_stage(slot, ctx);
    }

    fn timeout(&mut self, slot: u64, stage: usize, ctx: Cx) {
        let Some(a) = self.active.get_mut(&slot) else { return };
        if a.stage != stage || a.pending.is_empty() {
            return;
        }
        for rpc in std::mem::take(&mut a.pending) {
            self.outstanding.remove(&rpc);
        }
        a.error = true;
        ctx.metrics.add("rpc_timeouts", 1);
        self.finish(slot, ctx);
    }

    /// Answers the caller, closes the span and queues it for export if sampled.
    fn finish(&mut self, slot: u64, ctx: Cx) {
        let Some(a) = self.active.remove(&slot) else { return };
        ctx.send(a.caller, Msg::Reply { rpc: a.rpc, ok: !a.error });
        let sampled = a.ctx.sampled();
        if sampled {
            self.exporter.push(SpanRec {
                trace: a.ctx.trace_id,
                span: a.span,
                parent: a.parent,
                service: ctx.me(),
                start_us: a.start.micros(),
                end_us: ctx.local_time().micros().max(a.start.micros()),
                error: a.error,
                children: a.children,
            });
        }
        self.served += 1;
        if a.error {
            self.failed += 1;
        }
        ctx.observe(Obs::Served {
            rpc: a.rpc,
            service: ctx.me(),
            trace: a.ctx.trace_id,
            span: a.span,
            parent: a.parent,
            exported: sampled,
            injected: a.injected,
        });
    }
}

impl Actor for Service {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: Cx) {
        ctx.set_timer(SimDuration::from_ms(EXPORT_MS), T_EXPORT);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: Cx) {
        match msg {
            Msg::Call { rpc, traceparent } => self.accept(from, rpc, traceparent, ctx),
            Msg::Reply { rpc, ok } => self.reply(rpc, ok, ctx),
            Msg::Ack { spans } => self.exporter.ack(&spans),
            Msg::Export { .. } | Msg::Store { .. } => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: Cx) {
        match tag & 0xf {
            T_EXPORT => {
                self.exporter.flush(self.cfg.collector, ctx);
                ctx.set_timer(SimDuration::from_ms(EXPORT_MS), T_EXPORT);
            }
            K_WORK => self.work_done(tag >> 8, ctx),
            K_TIMEOUT => self.timeout(tag >> 8, ((tag >> 4) & 0xf) as usize, ctx),
            _ => {}
        }
    }

    /// Calls in progress die with the process; the exporter's queue is on disk.
    fn on_crash(&mut self) {
        self.active.clear();
        self.outstanding.clear();
    }

    fn describe(&self) -> String {
        format!("{} served, {} failed, {} queued", self.served, self.failed, self.exporter.len())
    }
}
