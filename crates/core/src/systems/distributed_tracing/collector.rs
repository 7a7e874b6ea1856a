//! The collector: receives span batches from every service's exporter and decides what
//! reaches storage.
//!
//! Pass-through (head sampling, or no propagation): the services already decided; every
//! span received is forwarded.
//!
//! Tail sampling (OpenTelemetry's `tailsamplingprocessor`, with a completeness rule on
//! top): spans wait in a per-trace buffer until the trace can be judged whole — a root span
//! has arrived and every span's calls have their spans — or until `decision_wait` has
//! passed since its first span (a crashed service never sends its span). Then one decision
//! for the whole trace: keep it if any span is an error, otherwise keep it if its trace id
//! hashes below the keep share (the same answer for the same trace, whoever decides).
//! Decisions are remembered (the decision cache, kept on disk), so a span arriving late
//! follows its trace's decision instead of starting a new one.
//!
//! Memory is rate × spans per trace × time in the buffer, so the buffer has a cap. What
//! happens at the cap is the `when_full` knob: decide the oldest trace now, on what has
//! arrived (errors seen so far still keep it); evict the oldest without a decision (what
//! OpenTelemetry's `num_traces` limit does: its spans are lost, errors included); or grow.

use super::msg::{Msg, Obs, SpanRec};
use crate::sim::node::{Actor, Ctx};
use crate::sim::rng::mix64;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

type Cx<'a, 'b> = &'a mut Ctx<'b, Msg, Obs>;

const T_TICK: u64 = 1;
const TICK_MS: u64 = 50;
/// Decisions remembered (by count, as OTel's decision cache).
pub const DECISIONS_KEPT: usize = 100_000;
/// Decisions shown in the view.
const RECENT: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenFull {
    DecideEarly,
    Evict,
    Grow,
}

impl WhenFull {
    pub fn from_id(id: &str) -> Option<WhenFull> {
        Some(match id {
            "decide-early" => WhenFull::DecideEarly,
            "evict" => WhenFull::Evict,
            "grow" => WhenFull::Grow,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    PassThrough,
    Tail { wait_ms: u64, keep_pct: u64, cap: usize, when_full: WhenFull },
}

/// Why a trace was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Complete,
    Waited,
    BufferFull,
    Evicted,
}

/// One decision, for the view.
#[derive(Clone, Debug)]
pub struct Decision {
    pub trace: u128,
    pub spans: usize,
    pub complete: bool,
    pub error: bool,
    pub kept: bool,
    pub reason: Reason,
    pub at: SimTime,
}

#[derive(Clone, Debug)]
struct Pending {
    spans: BTreeMap<u64, (SpanRec, NodeId)>,
    first: SimTime,
}

#[derive(Clone, Debug)]
pub struct Collector {
    pub mode: Mode,
    storage: NodeId,
    buffer: BTreeMap<u128, Pending>,
    /// (first arrival on the local clock, trace): oldest first.
    by_age: BTreeMap<(SimTime, u128), ()>,
    pub buffered: usize,
    pub peak: usize,
    /// Durable: trace → kept.
    decided: BTreeMap<u128, bool>,
    decided_order: VecDeque<u128>,
    pub recent: VecDeque<Decision>,
    pub kept: u64,
    pub dropped: u64,
    /// Traces evicted undecided although an error span had arrived.
    pub evicted_errors: u64,
}

/// Whether a trace without errors is kept: its id hashed into 0..100 falls below the share.
pub fn sampled_by_id(trace: u128, keep_pct: u64) -> bool {
    mix64((trace as u64) ^ mix64((trace >> 64) as u64)) % 100 < keep_pct
}

/// Whether the buffered spans form a whole trace: one root, and each span has as many
/// child spans as calls it made.
fn complete(spans: &BTreeMap<u64, (SpanRec, NodeId)>) -> bool {
    let roots = spans.values().filter(|(s, _)| s.parent.is_none()).count();
    roots == 1
        && spans.values().all(|(s, _)| {
            let kids = spans.values().filter(|(c, _)| c.parent == Some(s.span)).count();
            kids == usize::from(s.children)
        })
}

impl Collector {
    pub fn new(mode: Mode, storage: NodeId) -> Collector {
        Collector {
            mode,
            storage,
            buffer: BTreeMap::new(),
            by_age: BTreeMap::new(),
            buffered: 0,
            peak: 0,
            decided: BTreeMap::new(),
            decided_order: VecDeque::new(),
            recent: VecDeque::new(),
            kept: 0,
            dropped: 0,
            evicted_errors: 0,
        }
    }

    fn receive(&mut self, from: NodeId, spans: Vec<SpanRec>, ctx: Cx) {
        let Mode::Tail { keep_pct, cap, when_full, .. } = self.mode else {
            let batch = spans.into_iter().map(|s| (s, from)).collect();
            ctx.send(self.storage, Msg::Store { spans: batch });
            return;
        };
        let mut forward = Vec::new();
        let mut acks = Vec::new();
        for s in spans {
            match self.decided.get(&s.trace) {
                Some(true) => forward.push((s, from)),
                Some(false) => acks.push(s.span),
                None => {
                    if self.buffer.get(&s.trace).is_some_and(|p| p.spans.contains_key(&s.span)) {
                        continue;
                    }
                    // Make room first, so the buffer never holds more than the cap.
                    while self.buffered >= cap && when_full != WhenFull::Grow {
                        let Some((&(_, oldest), _)) = self.by_age.first_key_value() else { break };
                        let reason = if when_full == WhenFull::Evict { Reason::Evicted } else { Reason::BufferFull };
                        self.decide(oldest, reason, keep_pct, ctx);
                    }
                    let now = ctx.local_time();
                    let p =
                        self.buffer.entry(s.trace).or_insert_with(|| Pending { spans: BTreeMap::new(), first: now });
                    if p.spans.is_empty() {
                        self.by_age.insert((p.first, s.trace), ());
                    }
                    p.spans.insert(s.span, (s, from));
                    self.buffered += 1;
                    self.peak = self.peak.max(self.buffered);
                    ctx.observe(Obs::Buffered { n: 1 });
                    if complete(&self.buffer[&s.trace].spans) {
                        self.decide(s.trace, Reason::Complete, keep_pct, ctx);
                    }
                }
            }
        }
        if !forward.is_empty() {
            ctx.send(self.storage, Msg::Store { spans: forward });
        }
        if !acks.is_empty() {
            ctx.send(from, Msg::Ack { spans: acks });
        }
        ctx.metrics.gauge("collector_buffered_spans", self.buffered as f64);
    }

    /// One decision for a buffered trace: keep (to storage) or drop (acknowledged at once).
    fn decide(&mut self, trace: u128, reason: Reason, keep_pct: u64, ctx: Cx) {
        let Some(p) = self.buffer.remove(&trace) else { return };
        self.by_age.remove(&(p.first, trace));
        let n = p.spans.len();
        self.buffered -= n;
        ctx.observe(Obs::Released { n: n as u32 });
        let error = p.spans.values().any(|(s, _)| s.error);
        let kept = reason != Reason::Evicted && (error || sampled_by_id(trace, keep_pct));
        let whole = reason == Reason::Complete || complete(&p.spans);
        if reason == Reason::Evicted && error {
            self.evicted_errors += 1;
        }
        if kept {
            self.kept += 1;
            ctx.send(self.storage, Msg::Store { spans: p.spans.into_values().collect() });
        } else {
            self.dropped += 1;
            let mut by_exporter: BTreeMap<NodeId, Vec<u64>> = BTreeMap::new();
            for (s, from) in p.spans.into_values() {
                by_exporter.entry(from).or_default().push(s.span);
            }
            for (to, spans) in by_exporter {
                ctx.send(to, Msg::Ack { spans });
            }
        }
        if self.decided.insert(trace, kept).is_none() {
            self.decided_order.push_back(trace);
            if self.decided_order.len() > DECISIONS_KEPT {
                if let Some(old) = self.decided_order.pop_front() {
                    self.decided.remove(&old);
                }
            }
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(Decision { trace, spans: n, complete: whole, error, kept, reason, at: ctx.now() });
    }

    fn tick(&mut self, ctx: Cx) {
        if let Mode::Tail { wait_ms, keep_pct, .. } = self.mode {
            let now = ctx.local_time();
            let wait = SimDuration::from_ms(wait_ms);
            while let Some((&(first, trace), _)) = self.by_age.first_key_value() {
                if now.since(first) < wait {
                    break;
                }
                self.decide(trace, Reason::Waited, keep_pct, ctx);
            }
            ctx.metrics.gauge("collector_buffered_spans", self.buffered as f64);
        }
        ctx.set_timer(SimDuration::from_ms(TICK_MS), T_TICK);
    }
}

impl Actor for Collector {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: Cx) {
        ctx.set_timer(SimDuration::from_ms(TICK_MS), T_TICK);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: Cx) {
        if let Msg::Export { spans } = msg {
            self.receive(from, spans, ctx);
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: Cx) {
        if tag == T_TICK {
            self.tick(ctx);
        }
    }

    /// The buffer is memory; the decision cache is on disk. Exporters still hold every
    /// span that was buffered (nobody acknowledged it) and send it again.
    fn on_crash(&mut self) {
        self.buffer.clear();
        self.by_age.clear();
        self.buffered = 0;
    }

    fn on_restart(&mut self, ctx: Cx) {
        ctx.observe(Obs::Reset);
        self.on_start(ctx);
    }

    fn describe(&self) -> String {
        match self.mode {
            Mode::PassThrough => "pass-through".into(),
            Mode::Tail { .. } => {
                format!("{} spans buffered, {} kept, {} dropped", self.buffered, self.kept, self.dropped)
            }
        }
    }
}
