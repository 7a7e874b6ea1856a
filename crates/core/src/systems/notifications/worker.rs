//! A fan-out worker: pulls a batch task from the queue, spends `per_user_us` per user
//! reading preferences and rendering, then sends one request per channel to that
//! channel's provider with the batch's recipients.
//!
//! - Fire-and-forget: the queue forgot the task when it handed it out, and the worker
//!   moves on as soon as its requests leave. A crash loses the batch in hand and any
//!   prefetched; a provider error or throttle loses that request.
//! - Ack + retry + dedup: the worker waits for every provider reply, retries failures
//!   and timeouts with capped exponential backoff and jitter, and acknowledges the task
//!   only when all channels are done. Each request carries the idempotency key (campaign,
//!   user, channel), so the retries and redeliveries this causes never double-send.

use super::bits::Bits;
use super::msg::{Msg, Obs, Task};
use super::prefs::{wants, Campaign, Channel, Prefs, QuietClock};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::VecDeque;

const KIND_FILTERED: u64 = 1;
const KIND_TIMEOUT: u64 = 2;
const KIND_RETRY: u64 = 3;
const KIND_REPULL: u64 = 4;
/// How long an idle worker waits on its long poll before asking again (a poll may be lost).
const REPULL_MS: u64 = 500;
/// How long a worker waits for a provider's reply beyond the time the request itself
/// needs at the provider's rate and its longest admitted backlog (a fixed timeout shorter
/// than a big batch's send time would retry requests that are merely slow, and the
/// copies would eat the provider's capacity).
pub const REPLY_SLACK_MS: u64 = 300;
/// Backoff: base × 2^(attempt−1), capped, then jittered to 50–100 %.
const BACKOFF_BASE_MS: u64 = 20;
const BACKOFF_CAP_MS: u64 = 640;

/// The recipients of users `first .. first + count` of `campaign`, per channel, as the
/// workers' filter decides (the design under test).
pub fn recipients(campaign: &Campaign, first: u32, count: u32, salt: u64, clock: QuietClock) -> [Option<Bits>; 3] {
    let mut out: [Option<Bits>; 3] = [None, None, None];
    for ch in Channel::ALL {
        if campaign.channels & ch.bit() == 0 {
            continue;
        }
        let mut b = Bits::new(count);
        for i in 0..count {
            if wants(&Prefs::of(salt, first + i), campaign, ch, clock) {
                b.set(i);
            }
        }
        if !b.is_empty() && b.count() > 0 {
            out[ch.index()] = Some(b);
        }
    }
    out
}

#[derive(Clone, Debug)]
pub struct WorkerCfg {
    pub acks: bool,
    pub keyed: bool,
    pub queue: NodeId,
    pub providers: [NodeId; 3],
    pub per_user_us: u64,
    pub salt: u64,
    pub clock: QuietClock,
    /// Each provider's rate limit (messages per second) and admitted backlog (ms).
    pub rates: [u64; 3],
    pub max_backlog_ms: u64,
}

#[derive(Clone, Debug)]
struct Pending {
    users: Bits,
    attempt: u32,
    done: bool,
}

#[derive(Clone, Debug)]
struct Job {
    task: Task,
    channels: [Option<Pending>; 3],
}

#[derive(Clone, Debug)]
pub struct Worker {
    pub cfg: WorkerCfg,
    job: Option<Job>,
    backlog: VecDeque<Task>,
    /// Bumped per job and per poll so stale timers are recognised.
    seq: u64,
    polling: bool,
    pub batches: u64,
    pub retries: u64,
    pub lost_requests: u64,
}

impl Worker {
    pub fn new(cfg: WorkerCfg) -> Worker {
        Worker {
            cfg,
            job: None,
            backlog: VecDeque::new(),
            seq: 0,
            polling: false,
            batches: 0,
            retries: 0,
            lost_requests: 0,
        }
    }

    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    fn tag(&self, attempt: u32, ch: usize, kind: u64) -> u64 {
        (self.seq << 24) | (u64::from(attempt & 0xffff) << 8) | ((ch as u64) << 4) | kind
    }

    fn pull(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.seq += 1;
        self.polling = true;
        ctx.send(self.cfg.queue, Msg::Pull);
        ctx.set_timer(SimDuration::from_ms(REPULL_MS), self.tag(0, 0, KIND_REPULL));
    }

    fn next(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self.backlog.pop_front() {
            Some(task) => {
                self.seq += 1;
                self.polling = false;
                self.job = Some(Job { task, channels: [None, None, None] });
                let us = (u64::from(task.count) * self.cfg.per_user_us).max(1);
                ctx.set_timer(SimDuration::from_us(us), self.tag(0, 0, KIND_FILTERED));
            }
            None => self.pull(ctx),
        }
    }

    fn send(&mut self, ch: usize, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(job) = &self.job else { return };
        let Some(p) = &job.channels[ch] else { return };
        let t = job.task;
        ctx.send(
            self.cfg.providers[ch],
            Msg::Send {
                task: t.id,
                campaign: t.campaign,
                channel: Channel::ALL[ch],
                partition: t.partition,
                first: t.first,
                users: p.users.clone(),
                keyed: self.cfg.keyed,
                attempt: p.attempt,
            },
        );
        if self.cfg.acks {
            let tag = self.tag(p.attempt, ch, KIND_TIMEOUT);
            let need_ms = p.users.count() * 1_000 / self.cfg.rates[ch].max(1);
            ctx.set_timer(SimDuration::from_ms(REPLY_SLACK_MS + self.cfg.max_backlog_ms + need_ms), tag);
        }
    }

    /// Finishes the job once every channel is done (at once, without acks).
    fn maybe_finish(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(job) = &self.job else { return };
        if !self.cfg.acks || job.channels.iter().flatten().all(|p| p.done) {
            if self.cfg.acks {
                ctx.send(self.cfg.queue, Msg::Ack { task: job.task.id });
            }
            self.job = None;
            self.batches += 1;
            self.next(ctx);
        }
    }

    fn retry(&mut self, ch: usize, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.job.as_mut().and_then(|j| j.channels[ch].as_mut()) else { return };
        let exp = BACKOFF_BASE_MS.saturating_mul(1 << p.attempt.min(10)).min(BACKOFF_CAP_MS);
        let wait = exp / 2 + ctx.rng.below(exp / 2 + 1);
        p.attempt += 1;
        let attempt = p.attempt;
        let tag = self.tag(attempt, ch, KIND_RETRY);
        self.retries += 1;
        ctx.set_timer(SimDuration::from_ms(wait.max(1)), tag);
        if let Some(job) = &self.job {
            ctx.send(self.cfg.queue, Msg::Touch { task: job.task.id });
        }
    }

    fn current(&self, task: u64, ch: Channel, attempt: u32) -> bool {
        self.job
            .as_ref()
            .and_then(|j| (j.task.id == task).then_some(&j.channels[ch.index()]))
            .is_some_and(|p| matches!(p, Some(p) if !p.done && p.attempt == attempt))
    }
}

impl Actor for Worker {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.pull(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Deliver { task, .. } => {
                self.backlog.push_back(task);
                if self.job.is_none() {
                    self.next(ctx);
                }
            }
            Msg::SendOk { task, channel, attempt } if self.current(task, channel, attempt) => {
                if let Some(p) = self.job.as_mut().and_then(|j| j.channels[channel.index()].as_mut()) {
                    p.done = true;
                }
                self.maybe_finish(ctx);
            }
            Msg::SendFailed { task, channel, attempt, .. } if self.current(task, channel, attempt) => {
                self.retry(channel.index(), ctx);
            }
            Msg::SendFailed { .. } if !self.cfg.acks => self.lost_requests += 1,
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag >> 24 != self.seq {
            return;
        }
        let (attempt, ch, kind) = (((tag >> 8) & 0xffff) as u32, ((tag >> 4) & 0xf) as usize, tag & 0xf);
        match kind {
            KIND_REPULL if self.polling && self.job.is_none() => self.pull(ctx),
            KIND_FILTERED => {
                let Some(job) = self.job.as_mut() else { return };
                let t = job.task;
                let r = recipients(&t.campaign, t.first, t.count, self.cfg.salt, self.cfg.clock);
                for (i, b) in r.into_iter().enumerate() {
                    job.channels[i] = b.map(|users| Pending { users, attempt: 1, done: false });
                }
                for i in 0..3 {
                    self.send(i, ctx);
                }
                self.maybe_finish(ctx);
            }
            KIND_TIMEOUT => {
                if let Some(job) = &self.job {
                    if self.current(job.task.id, Channel::ALL[ch], attempt) {
                        self.retry(ch, ctx);
                    }
                }
            }
            KIND_RETRY => {
                let live = self
                    .job
                    .as_ref()
                    .and_then(|j| j.channels[ch].as_ref())
                    .is_some_and(|p| !p.done && p.attempt == attempt);
                if live {
                    self.send(ch, ctx);
                }
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.job = None;
        self.backlog.clear();
        self.polling = false;
    }

    fn describe(&self) -> String {
        match &self.job {
            Some(j) => format!("#{} p{} ({} batches done)", j.task.campaign.id, j.task.partition, self.batches),
            None => format!("idle ({} batches done)", self.batches),
        }
    }
}
