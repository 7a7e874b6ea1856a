//! The producer API. Marketing campaigns arrive on a schedule (campaign `i` at
//! `first_ms + i · gap_ms`); transactional one-user sends arrive as the workload's open
//! loop, capped at `MAX_TXN` per run. Each accepted send is reported (`Obs::Accepted`):
//! from then on its caller believes it will go out.
//!
//! - Inline loop: the API itself walks the users in chunks of `INLINE_CHUNK`, spending
//!   `per_user_us` each, and calls the providers straight away, without retries, one send
//!   at a time (a transactional send waits behind every campaign ahead of it). The loop
//!   lives in memory: a crash forgets the rest.
//! - Publish: the API hands the send to the queue and keeps it in a durable outbox until
//!   the queue acknowledges it, re-publishing on a timer.

use super::msg::{Msg, Obs};
use super::prefs::{self, Campaign, QuietClock};
use super::worker::recipients;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// Most transactional sends one run accepts (bounds memory under any workload).
pub const MAX_TXN: u32 = 2_000;
const KIND_CAMPAIGN: u64 = 1;
const KIND_TXN: u64 = 2;
const KIND_CHUNK: u64 = 3;
const KIND_REPUBLISH: u64 = 4;
const REPUBLISH_MS: u64 = 300;
/// Users the inline loop handles between provider calls (one event per chunk: a loop
/// that called per user would cost one event per user).
pub const INLINE_CHUNK: u32 = 100;

#[derive(Clone, Debug)]
pub struct ApiCfg {
    pub inline: bool,
    pub queue: NodeId,
    pub providers: [NodeId; 3],
    pub users: u32,
    pub campaigns: u32,
    pub first_ms: u64,
    pub gap_ms: u64,
    pub utc_hour: u32,
    pub per_user_us: u64,
    pub salt: u64,
    pub clock: QuietClock,
    pub workload: WorkloadSpec,
}

#[derive(Clone, Debug)]
pub struct Api {
    pub cfg: ApiCfg,
    /// Durable: how many campaigns and transactional sends were accepted.
    pub accepted_campaigns: u32,
    pub accepted_txn: u32,
    /// Durable outbox (publish mode): sends not yet acknowledged by the queue.
    outbox: BTreeMap<u32, Campaign>,
    /// Volatile (inline mode): the loop's work, and the next user of its head.
    pub work: VecDeque<Campaign>,
    pub cursor: u32,
    looping: bool,
    republishing: bool,
    epoch: u64,
    pub sent_requests: u64,
}

impl Api {
    pub fn new(cfg: ApiCfg) -> Api {
        Api {
            cfg,
            accepted_campaigns: 0,
            accepted_txn: 0,
            outbox: BTreeMap::new(),
            work: VecDeque::new(),
            cursor: 0,
            looping: false,
            republishing: false,
            epoch: 0,
            sent_requests: 0,
        }
    }

    fn timer(&self, ctx: &mut Ctx<'_, Msg, Obs>, after: SimDuration, kind: u64) {
        ctx.set_timer(after, (self.epoch << 4) | kind);
    }

    fn arm_campaign(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.accepted_campaigns < self.cfg.campaigns {
            let due = SimTime::from_ms(self.cfg.first_ms + u64::from(self.accepted_campaigns) * self.cfg.gap_ms);
            self.timer(ctx, SimDuration(due.0.saturating_sub(ctx.now().0)), KIND_CAMPAIGN);
        }
    }

    fn arm_txn(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.accepted_txn >= MAX_TXN || self.cfg.workload.rate_per_s <= 0.0 {
            return;
        }
        if let Some(at) = self.cfg.workload.next_arrival(ctx.now(), 1, ctx.rng) {
            self.timer(ctx, at.since(ctx.now()), KIND_TXN);
        }
    }

    fn accept(&mut self, c: Campaign, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.observe(Obs::Accepted { campaign: c });
        if self.cfg.inline {
            self.work.push_back(c);
            if !self.looping {
                self.looping = true;
                self.chunk_timer(ctx);
            }
        } else {
            self.outbox.insert(c.id, c);
            ctx.send(self.cfg.queue, Msg::Publish { campaign: c });
            if !self.republishing {
                self.republishing = true;
                self.timer(ctx, SimDuration::from_ms(REPUBLISH_MS), KIND_REPUBLISH);
            }
        }
    }

    fn chunk_timer(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(c) = self.work.front() else { return };
        let n = INLINE_CHUNK.min(c.first + c.count - self.cursor.max(c.first));
        self.timer(ctx, SimDuration::from_us((u64::from(n) * self.cfg.per_user_us).max(1)), KIND_CHUNK);
    }

    /// One chunk of the inline loop: filter it, call the providers, move on.
    fn chunk(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(&c) = self.work.front() else {
            self.looping = false;
            return;
        };
        let start = self.cursor.max(c.first);
        let n = INLINE_CHUNK.min(c.first + c.count - start);
        for (i, b) in recipients(&c, start, n, self.cfg.salt, self.cfg.clock).into_iter().enumerate() {
            let Some(users) = b else { continue };
            self.sent_requests += 1;
            ctx.send(
                self.cfg.providers[i],
                Msg::Send {
                    task: (u64::from(c.id) << 32) | u64::from(start / INLINE_CHUNK),
                    campaign: c,
                    channel: prefs::Channel::ALL[i],
                    partition: 0,
                    first: start,
                    users,
                    keyed: false,
                    attempt: 1,
                },
            );
        }
        self.cursor = start + n;
        if self.cursor >= c.first + c.count {
            self.work.pop_front();
            self.cursor = 0;
        }
        if self.work.is_empty() {
            self.looping = false;
        } else {
            self.chunk_timer(ctx);
        }
    }
}

impl Actor for Api {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.arm_campaign(ctx);
        self.arm_txn(ctx);
        if !self.outbox.is_empty() {
            self.republishing = true;
            self.timer(ctx, SimDuration::from_ms(1), KIND_REPUBLISH);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, _ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::PublishOk { campaign } = msg {
            self.outbox.remove(&campaign);
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag >> 4 != self.epoch {
            return;
        }
        match tag & 0xf {
            KIND_CAMPAIGN => {
                let c = prefs::marketing(self.accepted_campaigns, self.cfg.users, self.cfg.utc_hour);
                self.accepted_campaigns += 1;
                self.accept(c, ctx);
                self.arm_campaign(ctx);
            }
            KIND_TXN => {
                let user = ctx.rng.below(u64::from(self.cfg.users)) as u32;
                let id = self.cfg.campaigns + self.accepted_txn;
                self.accepted_txn += 1;
                self.accept(prefs::transactional(id, user, self.cfg.utc_hour), ctx);
                self.arm_txn(ctx);
            }
            KIND_CHUNK => self.chunk(ctx),
            KIND_REPUBLISH => {
                for c in self.outbox.values() {
                    ctx.send(self.cfg.queue, Msg::Publish { campaign: *c });
                }
                self.republishing = !self.outbox.is_empty();
                if self.republishing {
                    self.timer(ctx, SimDuration::from_ms(REPUBLISH_MS), KIND_REPUBLISH);
                }
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.work.clear();
        self.cursor = 0;
        self.looping = false;
        self.republishing = false;
        self.epoch += 1;
    }

    fn describe(&self) -> String {
        if self.cfg.inline {
            match self.work.front() {
                Some(c) => format!("looping #{} at user {} ({} queued)", c.id, self.cursor, self.work.len()),
                None => "idle".into(),
            }
        } else {
            format!("{} accepted, {} unacked", self.accepted_campaigns + self.accepted_txn, self.outbox.len())
        }
    }
}
