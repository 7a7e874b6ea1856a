//! A channel provider (APNs/FCM for push, an email service, an SMS gateway) behind the
//! notification service's own gateway. It sends at most `rate_per_s` messages a second:
//! requests queue behind each other, and one that would wait longer than `max_backlog_ms`
//! is refused with a 429. A request fails with probability `fail_pct`: half the time it
//! is rejected before anything is sent, half the time it is sent but the reply is lost —
//! the case that turns a retry into a duplicate.
//!
//! The gateway honours idempotency keys: a keyed request skips users whose (campaign,
//! user, channel) key it has already sent. The key table is durable (a real one is a
//! database with a TTL); requests in progress die with a crash.
//!
//! What the provider actually delivers is reported as `Obs::Delivered` — the recorder the
//! checks build on, independent of what any worker believes.

use super::bits::Bits;
use super::msg::{Msg, Obs};
use super::prefs::Channel;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
struct InProgress {
    from: NodeId,
    msg: Msg,
}

#[derive(Clone, Debug)]
pub struct Provider {
    pub channel: Channel,
    rate_per_s: u64,
    max_backlog: SimDuration,
    fail_pct: u64,
    free_at: SimTime,
    next_id: u64,
    work: BTreeMap<u64, InProgress>,
    /// Idempotency keys seen, per campaign (bits over the campaign's user range).
    keys: BTreeMap<u32, Bits>,
    /// Messages delivered per (campaign, partition, sender), for the fan-out tree.
    pub delivered: BTreeMap<(u32, u32, NodeId), u64>,
    pub total: u64,
    pub throttled: u64,
    pub failed: u64,
    pub deduped: u64,
    /// Messages delivered per `interval_ms` of simulated time.
    pub per_interval: Vec<u64>,
    pub interval_ms: u64,
}

impl Provider {
    pub fn new(channel: Channel, rate_per_s: u64, max_backlog_ms: u64, fail_pct: u64, interval_ms: u64) -> Provider {
        Provider {
            channel,
            rate_per_s: rate_per_s.max(1),
            max_backlog: SimDuration::from_ms(max_backlog_ms),
            fail_pct,
            free_at: SimTime::ZERO,
            next_id: 0,
            work: BTreeMap::new(),
            keys: BTreeMap::new(),
            delivered: BTreeMap::new(),
            total: 0,
            throttled: 0,
            failed: 0,
            deduped: 0,
            per_interval: Vec::new(),
            interval_ms: interval_ms.max(1),
        }
    }

    /// Hands a request's users their messages (minus already-keyed ones) and reports them.
    fn deliver(&mut self, from: NodeId, msg: &Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::Send { campaign, partition, first, users, keyed, .. } = msg else { return };
        let mut out = users.clone();
        if *keyed {
            let seen = self.keys.entry(campaign.id).or_insert_with(|| Bits::new(campaign.count));
            for i in users.ones() {
                let k = first + i - campaign.first;
                if seen.get(k) {
                    out.clear(i);
                    self.deduped += 1;
                } else {
                    seen.set(k);
                }
            }
        }
        let n = out.count();
        if n == 0 {
            return;
        }
        self.total += n;
        *self.delivered.entry((campaign.id, *partition, from)).or_default() += n;
        let slot = (ctx.now().as_ms() as u64 / self.interval_ms) as usize;
        if slot < 100_000 {
            if self.per_interval.len() <= slot {
                self.per_interval.resize(slot + 1, 0);
            }
            self.per_interval[slot] += n;
        }
        ctx.observe(Obs::Delivered { campaign: campaign.id, channel: self.channel, first: *first, users: out });
    }
}

impl Actor for Provider {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::Send { task, channel, attempt, ref users, .. } = msg else { return };
        let now = ctx.now();
        let start = self.free_at.max(now);
        if start.since(now) > self.max_backlog {
            self.throttled += 1;
            ctx.send(from, Msg::SendFailed { task, channel, attempt, throttled: true });
            return;
        }
        let us = (users.count() * 1_000_000).div_ceil(self.rate_per_s).max(1);
        self.free_at = start + SimDuration::from_us(us);
        self.next_id += 1;
        self.work.insert(self.next_id, InProgress { from, msg });
        ctx.set_timer(self.free_at.since(now), self.next_id);
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(InProgress { from, msg }) = self.work.remove(&tag) else { return };
        let Msg::Send { task, channel, attempt, .. } = msg else { return };
        let roll = ctx.rng.below(200);
        if roll < self.fail_pct {
            // Rejected: nothing sent.
            self.failed += 1;
            ctx.send(from, Msg::SendFailed { task, channel, attempt, throttled: false });
        } else if roll < 2 * self.fail_pct {
            // Sent, but the reply never comes back.
            self.failed += 1;
            self.deliver(from, &msg, ctx);
        } else {
            self.deliver(from, &msg, ctx);
            ctx.send(from, Msg::SendOk { task, channel, attempt });
        }
    }

    fn on_crash(&mut self) {
        self.work.clear();
        self.free_at = SimTime::ZERO;
    }

    fn describe(&self) -> String {
        format!("{} sent, {} throttled, {} failed, {} deduped", self.total, self.throttled, self.failed, self.deduped)
    }
}
