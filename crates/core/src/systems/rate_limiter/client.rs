//! Clients. Honest clients each own a key and send open-loop Poisson traffic at a rate
//! well under the limit (the scenario's workload, shared among them). The abuser owns key
//! 0: it sends like an honest client, then floods at `abuse_rate_per_s` for `abuse_ms` —
//! a rate that *rises mid-window*, which is exactly what exposes a fixed window's boundary.
//! Each request goes to a gateway picked at random (a load balancer), and a request with
//! no answer within the client timeout counts as lost.

use super::msg::{Msg, Obs, Outcome, Verdict};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TAG_BASE: u64 = 0;
const TAG_FLOOD: u64 = 1;
/// Timeout timers carry `id << 2 | TAG_TIMEOUT`.
const TAG_TIMEOUT: u64 = 2;
const TIMEOUT_MS: u64 = 1_000;

/// A flood: rate per second between two instants.
#[derive(Clone, Copy, Debug)]
pub struct Flood {
    pub rate_per_s: f64,
    pub start: SimTime,
    pub end: SimTime,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub idx: u32,
    pub key: u32,
    pub honest: bool,
    gateways: Vec<NodeId>,
    workload: WorkloadSpec,
    /// How many clients share the workload's rate.
    share: u32,
    flood: Option<Flood>,
    next_id: u64,
    outstanding: BTreeMap<u64, SimTime>,
    /// Allowed, limited, unavailable, lost, busy.
    pub tally: [u64; 5],
}

impl Client {
    pub fn new(
        idx: u32,
        key: u32,
        honest: bool,
        gateways: Vec<NodeId>,
        workload: WorkloadSpec,
        share: u32,
        flood: Option<Flood>,
    ) -> Client {
        Client {
            idx,
            key,
            honest,
            gateways,
            workload,
            share,
            flood,
            next_id: 0,
            outstanding: BTreeMap::new(),
            tally: [0; 5],
        }
    }

    fn schedule_base(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        if let Some(at) = self.workload.next_arrival(now, self.share, ctx.rng) {
            ctx.set_timer(at.since(now), TAG_BASE);
        }
    }

    fn schedule_flood(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(f) = self.flood else { return };
        let gap_s = ctx.rng.exponential(1.0 / f.rate_per_s.max(1e-3));
        let next = ctx.now() + SimDuration::from_ms_f64(gap_s * 1_000.0).max(SimDuration(1));
        if next < f.end {
            ctx.set_timer(next.since(ctx.now()), TAG_FLOOD);
        }
    }

    fn send(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.gateways.is_empty() {
            return;
        }
        self.next_id += 1;
        let id = self.next_id;
        let gw = self.gateways[ctx.rng.below(self.gateways.len() as u64) as usize];
        self.outstanding.insert(id, ctx.now());
        ctx.send(gw, Msg::Req { id, key: self.key });
        ctx.set_timer(SimDuration::from_ms(TIMEOUT_MS), id << 2 | TAG_TIMEOUT);
    }

    fn finish(&mut self, id: u64, outcome: Outcome, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(sent) = self.outstanding.remove(&id) else { return };
        let slot = match outcome {
            Outcome::Answered(Verdict::Allowed) => 0,
            Outcome::Answered(Verdict::Limited) => 1,
            Outcome::Answered(Verdict::Unavailable) => 2,
            Outcome::Lost => 3,
            Outcome::Answered(Verdict::Busy) => 4,
        };
        self.tally[slot] += 1;
        ctx.metrics.request(ctx.now(), ctx.now().since(sent), slot == 0);
        ctx.observe(Obs::Outcome { client: self.idx, node: ctx.me(), honest: self.honest, outcome });
    }
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.schedule_base(ctx);
        if let Some(f) = self.flood {
            ctx.set_timer(f.start.since(ctx.now()), TAG_FLOOD);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Resp { id, verdict } = msg {
            self.finish(id, Outcome::Answered(verdict), ctx);
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag {
            TAG_BASE => {
                self.send(ctx);
                self.schedule_base(ctx);
            }
            TAG_FLOOD => {
                if self.flood.is_some_and(|f| ctx.now() >= f.start) {
                    self.send(ctx);
                }
                self.schedule_flood(ctx);
            }
            t => self.finish(t >> 2, Outcome::Lost, ctx),
        }
    }

    /// Clients are never crashed by a swarm; a clicked restart does not start a second loop.
    fn on_restart(&mut self, _ctx: &mut Ctx<'_, Msg, Obs>) {}

    fn describe(&self) -> String {
        let t = &self.tally;
        format!("k{}: {} ok / {} limited / {} busy / {} unavail / {} lost", self.key, t[0], t[1], t[4], t[2], t[3])
    }
}
