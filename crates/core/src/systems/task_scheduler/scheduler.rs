//! A scheduler node. The one holding the coordinator's lease is the leader; the others
//! only ask for the lease. The leader:
//!
//! 1. **Finds due rounds** every `tick_ms` on its own clock. `Wheel` keeps one entry per
//!    task in the `timing_wheel` block at the task's next fire (computed with the `cron`
//!    block) and pays only for the entries that come due; `PollTable` does what
//!    `SELECT … WHERE next_run <= now()` on an unindexed table does, and pays a full pass
//!    over every row on every tick. (To keep the simulation cheap the poller finds its
//!    rows through the same wheel; the time it *charges* is the full scan's,
//!    `rows × row_ns`. The block's own scan twin and benchmark measure the real cost.)
//!    The node is busy for that long: the dispatches go out when the work is done, and the
//!    next tick waits for it.
//! 2. **Records before dispatching**: each batch of starts (with their fencing tokens:
//!    `lease::token(epoch, n)`) and settlements goes to the coordinator, and only its
//!    acknowledgement releases the `Run` messages. A new leader resumes from that record.
//! 3. **Follows each execution's lease**: a worker's heartbeats renew it; if it runs out,
//!    or the worker reports a failure, the round is retried under a new token after an
//!    exponential backoff (`backoff_ms × 2^(attempt−1)`), up to `retries` times.
//! 4. **Runs one round of a task at a time** (a due round waits for the previous one to
//!    settle), and starts a pipeline task's round only once every parent of that round has
//!    settled as succeeded — recorded in the same batch as the children's starts.

use super::msg::{Handover, Msg, Obs, TaskRound};
use super::table::{next_fire_ms, Kind, TaskId, TaskTable, DAG, MS_PER_MINUTE};
use crate::blocks::lease::token;
use crate::blocks::timing_wheel::TimingWheel;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;
use std::sync::Arc;

const TAG_LEASE: u64 = 1;
const TAG_TICK: u64 = 2;
const TAG_FLUSH: u64 = 3;
const TAG_RECORD_TIMEOUT: u64 = 4;
const RECORD_TIMEOUT_MS: u64 = 30;
/// Wheel levels: 64^4 ticks reach past a week even at 1 ms ticks.
const WHEEL_LEVELS: u32 = 4;
/// Simulated cost of loading one task into the index after a failover.
pub const LOAD_NS: u64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    PollTable,
    Wheel,
}

#[derive(Clone, Debug)]
pub struct SchedCfg {
    pub index: u32,
    pub design: Design,
    pub table: Arc<TaskTable>,
    pub coord: NodeId,
    pub workers: Vec<NodeId>,
    pub lease_ms: u64,
    pub exec_lease_ms: u64,
    pub tick_ms: u64,
    pub run_ms: u64,
    pub retries: u32,
    pub backoff_ms: u64,
    pub row_ns: u64,
    pub dispatch_us: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the next batch.
    ToStart,
    /// In a batch the coordinator has not acknowledged yet.
    Recording,
    Running,
    Backoff,
}

#[derive(Clone, Debug)]
struct Exec {
    round: u64,
    token: u64,
    /// Failed attempts so far.
    failures: u32,
    state: State,
    /// Lease expiry, or when the backoff ends (local clock).
    until: SimTime,
}

#[derive(Clone, Debug)]
struct Batch {
    through_ms: i64,
    started: Vec<(TaskRound, u64)>,
    settled: Vec<(TaskRound, bool)>,
}

/// One leadership term, for the timeline.
#[derive(Clone, Debug)]
pub struct Term {
    pub epoch: u64,
    pub start_ms: f64,
    pub end_ms: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Scheduler {
    pub cfg: SchedCfg,
    lease: Option<(u64, SimTime)>,
    acquires: Vec<(u64, SimTime)>,
    next_req: u64,
    seq: u64,
    pub wheel: Option<TimingWheel<TaskId>>,
    execs: BTreeMap<TaskId, Exec>,
    /// Rounds due while the task's previous round was still open.
    held: BTreeMap<TaskId, Vec<u64>>,
    /// Pipeline rounds settled (succeeded or given up), as this leader knows them.
    pub pipeline: BTreeMap<TaskRound, bool>,
    settled: Vec<(TaskRound, bool)>,
    batches: BTreeMap<u64, Batch>,
    next_batch: u64,
    through_ms: i64,
    busy_until: SimTime,
    tick_gen: u64,
    lease_gen: u64,
    next_worker: usize,
    pub terms: Vec<Term>,
    /// When this node last handled anything: a crash gives no time, so a term it ends is
    /// closed here (the crash comes after the last handled event, before the next).
    last_seen_ms: f64,
    pub dispatched: u64,
    pub retried: u64,
    /// Rows the last pass charged for, and the simulated time spent finding due rounds.
    pub last_rows: u64,
    pub busy_us: u64,
}

impl Scheduler {
    pub fn new(cfg: SchedCfg) -> Scheduler {
        Scheduler {
            cfg,
            lease: None,
            acquires: Vec::new(),
            next_req: 0,
            seq: 0,
            wheel: None,
            execs: BTreeMap::new(),
            held: BTreeMap::new(),
            pipeline: BTreeMap::new(),
            settled: Vec::new(),
            batches: BTreeMap::new(),
            next_batch: 0,
            through_ms: -1,
            busy_until: SimTime::ZERO,
            tick_gen: 0,
            lease_gen: 0,
            next_worker: 0,
            terms: Vec::new(),
            last_seen_ms: 0.0,
            dispatched: 0,
            retried: 0,
            last_rows: 0,
            busy_us: 0,
        }
    }

    pub fn epoch(&self) -> Option<u64> {
        self.lease.map(|(e, _)| e)
    }

    fn active(&self, ctx: &Ctx<'_, Msg, Obs>) -> bool {
        self.wheel.is_some() && self.lease.is_some_and(|(_, until)| ctx.local_time() < until)
    }

    fn timer(ctx: &mut Ctx<'_, Msg, Obs>, after: SimDuration, kind: u64, payload: u64) {
        ctx.set_timer(SimDuration(after.0.max(1)), payload << 4 | kind);
    }

    /// Stop leading: forget everything in flight (the coordinator has the record).
    fn step_down(&mut self, ctx: &Ctx<'_, Msg, Obs>) {
        if self.lease.take().is_some() {
            if let Some(t) = self.terms.last_mut().filter(|t| t.end_ms.is_none()) {
                t.end_ms = Some(ctx.now().as_ms());
            }
        }
        self.wheel = None;
        self.execs.clear();
        self.held.clear();
        self.pipeline.clear();
        self.settled.clear();
        self.batches.clear();
        self.tick_gen += 1;
    }

    /// A fresh term: build the index from the table, resume from the record.
    fn load(&mut self, h: Handover, ctx: &mut Ctx<'_, Msg, Obs>) {
        let table = Arc::clone(&self.cfg.table);
        let after_minute = h.through_ms.div_euclid(MS_PER_MINUTE as i64);
        let mut wheel = TimingWheel::new(self.cfg.tick_ms, WHEEL_LEVELS);
        // One next-fire search per distinct expression, then one entry per task.
        let next_by_slot: BTreeMap<u32, Option<u64>> =
            table.weekly.iter().map(|(&slot, s)| (slot, next_fire_ms(s, after_minute))).collect();
        for t in 0..table.recurring {
            if let Some(Some(at)) = next_by_slot.get(&super::table::slot_of(t)) {
                wheel.insert(*at, t);
            }
        }
        if let Some(at) = next_fire_ms(&table.pipeline, after_minute) {
            wheel.insert(at, table.pipeline_task(0));
        }
        for (j, &at) in table.oneshots.iter().enumerate() {
            if at as i64 > h.through_ms {
                wheel.insert(at, table.recurring + DAG.len() as u32 + j as u32);
            }
        }
        // Building the index takes time in proportion to the table.
        let cost = SimDuration(u64::from(table.len()) * LOAD_NS / 1_000);
        self.busy_until = ctx.local_time() + cost;
        self.busy_us += cost.0;
        self.wheel = Some(wheel);
        self.through_ms = h.through_ms;
        self.pipeline = h.pipeline.iter().copied().collect();
        // Rounds an earlier term started and nobody settled: run them again, under a new
        // (higher) token that fences the old execution off at the sink.
        for (tr, _) in &h.open {
            self.start_round(tr.task, tr.round);
        }
        // Pipeline rounds whose children were due when the last term ended.
        for (tr, ok) in h.pipeline {
            if let (true, Kind::Pipeline(k)) = (ok, table.kind(tr.task)) {
                self.start_ready_children(k, tr.round);
            }
        }
        self.tick_gen += 1;
        Self::timer(ctx, cost, TAG_TICK, self.tick_gen);
    }

    /// Queues a round: it starts with the next batch, or waits for the task's open round.
    fn start_round(&mut self, task: TaskId, round: u64) {
        let tr = TaskRound { task, round };
        if self.pipeline.contains_key(&tr) {
            return;
        }
        match self.execs.get(&task) {
            Some(e) if e.round == round => {}
            Some(_) => {
                let h = self.held.entry(task).or_default();
                if !h.contains(&round) {
                    h.push(round);
                }
            }
            None => {
                let e = Exec { round, token: 0, failures: 0, state: State::ToStart, until: SimTime::ZERO };
                self.execs.insert(task, e);
            }
        }
    }

    fn start_ready_children(&mut self, k: usize, round: u64) {
        let table = Arc::clone(&self.cfg.table);
        for c in TaskTable::children(k) {
            let ok = |p: &usize| {
                self.pipeline.get(&TaskRound { task: table.pipeline_task(*p), round }).copied().unwrap_or(false)
            };
            if DAG[c].1.iter().all(ok) {
                self.start_round(table.pipeline_task(c), round);
            }
        }
    }

    fn settle(&mut self, task: TaskId, ok: bool) {
        let Some(e) = self.execs.remove(&task) else { return };
        let tr = TaskRound { task, round: e.round };
        self.settled.push((tr, ok));
        if let Kind::Pipeline(k) = self.cfg.table.kind(task) {
            self.pipeline.insert(tr, ok);
            if ok {
                self.start_ready_children(k, e.round);
            }
        }
        if let Some(h) = self.held.get_mut(&task) {
            if !h.is_empty() {
                let next = h.remove(0);
                self.start_round(task, next);
            }
        }
    }

    fn fail_attempt(&mut self, task: TaskId, now: SimTime) {
        let (retries, base) = (self.cfg.retries, self.cfg.backoff_ms);
        let Some(e) = self.execs.get_mut(&task) else { return };
        e.failures += 1;
        if e.failures > retries {
            self.settle(task, false);
            return;
        }
        e.state = State::Backoff;
        e.until = now + SimDuration::from_ms(base << (e.failures - 1).min(16));
    }

    /// One pass: due rounds out of the index, lapsed leases and ended backoffs, then one
    /// batch to record, sent once the pass's simulated cost has elapsed.
    fn tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.active(ctx) {
            return;
        }
        let now = ctx.local_time();
        if now < self.busy_until {
            Self::timer(ctx, self.busy_until.since(now), TAG_TICK, self.tick_gen);
            return;
        }
        let table = Arc::clone(&self.cfg.table);
        let now_ms = now.micros() / 1_000;
        let due = self.wheel.as_mut().map(|w| w.advance(now_ms)).unwrap_or_default();
        for &(at, task) in &due {
            self.start_round(task, at);
            // Re-arm a recurring task at its next fire.
            let again = match table.kind(task) {
                Kind::Recurring(slot) => table.weekly.get(&slot),
                Kind::Pipeline(0) => Some(&table.pipeline),
                _ => None,
            };
            if let Some(next) = again.and_then(|s| next_fire_ms(s, (at / MS_PER_MINUTE) as i64)) {
                if let Some(w) = self.wheel.as_mut() {
                    w.insert(next, task);
                }
            }
        }
        self.through_ms = self.through_ms.max(now_ms as i64);
        let lapsed: Vec<TaskId> = self
            .execs
            .iter()
            .filter(|(_, e)| matches!(e.state, State::Running | State::Backoff) && e.until <= now)
            .map(|(&t, _)| t)
            .collect();
        for task in lapsed {
            match self.execs.get(&task).map(|e| e.state) {
                Some(State::Running) => {
                    ctx.note(format!("lease of task {task} lapsed: retry"));
                    self.fail_attempt(task, now);
                }
                Some(State::Backoff) => {
                    if let Some(e) = self.execs.get_mut(&task) {
                        e.state = State::ToStart;
                    }
                }
                _ => {}
            }
        }
        let epoch = self.epoch().unwrap_or(0);
        let mut started = Vec::new();
        for (&task, e) in self.execs.iter_mut().filter(|(_, e)| e.state == State::ToStart) {
            self.seq += 1;
            e.token = token(epoch, self.seq);
            e.state = State::Recording;
            started.push((TaskRound { task, round: e.round }, e.token));
        }
        let rows = match self.cfg.design {
            Design::PollTable => u64::from(table.len()),
            Design::Wheel => 0,
        };
        self.last_rows = rows;
        let cost = SimDuration(rows * self.cfg.row_ns / 1_000 + started.len() as u64 * self.cfg.dispatch_us);
        self.busy_us += cost.0;
        self.busy_until = now + cost;
        if !started.is_empty() || !self.settled.is_empty() {
            self.next_batch += 1;
            let settled = std::mem::take(&mut self.settled);
            self.batches.insert(self.next_batch, Batch { through_ms: self.through_ms, started, settled });
            Self::timer(ctx, cost, TAG_FLUSH, self.next_batch);
        }
        let next = SimDuration::from_ms(self.cfg.tick_ms).0.max(cost.0);
        Self::timer(ctx, SimDuration(next), TAG_TICK, self.tick_gen);
    }

    fn send_batch(&mut self, id: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let (Some(b), Some(epoch)) = (self.batches.get(&id), self.epoch()) else { return };
        if !self.active(ctx) {
            return;
        }
        let msg = Msg::Record {
            epoch,
            batch: id,
            through_ms: b.through_ms,
            started: b.started.clone(),
            settled: b.settled.clone(),
        };
        ctx.send(self.cfg.coord, msg);
        Self::timer(ctx, SimDuration::from_ms(RECORD_TIMEOUT_MS), TAG_RECORD_TIMEOUT, id);
    }

    fn on_recorded(&mut self, id: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.active(ctx) {
            return;
        }
        let Some(b) = self.batches.remove(&id) else { return };
        let until = ctx.local_time() + SimDuration::from_ms(self.cfg.exec_lease_ms);
        for (tr, tok) in b.started {
            let Some(e) = self.execs.get_mut(&tr.task).filter(|e| e.token == tok && e.state == State::Recording) else {
                continue;
            };
            e.state = State::Running;
            e.until = until;
            if e.failures > 0 {
                self.retried += 1;
            }
            let worker = self.cfg.workers[self.next_worker % self.cfg.workers.len()];
            self.next_worker += 1;
            ctx.send(worker, Msg::Run { token: tok, tr, run_ms: self.cfg.run_ms });
            self.dispatched += 1;
        }
    }

    fn lease_tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.lease.is_some_and(|(_, until)| ctx.local_time() >= until) {
            ctx.note("lease ran out on its own clock: stepping down");
            self.step_down(ctx);
        }
        self.next_req += 1;
        ctx.send(self.cfg.coord, Msg::Acquire { req: self.next_req, renew: self.lease.is_some() });
        self.acquires.push((self.next_req, ctx.local_time()));
        if self.acquires.len() > 8 {
            self.acquires.remove(0);
        }
        self.lease_gen += 1;
        Self::timer(ctx, SimDuration::from_ms((self.cfg.lease_ms / 3).max(1)), TAG_LEASE, self.lease_gen);
    }

    fn on_granted(&mut self, req: u64, epoch: u64, handover: Option<Handover>, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(i) = self.acquires.iter().position(|(r, _)| *r == req) else { return };
        let (_, sent) = self.acquires.remove(i);
        // Counted from when it asked: a lower bound of the coordinator's expiry.
        let until = sent + SimDuration::from_ms(self.cfg.lease_ms);
        if until <= ctx.local_time() {
            return;
        }
        match handover {
            Some(h) => {
                self.step_down(ctx);
                self.lease = Some((epoch, until));
                self.seq = 0;
                self.terms.push(Term { epoch, start_ms: ctx.now().as_ms(), end_ms: None });
                ctx.note(format!("leader for epoch {epoch}"));
                self.load(h, ctx);
            }
            None => {
                if let Some((_, u)) = self.lease.as_mut().filter(|(e, _)| *e == epoch) {
                    *u = (*u).max(until);
                }
            }
        }
    }

    fn exec_by_token(&self, tok: u64) -> Option<TaskId> {
        self.execs.iter().find(|(_, e)| e.token == tok && e.state == State::Running).map(|(&t, _)| t)
    }

    /// Open executions (for the view).
    pub fn open(&self) -> usize {
        self.execs.len()
    }
}

impl Actor for Scheduler {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.lease_gen += 1;
        Self::timer(ctx, SimDuration::from_ms(1 + 7 * u64::from(self.cfg.index)), TAG_LEASE, self.lease_gen);
    }

    fn on_crash(&mut self) {
        self.lease = None;
        self.acquires.clear();
        self.wheel = None;
        self.execs.clear();
        self.held.clear();
        self.pipeline.clear();
        self.settled.clear();
        self.batches.clear();
        if let Some(t) = self.terms.last_mut().filter(|t| t.end_ms.is_none()) {
            t.end_ms = Some(self.last_seen_ms.max(t.start_ms));
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.last_seen_ms = ctx.now().as_ms();
        let payload = tag >> 4;
        match tag & 0xf {
            TAG_LEASE if payload == self.lease_gen => self.lease_tick(ctx),
            TAG_TICK if payload == self.tick_gen => self.tick(ctx),
            TAG_FLUSH | TAG_RECORD_TIMEOUT => self.send_batch(payload, ctx),
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.last_seen_ms = ctx.now().as_ms();
        match msg {
            Msg::Granted { req, epoch, handover } => self.on_granted(req, epoch, handover, ctx),
            Msg::Busy { req } if self.lease.is_some() && self.acquires.iter().any(|(r, _)| *r == req) => {
                ctx.note("the lease belongs to another node: stepping down");
                self.step_down(ctx);
            }
            Msg::RecordOk { batch } => self.on_recorded(batch, ctx),
            Msg::NotLeader { batch } if self.batches.contains_key(&batch) => {
                ctx.note("the coordinator refused the record: stepping down");
                self.step_down(ctx);
            }
            Msg::Heartbeat { token: tok } => {
                let live = self.active(ctx).then(|| self.exec_by_token(tok)).flatten();
                match live {
                    Some(task) => {
                        let until = ctx.local_time() + SimDuration::from_ms(self.cfg.exec_lease_ms);
                        if let Some(e) = self.execs.get_mut(&task) {
                            e.until = until;
                        }
                    }
                    None => ctx.send(from, Msg::Lost { token: tok }),
                }
            }
            Msg::Done { token: tok, ok, .. } => {
                if !self.active(ctx) {
                    return;
                }
                if let Some(task) = self.exec_by_token(tok) {
                    if ok {
                        self.settle(task, true);
                    } else {
                        self.fail_attempt(task, ctx.local_time());
                    }
                }
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        match self.lease {
            Some((e, _)) if self.wheel.is_some() => {
                format!(
                    "leader e{e} · {} tasks indexed · {} open",
                    self.wheel.as_ref().map_or(0, |w| w.len()),
                    self.execs.len()
                )
            }
            Some((e, _)) => format!("leader e{e}"),
            None => "follower".into(),
        }
    }
}
