//! The kernel loop. A `World` owns the nodes, the event queue, the network, the trace, the
//! metrics and the checks, and advances one event at a time: pop the earliest event, hand
//! it to its node with a fresh [`Ctx`], then apply what the node recorded (route sends
//! through the network, schedule timers, feed observations to the checks). Everything a
//! run does flows through [`World::step`], so one seed and one fault plan give one trace.

use super::fault::TimedFault;
use super::net::{DropReason, LinkConfig, Network, Route};
use super::node::{Actor, Clock, Ctx, Effects, Message};
use super::queue::EventQueue;
use super::rng::Prng;
use super::time::SimTime;
use super::NodeId;
use crate::check::{Checks, Property, RunEnd};
use crate::metrics::Metrics;
use crate::trace::hash::stable_hash;
use crate::trace::{Trace, TraceEvent, TraceKind};

mod faults;

/// Hard limits on a world, whatever a scenario asks for.
pub const MAX_NODES: usize = 512;
/// Events a world may hold waiting at once (messages in flight, timers, faults). A run that
/// reaches it is stopped with [`Stop::Backlog`] and says so, so no scenario the bounds allow
/// can take unbounded memory: an open-loop flood into a slow tier grows the queue, not the
/// heap without end. It sits [`QUEUE_HEADROOM`] below 2²⁰ so that the effects of the one
/// handler that crosses it do not double the queue's allocation (its capacity grows in
/// powers of two): about 120 MB of queue at the limit natively, far above any run that is
/// still saying something (the busiest default scenario holds a few thousand).
pub const MAX_PENDING_EVENTS: usize = (1 << 20) - QUEUE_HEADROOM;
/// Room above [`MAX_PENDING_EVENTS`] for one handler's sends; sends beyond it are dropped
/// (the run is being stopped anyway).
pub const QUEUE_HEADROOM: usize = 1 << 14;

/// Whether a node is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Up,
    Down,
    Paused { until: SimTime },
}

#[derive(Clone)]
enum Ev<M> {
    Start { node: NodeId },
    Deliver { from: NodeId, to: NodeId, sent_at: SimTime, msg: M },
    Timer { node: NodeId, tag: u64, epoch: u32 },
    Fault { index: u32 },
    Resume { node: NodeId },
}

/// Bookkeeping the kernel keeps per node.
#[derive(Clone)]
pub struct NodeMeta {
    pub name: String,
    pub role: &'static str,
    pub status: Status,
    /// Incremented on every restart; timers from an earlier life are ignored.
    pub epoch: u32,
    pub clock: Clock,
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Reached the requested time.
    Time,
    /// Reached the end of the scenario.
    Horizon,
    /// Nothing left to do.
    Idle,
    /// Used up the event budget (the run is cut short, and says so).
    Budget,
    /// Held [`MAX_PENDING_EVENTS`] events waiting at once (cut short, and says so).
    Backlog,
}

impl Stop {
    /// Whether a limit, not the scenario, ended the run.
    pub fn cut_short(self) -> bool {
        matches!(self, Stop::Budget | Stop::Backlog)
    }
}

impl Status {
    /// "up", "down" or "paused": how views and the topology name it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Up => "up",
            Status::Down => "down",
            Status::Paused { .. } => "paused",
        }
    }
}

/// Trace codes folded into the hash, one per event kind.
mod code {
    pub const START: u64 = 0;
    pub const DELIVER: u64 = 1;
    pub const TIMER: u64 = 2;
    pub const FAULT: u64 = 3;
    pub const DROP: u64 = 4;
    pub const RESUME: u64 = 5;
    pub const VIOLATION: u64 = 6;
}

/// How to build a world.
pub struct WorldConfig {
    pub seed: u64,
    pub link: LinkConfig,
    /// End of the scenario: events after it are not run.
    pub horizon: SimTime,
    /// Most events a run may handle.
    pub budget: u64,
    /// Recent trace events kept for display (0: hash only).
    pub keep_trace: usize,
    pub series_interval_ms: u64,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            seed: 0,
            link: LinkConfig::default(),
            horizon: SimTime::from_ms(10_000),
            budget: 20_000_000,
            keep_trace: 0,
            series_interval_ms: 100,
        }
    }
}

/// A simulated cluster of actors `A`.
#[derive(Clone)]
pub struct World<A: Actor> {
    now: SimTime,
    queue: EventQueue<Ev<A::Msg>>,
    nodes: Vec<A>,
    meta: Vec<NodeMeta>,
    /// Per node: messages and timers that arrived while it was paused, in arrival order.
    stalled: Vec<Vec<Ev<A::Msg>>>,
    pub net: Network,
    rngs: Vec<Prng>,
    root: Prng,
    pub trace: Trace,
    pub metrics: Metrics,
    checks: Checks<A::Obs>,
    faults: Vec<TimedFault>,
    first_disruption: Option<String>,
    events: u64,
    budget: u64,
    horizon: SimTime,
    stopped: Option<Stop>,
    /// Directed links that have carried traffic (bitset, `from * n + to`).
    used_links: Vec<u64>,
    fx: Effects<A::Msg, A::Obs>,
}

/// A message on the wire: who sent it, to whom, and when it left and lands.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Flight {
    pub from: NodeId,
    pub to: NodeId,
    pub sent_at: SimTime,
    pub arrives_at: SimTime,
    pub label: String,
}

/// A node being added to a world.
pub struct NodeSpec<A> {
    pub name: String,
    pub role: &'static str,
    pub actor: A,
    /// A spare that starts powered off; a `Restart` fault brings it in (a node joining).
    pub starts_down: bool,
}

impl<A> NodeSpec<A> {
    pub fn new(name: impl Into<String>, role: &'static str, actor: A) -> Self {
        NodeSpec { name: name.into(), role, actor, starts_down: false }
    }

    /// Marks the node as a spare that joins later (see [`NodeSpec::starts_down`]).
    pub fn spare(mut self) -> Self {
        self.starts_down = true;
        self
    }
}

/// A problem building a world (bad node name in a fault, too many nodes).
#[derive(Clone, Debug, PartialEq)]
pub struct BuildError(pub String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<A: Actor> World<A> {
    pub fn new(
        cfg: WorldConfig,
        specs: Vec<NodeSpec<A>>,
        props: Vec<Box<dyn Property<A::Obs>>>,
        faults: Vec<TimedFault>,
    ) -> Result<World<A>, BuildError> {
        if specs.is_empty() || specs.len() > MAX_NODES {
            return Err(BuildError(format!("a world needs 1..={MAX_NODES} nodes, got {}", specs.len())));
        }
        let n = specs.len();
        let root = Prng::new(cfg.seed);
        let mut nodes = Vec::with_capacity(n);
        let mut meta = Vec::with_capacity(n);
        let mut rngs = Vec::with_capacity(n);
        let mut spares = Vec::new();
        for (i, s) in specs.into_iter().enumerate() {
            if s.starts_down {
                spares.push(i);
            }
            rngs.push(root.fork(&format!("node/{}", s.name)));
            meta.push(NodeMeta {
                name: s.name,
                role: s.role,
                status: if s.starts_down { Status::Down } else { Status::Up },
                epoch: 0,
                clock: Clock::default(),
            });
            nodes.push(s.actor);
        }
        let mut world = World {
            now: SimTime::ZERO,
            queue: EventQueue::default(),
            nodes,
            meta,
            stalled: vec![Vec::new(); n],
            net: Network::new(n, cfg.link, root.fork("net")),
            rngs,
            root,
            trace: Trace::new(cfg.keep_trace),
            metrics: Metrics::new(cfg.series_interval_ms),
            checks: Checks::new(props),
            faults: Vec::new(),
            first_disruption: None,
            events: 0,
            budget: cfg.budget,
            horizon: cfg.horizon,
            stopped: None,
            used_links: vec![0; (n * n).div_ceil(64)],
            fx: Effects::default(),
        };
        for f in &faults {
            for name in f.fault.names() {
                if world.resolve(name).is_empty() {
                    return Err(BuildError(format!(
                        "fault `{}` names `{name}`, which is neither a node nor a role",
                        f.fault.describe()
                    )));
                }
            }
        }
        for id in 0..n as NodeId {
            if !spares.contains(&(id as usize)) {
                world.queue.push(SimTime::ZERO, Ev::Start { node: id });
            }
        }
        for f in faults {
            world.schedule_fault(f);
        }
        Ok(world)
    }

    /// Schedules a fault (from the plan, or clicked in the UI) at its time.
    pub fn schedule_fault(&mut self, f: TimedFault) {
        let at = SimTime::from_ms(f.at_ms).max(self.now);
        let index = self.faults.len() as u32;
        self.faults.push(f);
        self.queue.push_first(at, Ev::Fault { index });
    }

    /// Node ids a fault name refers to: one node by name, or every node of a role.
    pub fn resolve(&self, name: &str) -> Vec<NodeId> {
        if let Some(i) = self.meta.iter().position(|m| m.name == name) {
            return vec![i as NodeId];
        }
        (0..self.meta.len() as NodeId).filter(|&i| self.meta[i as usize].role == name).collect()
    }

    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn events(&self) -> u64 {
        self.events
    }
    /// Events waiting in the queue (at most [`MAX_PENDING_EVENTS`] plus one handler's sends).
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    pub fn horizon(&self) -> SimTime {
        self.horizon
    }
    pub fn nodes(&self) -> &[A] {
        &self.nodes
    }
    pub fn meta(&self) -> &[NodeMeta] {
        &self.meta
    }
    pub fn node_names(&self) -> Vec<String> {
        self.meta.iter().map(|m| m.name.clone()).collect()
    }
    pub fn faults(&self) -> &[TimedFault] {
        &self.faults
    }
    pub fn checks(&self) -> &Checks<A::Obs> {
        &self.checks
    }
    pub fn stopped(&self) -> Option<Stop> {
        self.stopped
    }
    /// A stream for system-level draws made while building (never used by the kernel).
    pub fn fork_rng(&self, label: &str) -> Prng {
        self.root.fork(label)
    }
    pub fn link_used(&self, from: NodeId, to: NodeId) -> bool {
        let i = from as usize * self.meta.len() + to as usize;
        self.used_links.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Messages on the wire right now (at most `max`), for the animated topology.
    pub fn in_flight(&self, max: usize) -> Vec<Flight> {
        let mut out: Vec<Flight> = self
            .queue
            .iter()
            .filter_map(|(at, ev)| match ev {
                Ev::Deliver { from, to, sent_at, msg } if from != to => {
                    Some(Flight { from: *from, to: *to, sent_at: *sent_at, arrives_at: at, label: msg.label() })
                }
                _ => None,
            })
            .take(max)
            .collect();
        out.sort_by_key(|f| (f.sent_at, f.from, f.to, f.arrives_at));
        out
    }

    /// Runs until virtual time `until` (inclusive), the horizon, the budget, or idleness.
    pub fn run_until(&mut self, until: SimTime) -> Stop {
        self.run_until_capped(until, u64::MAX).unwrap_or(Stop::Budget)
    }

    /// Like [`run_until`](Self::run_until), but handles events only while the total event
    /// count is below `cap`; `None` means the cap stopped it first (a frame budget, not
    /// the run's own budget).
    pub fn run_until_capped(&mut self, until: SimTime, cap: u64) -> Option<Stop> {
        loop {
            if let Some(stop) = self.stopped {
                return Some(stop);
            }
            if self.events >= cap {
                return None;
            }
            match self.queue.peek_time() {
                None => return Some(self.halt(Stop::Idle)),
                Some(t) if t > self.horizon => return Some(self.halt(Stop::Horizon)),
                Some(t) if t > until => {
                    self.now = self.now.max(until);
                    return Some(Stop::Time);
                }
                Some(_) => {
                    self.step();
                }
            }
        }
    }

    /// Runs the whole scenario and judges end-of-run checks.
    pub fn run_to_end(&mut self) -> Stop {
        let stop = self.run_until(SimTime::MAX);
        self.finish();
        stop
    }

    fn halt(&mut self, stop: Stop) -> Stop {
        if !stop.cut_short() {
            self.now = self.now.max(self.horizon.min(self.queue.peek_time().unwrap_or(self.horizon)));
        }
        self.stopped = Some(stop);
        stop
    }

    /// Judges end-of-run properties (idempotent).
    pub fn finish(&mut self) {
        let end = RunEnd { now: self.now, metrics: &self.metrics, disruption: self.first_disruption.as_deref() };
        self.checks.finish(self.events, &end);
    }

    /// Handles the earliest event. Returns false when nothing is left within the horizon.
    pub fn step(&mut self) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        if self.events >= self.budget {
            self.halt(Stop::Budget);
            return false;
        }
        if self.queue.len() >= MAX_PENDING_EVENTS {
            self.halt(Stop::Backlog);
            return false;
        }
        let Some((at, _, ev)) = self.queue.pop() else {
            self.halt(Stop::Idle);
            return false;
        };
        if at > self.horizon {
            match ev {
                Ev::Fault { .. } => self.queue.push_first(at, ev),
                _ => self.queue.push(at, ev),
            };
            self.halt(Stop::Horizon);
            return false;
        }
        self.now = at;
        let seq = self.events;
        self.events += 1;
        match ev {
            Ev::Start { node } => {
                self.trace.fold(seq, at, node, code::START, 0);
                self.dispatch(seq, node, |a, ctx| a.on_start(ctx));
            }
            Ev::Deliver { from, to, sent_at, msg } => self.deliver(seq, from, to, sent_at, msg),
            Ev::Timer { node, tag, epoch } => self.timer(seq, node, tag, epoch),
            Ev::Fault { index } => self.apply_fault(seq, index as usize),
            Ev::Resume { node } => self.resume(seq, node),
        }
        true
    }

    fn deliver(&mut self, seq: u64, from: NodeId, to: NodeId, sent_at: SimTime, msg: A::Msg) {
        match self.meta[to as usize].status {
            Status::Down => {
                self.trace.fold(seq, self.now, to, code::DROP, stable_hash(&msg));
                if self.trace.keeping() {
                    let kind = TraceKind::Drop { from, to, label: msg.label(), reason: DropReason::NodeDown };
                    self.trace.keep_event(TraceEvent { seq, at: self.now, node: to, kind });
                }
            }
            Status::Paused { .. } => self.stalled[to as usize].push(Ev::Deliver { from, to, sent_at, msg }),
            Status::Up => {
                self.trace.fold(seq, self.now, to, code::DELIVER, stable_hash(&msg) ^ u64::from(from));
                if self.trace.keeping() {
                    let kind = TraceKind::Deliver { from, sent_at, label: msg.label() };
                    self.trace.keep_event(TraceEvent { seq, at: self.now, node: to, kind });
                }
                self.dispatch(seq, to, move |a, ctx| a.on_message(from, msg, ctx));
            }
        }
    }

    fn timer(&mut self, seq: u64, node: NodeId, tag: u64, epoch: u32) {
        let m = &mut self.meta[node as usize];
        if m.epoch != epoch || m.status == Status::Down {
            return;
        }
        if let Status::Paused { .. } = m.status {
            self.stalled[node as usize].push(Ev::Timer { node, tag, epoch });
            return;
        }
        self.trace.fold(seq, self.now, node, code::TIMER, tag);
        if self.trace.keeping() {
            self.trace.keep_event(TraceEvent { seq, at: self.now, node, kind: TraceKind::Timer { tag } });
        }
        self.dispatch(seq, node, |a, ctx| a.on_timer(tag, ctx));
    }

    fn resume(&mut self, seq: u64, node: NodeId) {
        let m = &mut self.meta[node as usize];
        match m.status {
            Status::Paused { until } if until <= self.now => {}
            _ => return,
        }
        m.status = Status::Up;
        self.trace.fold(seq, self.now, node, code::RESUME, 0);
        for ev in std::mem::take(&mut self.stalled[node as usize]) {
            self.queue.push(self.now, ev);
        }
    }

    fn note_event(&mut self, seq: u64, node: NodeId, kind: TraceKind) {
        if self.trace.keeping() {
            self.trace.keep_event(TraceEvent { seq, at: self.now, node, kind });
        }
    }

    /// Runs one handler on `node` and applies its effects.
    fn dispatch(&mut self, seq: u64, node: NodeId, f: impl FnOnce(&mut A, &mut Ctx<'_, A::Msg, A::Obs>)) {
        let i = node as usize;
        let mut ctx = Ctx {
            now: self.now,
            me: node,
            clock: self.meta[i].clock,
            rng: &mut self.rngs[i],
            metrics: &mut self.metrics,
            fx: &mut self.fx,
        };
        f(&mut self.nodes[i], &mut ctx);
        self.apply_effects(seq, node);
    }

    fn apply_effects(&mut self, seq: u64, node: NodeId) {
        let n = self.meta.len();
        let mut sends = std::mem::take(&mut self.fx.sends);
        for (to, msg) in sends.drain(..) {
            if to as usize >= n {
                continue;
            }
            let bit = node as usize * n + to as usize;
            self.used_links[bit / 64] |= 1 << (bit % 64);
            match self.net.route(self.now, node, to) {
                Route::Arrives(at, dup) => {
                    if self.queue.len() >= MAX_PENDING_EVENTS + QUEUE_HEADROOM {
                        continue;
                    }
                    if let Some(at2) = dup {
                        self.queue.push(at2, Ev::Deliver { from: node, to, sent_at: self.now, msg: msg.clone() });
                    }
                    self.queue.push(at, Ev::Deliver { from: node, to, sent_at: self.now, msg });
                }
                Route::Dropped(reason) => {
                    self.trace.fold(seq, self.now, node, code::DROP, stable_hash(&msg));
                    if self.trace.keeping() {
                        let kind = TraceKind::Drop { from: node, to, label: msg.label(), reason };
                        self.trace.keep_event(TraceEvent { seq, at: self.now, node, kind });
                    }
                }
            }
        }
        self.fx.sends = sends;
        let epoch = self.meta[node as usize].epoch;
        let clock = self.meta[node as usize].clock;
        for (after, tag) in self.fx.timers.drain(..) {
            let at = self.now + clock.real_duration(after);
            self.queue.push(at, Ev::Timer { node, tag, epoch });
        }
        if !self.fx.notes.is_empty() {
            for text in std::mem::take(&mut self.fx.notes) {
                self.note_event(seq, node, TraceKind::Note { text });
            }
        }
        if !self.fx.obs.is_empty() {
            let obs = std::mem::take(&mut self.fx.obs);
            for o in &obs {
                for (check, detail) in self.checks.observe(seq, self.now, o) {
                    self.trace.fold(seq, self.now, node, code::VIOLATION, stable_hash(check));
                    self.note_event(seq, node, TraceKind::Violation { check: check.to_string(), detail });
                }
            }
            self.fx.obs = obs;
            self.fx.obs.clear();
        }
    }
}
