//! A scheduler node. Each holds the whole job registry and, once its clock says a fire is
//! due, considers it: under the skip policy a fire more than `deadline_ms` late is skipped
//! (Kubernetes CronJob's `startingDeadlineSeconds`); otherwise it is dispatched to a worker
//! and followed until it settles — applied, refused as already done or superseded, or
//! failed more than `retries` times. A run the worker reports failed is retried after a
//! backoff; a run that does not answer in time is dispatched again (its outcome is
//! unknown, so it does not count as a failure).
//!
//! Which fires a node may consider is the strategy's *gate*:
//! - `Everyone` — every node fires every job (plain cron on N machines).
//! - `PerFireLock` — a node first takes the coordinator's lock for `job@minute`; the
//!   winner dispatches, the others drop the fire.
//! - `Leader` — only the holder of the coordinator's lease dispatches, and only while its
//!   lease is valid on its own clock (counted from when it asked, a lower bound). Before
//!   dispatching a fire it records the intent at the coordinator (refused unless its term
//!   is the live one). A new term resumes from the progress the coordinator kept and
//!   finishes every fire recorded as started, whatever the policy. Every dispatch carries
//!   a token: the term's epoch in the high half, a per-term counter in the low half.
//!
//! Progress ("every fire of job j up to minute m is settled") is what a node resumes from
//! after a restart: kept on the node's own disk under `Everyone` and `PerFireLock`, and at
//! the coordinator under `Leader`. With the catch-up policy, resuming runs every fire it
//! missed; with skip, only those still inside their deadline.

use super::jobs::{Job, MS_PER_MINUTE};
use super::msg::{FireId, Msg, Obs, Outcome, Refusal};
use super::worker::{settles, REQUEST_TIMEOUT_MS, REQUEST_TRIES};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

const TAG_TICK: u64 = 1;
const TAG_FIRE: u64 = 2;
const TAG_RUN_TIMEOUT: u64 = 3;
const TAG_RETRY: u64 = 4;
const TAG_RESERVE_TIMEOUT: u64 = 5;
const RESERVE_TIMEOUT_MS: u64 = 40;
const FAIL_BACKOFF_MS: u64 = 50;
const UNREACHABLE_BACKOFF_MS: u64 = 100;
/// Spans kept for the timeline.
const MAX_SPANS: usize = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Everyone,
    PerFireLock,
    Leader,
}

#[derive(Clone, Debug)]
pub struct SchedCfg {
    pub gate: Gate,
    /// This node's number (staggers the first election so sched-0 usually wins it).
    pub index: u32,
    pub jobs: Vec<Job>,
    pub coord: NodeId,
    pub workers: Vec<NodeId>,
    pub lease_ms: u64,
    pub run_ms: u64,
    pub retries: u32,
    pub skip: bool,
    pub deadline_ms: u64,
}

impl SchedCfg {
    /// How long to wait for a run before dispatching it again: the job, plus the worker's
    /// own retries of the target, plus slack.
    pub fn run_timeout_ms(&self) -> u64 {
        self.run_ms + 2 * REQUEST_TIMEOUT_MS * u64::from(REQUEST_TRIES) + 30
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the per-fire lock or for the coordinator to record the intent.
    Reserving,
    Running,
    Waiting,
}

#[derive(Clone, Debug)]
struct Pending {
    /// Identifies the current attempt's timers.
    attempt: u64,
    run: u64,
    dispatches: u64,
    failures: u32,
    state: State,
}

#[derive(Clone, Debug, Default)]
struct JobState {
    /// The next fire not yet considered.
    next: Option<i64>,
    pending: BTreeMap<i64, Pending>,
}

/// One dispatch (or skip), for the timeline.
#[derive(Clone, Debug)]
pub struct DispatchSpan {
    pub start_ms: f64,
    pub end_ms: Option<f64>,
    pub fire: FireId,
    pub token: u64,
    pub result: &'static str,
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
    /// Durable under `Everyone` and `PerFireLock`: per job, settled up to this minute.
    pub own_progress: Vec<i64>,
    lease: Option<(u64, SimTime)>,
    seq: u64,
    ready: bool,
    jobs: Vec<JobState>,
    /// Leader gate: fires an earlier term recorded as started and did not settle.
    resume: BTreeSet<FireId>,
    acquires: Vec<(u64, SimTime)>,
    next_req: u64,
    next_attempt: u64,
    fire_gen: u64,
    tick_gen: u64,
    pub spans: Vec<DispatchSpan>,
    pub terms: Vec<Term>,
    pub dispatched: u64,
    pub skipped: u64,
}

impl Scheduler {
    pub fn new(cfg: SchedCfg) -> Scheduler {
        let n = cfg.jobs.len();
        Scheduler {
            cfg,
            own_progress: vec![-1; n],
            lease: None,
            seq: 0,
            ready: false,
            jobs: vec![JobState::default(); n],
            resume: BTreeSet::new(),
            acquires: Vec::new(),
            next_req: 0,
            next_attempt: 0,
            fire_gen: 0,
            tick_gen: 0,
            spans: Vec::new(),
            terms: Vec::new(),
            dispatched: 0,
            skipped: 0,
        }
    }

    pub fn epoch(&self) -> Option<u64> {
        self.lease.map(|(e, _)| e)
    }

    /// Whether this node may dispatch now.
    fn active(&self, ctx: &Ctx<'_, Msg, Obs>) -> bool {
        match self.cfg.gate {
            Gate::Leader => self.ready && self.lease.is_some_and(|(_, until)| ctx.local_time() < until),
            _ => self.ready,
        }
    }

    /// Per job, the last minute up to which every fire is settled.
    pub fn progress(&self) -> Vec<i64> {
        self.jobs
            .iter()
            .map(|j| {
                let first_open = j.pending.keys().next().copied().into_iter().chain(j.next).min();
                first_open.map_or(i64::MAX / 4, |m| m - 1)
            })
            .collect()
    }

    /// Starts considering fires after `progress` (per job).
    fn load(&mut self, progress: &[i64], ctx: &mut Ctx<'_, Msg, Obs>) {
        for (j, state) in self.jobs.iter_mut().enumerate() {
            let after = progress.get(j).copied().unwrap_or(-1);
            *state = JobState { next: self.cfg.jobs[j].next_after(after), pending: BTreeMap::new() };
        }
        self.ready = true;
        self.poll_due(ctx);
    }

    fn timer(&self, ctx: &mut Ctx<'_, Msg, Obs>, after_ms: u64, kind: u64, payload: u64) {
        ctx.set_timer(SimDuration::from_ms(after_ms.max(1)), payload << 4 | kind);
    }

    /// Considers every fire whose minute has come on this node's clock, then sets a timer
    /// for the next one.
    fn poll_due(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.active(ctx) {
            return;
        }
        let local_ms = ctx.local_time().as_ms() as i64;
        let now_minute = local_ms.div_euclid(MS_PER_MINUTE as i64);
        for j in 0..self.jobs.len() {
            while let Some(k) = self.jobs[j].next.filter(|&k| k <= now_minute) {
                self.jobs[j].next = self.cfg.jobs[j].next_after(k);
                self.consider(j, k, local_ms, ctx);
            }
        }
        if let Some(k) = self.jobs.iter().filter_map(|j| j.next).min() {
            self.fire_gen += 1;
            let wait = (k * MS_PER_MINUTE as i64 - local_ms).max(1) as u64;
            self.timer(ctx, wait, TAG_FIRE, self.fire_gen);
        }
    }

    fn consider(&mut self, j: usize, k: i64, local_ms: i64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let fire = FireId { job: j as u8, minute: k };
        let p = Pending { attempt: 0, run: 0, dispatches: 0, failures: 0, state: State::Running };
        if self.resume.remove(&fire) {
            // Started by an earlier term: finish it, whatever the policy says.
            self.jobs[j].pending.insert(k, p);
            self.dispatch(fire, ctx);
            return;
        }
        let late = self.cfg.skip && local_ms - k * MS_PER_MINUTE as i64 > self.cfg.deadline_ms as i64;
        if late {
            self.skipped += 1;
            self.span(ctx, fire, 0, Some("skipped (late)"));
            self.settle_progress();
            return;
        }
        self.jobs[j].pending.insert(k, p);
        match self.cfg.gate {
            Gate::Everyone => self.dispatch(fire, ctx),
            _ => self.reserve(fire, ctx),
        }
    }

    fn pending(&mut self, fire: FireId) -> Option<&mut Pending> {
        self.jobs.get_mut(fire.job as usize)?.pending.get_mut(&fire.minute)
    }

    /// Whether `fire` waits for its lock or for its intent to be recorded.
    fn reserving(&self, fire: FireId) -> bool {
        self.jobs
            .get(fire.job as usize)
            .and_then(|j| j.pending.get(&fire.minute))
            .is_some_and(|p| p.state == State::Reserving)
    }

    fn new_attempt(&mut self, fire: FireId) -> u64 {
        self.next_attempt += 1;
        let id = self.next_attempt;
        if let Some(p) = self.pending(fire) {
            p.attempt = id;
        }
        id
    }

    /// Takes the per-fire lock, or records the leader's intent, before dispatching.
    fn reserve(&mut self, fire: FireId, ctx: &mut Ctx<'_, Msg, Obs>) {
        let id = self.new_attempt(fire);
        if let Some(p) = self.pending(fire) {
            p.state = State::Reserving;
        }
        let msg = match (self.cfg.gate, self.lease) {
            (Gate::Leader, Some((epoch, _))) => Msg::Intent { epoch, fire },
            _ => Msg::TryLock { fire, ttl_ms: self.cfg.lease_ms },
        };
        ctx.send(self.cfg.coord, msg);
        self.timer(ctx, RESERVE_TIMEOUT_MS, TAG_RESERVE_TIMEOUT, id);
    }

    fn dispatch(&mut self, fire: FireId, ctx: &mut Ctx<'_, Msg, Obs>) {
        let id = self.new_attempt(fire);
        let run = ctx.rng.next_u64();
        let token = match (self.cfg.gate, self.lease) {
            (Gate::Leader, Some((epoch, _))) => {
                self.seq += 1;
                epoch << 32 | self.seq
            }
            _ => 0,
        };
        let Some(p) = self.pending(fire) else { return };
        p.run = run;
        p.state = State::Running;
        p.dispatches += 1;
        // Spread fires over workers; each retry moves to the next one.
        let w = (fire.job as u64 + fire.minute.unsigned_abs() + p.dispatches - 1) % self.cfg.workers.len() as u64;
        let worker = self.cfg.workers[w as usize];
        ctx.send(worker, Msg::Run { run, fire, token });
        ctx.observe(Obs::Dispatched { fire, run, token, by: ctx.me() });
        self.dispatched += 1;
        self.span(ctx, fire, token, None);
        self.timer(ctx, self.cfg.run_timeout_ms(), TAG_RUN_TIMEOUT, id);
    }

    fn span(&mut self, ctx: &Ctx<'_, Msg, Obs>, fire: FireId, token: u64, done: Option<&'static str>) {
        let at = ctx.now().as_ms();
        self.spans.push(DispatchSpan {
            start_ms: at,
            end_ms: done.map(|_| at),
            fire,
            token,
            result: done.unwrap_or(""),
        });
        if self.spans.len() > MAX_SPANS {
            self.spans.remove(0);
        }
    }

    fn close_span(&mut self, ctx: &Ctx<'_, Msg, Obs>, fire: FireId, result: &'static str) {
        if let Some(s) = self.spans.iter_mut().rev().find(|s| s.fire == fire && s.end_ms.is_none()) {
            s.end_ms = Some(ctx.now().as_ms());
            s.result = result;
        }
    }

    fn settle(&mut self, fire: FireId) {
        if let Some(j) = self.jobs.get_mut(fire.job as usize) {
            j.pending.remove(&fire.minute);
        }
        self.settle_progress();
    }

    fn settle_progress(&mut self) {
        if self.cfg.gate != Gate::Leader {
            let now = self.progress();
            for (mine, p) in self.own_progress.iter_mut().zip(now) {
                *mine = (*mine).max(p);
            }
        }
    }

    /// The pending fire whose current attempt is `id`.
    fn by_attempt(&self, id: u64) -> Option<FireId> {
        self.jobs.iter().enumerate().find_map(|(j, s)| {
            s.pending.iter().find(|(_, p)| p.attempt == id).map(|(&k, _)| FireId { job: j as u8, minute: k })
        })
    }

    fn on_run_done(&mut self, run: u64, fire: FireId, outcome: Outcome, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.active(ctx) {
            return;
        }
        let retries = self.cfg.retries;
        let Some(p) = self.pending(fire).filter(|p| p.run == run && p.state == State::Running) else { return };
        let (attempt, failures) = match outcome {
            Outcome::Failed => {
                p.failures += 1;
                (p.attempt, p.failures)
            }
            _ => (p.attempt, 0),
        };
        let result = match outcome {
            Outcome::Applied => "applied",
            Outcome::Refused(Refusal::AlreadyDone) => "already done",
            Outcome::Refused(Refusal::Stale) => "fenced",
            Outcome::Failed => "job failed",
            Outcome::Unreachable => "target unreachable",
        };
        self.close_span(ctx, fire, result);
        if settles(outcome) || (outcome == Outcome::Failed && failures > retries) {
            self.settle(fire);
            return;
        }
        if let Some(p) = self.pending(fire) {
            p.state = State::Waiting;
        }
        let backoff =
            if outcome == Outcome::Failed { FAIL_BACKOFF_MS * u64::from(failures) } else { UNREACHABLE_BACKOFF_MS };
        self.timer(ctx, backoff, TAG_RETRY, attempt);
    }

    /// Leader gate: stop dispatching, forget what was in flight.
    fn step_down(&mut self, ctx: &Ctx<'_, Msg, Obs>) {
        if self.lease.take().is_some() {
            if let Some(t) = self.terms.last_mut().filter(|t| t.end_ms.is_none()) {
                t.end_ms = Some(ctx.now().as_ms());
            }
        }
        self.ready = false;
        self.resume.clear();
        for j in &mut self.jobs {
            j.pending.clear();
        }
        let now = ctx.now().as_ms();
        for s in self.spans.iter_mut().filter(|s| s.end_ms.is_none()) {
            s.end_ms = Some(now);
            s.result = "abandoned (lost the lease)";
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.cfg.gate == Gate::Leader {
            if self.lease.is_some_and(|(_, until)| ctx.local_time() >= until) {
                ctx.note("lease ran out on its own clock: stepping down");
                self.step_down(ctx);
            }
            self.next_req += 1;
            let renew = self.lease.is_some();
            let cursors = if renew { self.progress() } else { Vec::new() };
            ctx.send(self.cfg.coord, Msg::Acquire { req: self.next_req, renew, cursors });
            self.acquires.push((self.next_req, ctx.local_time()));
            if self.acquires.len() > 8 {
                self.acquires.remove(0);
            }
        }
        self.poll_due(ctx);
        self.tick_gen += 1;
        self.timer(ctx, (self.cfg.lease_ms / 3).max(1), TAG_TICK, self.tick_gen);
    }

    fn on_granted(
        &mut self,
        req: u64,
        epoch: u64,
        fresh: bool,
        grant: (Vec<i64>, Vec<FireId>),
        ctx: &mut Ctx<'_, Msg, Obs>,
    ) {
        let Some(i) = self.acquires.iter().position(|(r, _)| *r == req) else { return };
        let (_, sent) = self.acquires.remove(i);
        let until = sent + SimDuration::from_ms(self.cfg.lease_ms);
        if until <= ctx.local_time() {
            return; // an answer that took longer than the lease is worth nothing
        }
        if fresh {
            self.step_down(ctx);
            self.lease = Some((epoch, until));
            self.seq = 0;
            self.terms.push(Term { epoch, start_ms: ctx.now().as_ms(), end_ms: None });
            ctx.note(format!("leader for epoch {epoch}"));
            let (cursors, started) = grant;
            self.resume = started.into_iter().collect();
            self.load(&cursors, ctx);
        } else if let Some((_, u)) = self.lease.as_mut().filter(|(e, _)| *e == epoch) {
            // A renewal of the term this node still holds. One for a term it already left
            // is ignored: resuming it would reuse that term's tokens.
            *u = (*u).max(until);
        }
    }
}

impl Actor for Scheduler {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self.cfg.gate {
            Gate::Leader => {
                self.tick_gen += 1;
                self.timer(ctx, 1 + 7 * u64::from(self.cfg.index), TAG_TICK, self.tick_gen);
            }
            _ => {
                let progress = self.own_progress.clone();
                self.load(&progress, ctx);
                self.tick_gen += 1;
                self.timer(ctx, (self.cfg.lease_ms / 3).max(1), TAG_TICK, self.tick_gen);
            }
        }
    }

    fn on_crash(&mut self) {
        self.lease = None;
        self.ready = false;
        self.resume.clear();
        self.acquires.clear();
        for j in &mut self.jobs {
            *j = JobState::default();
        }
        if let Some(t) = self.terms.last_mut().filter(|t| t.end_ms.is_none()) {
            t.end_ms = Some(t.start_ms);
        }
        for s in self.spans.iter_mut().filter(|s| s.end_ms.is_none()) {
            s.end_ms = Some(s.start_ms);
            s.result = "lost in a crash";
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let payload = tag >> 4;
        match tag & 0xf {
            TAG_TICK if payload == self.tick_gen => self.tick(ctx),
            TAG_FIRE if payload == self.fire_gen => self.poll_due(ctx),
            TAG_RUN_TIMEOUT | TAG_RETRY | TAG_RESERVE_TIMEOUT if self.active(ctx) => {
                let Some(fire) = self.by_attempt(payload) else { return };
                let state = self.pending(fire).map(|p| p.state);
                match (tag & 0xf, state) {
                    (TAG_RUN_TIMEOUT, Some(State::Running)) => {
                        self.close_span(ctx, fire, "timed out");
                        self.dispatch(fire, ctx);
                    }
                    (TAG_RETRY, Some(State::Waiting)) => self.dispatch(fire, ctx),
                    (TAG_RESERVE_TIMEOUT, Some(State::Reserving)) => self.reserve(fire, ctx),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Granted { req, epoch, fresh, cursors, started } => {
                self.on_granted(req, epoch, fresh, (cursors, started), ctx)
            }
            Msg::Busy { req } if self.lease.is_some() && self.acquires.iter().any(|(r, _)| *r == req) => {
                ctx.note("the lease belongs to another node: stepping down");
                self.step_down(ctx);
            }
            Msg::Locked { fire } | Msg::IntentOk { fire } if self.reserving(fire) && self.active(ctx) => {
                self.dispatch(fire, ctx);
            }
            Msg::NotLeader { fire } if self.reserving(fire) && self.lease.is_some() => {
                ctx.note("the coordinator refused the intent: stepping down");
                self.step_down(ctx);
            }
            Msg::LockBusy { fire } if self.reserving(fire) => {
                self.span(ctx, fire, 0, Some("lock held elsewhere"));
                self.settle(fire);
            }
            Msg::RunDone { run, fire, outcome } => self.on_run_done(run, fire, outcome, ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let pending: usize = self.jobs.iter().map(|j| j.pending.len()).sum();
        match (self.cfg.gate, self.lease) {
            (Gate::Leader, Some((e, _))) => format!("leader e{e} · {pending} in flight"),
            (Gate::Leader, None) => "follower".into(),
            _ => format!("{pending} in flight · {} dispatched", self.dispatched),
        }
    }
}
