//! Clients: riders' apps asking "who is near me". Open-loop Poisson arrivals at the
//! workload's rate (shared among clients), from points drawn like the drivers' (people ask
//! where the drivers are), a `knn_pct` share asking for the k nearest and the rest for
//! everything within a radius. Latency is measured from send to answer; a query with no
//! answer within [`TIMEOUT_MS`] counts as failed.

use super::area;
use super::msg::{Ask, Msg, Obs, Pos, Query};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::BTreeMap;

pub const TIMEOUT_MS: u64 = 1_000;
/// Queries one app keeps waiting at most; past it a new query fails at once.
pub const MAX_OUTSTANDING: usize = 4_096;
const TAG_NEXT: u64 = 0;

/// What a client asks for.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    pub knn_pct: u64,
    pub k: u32,
    pub knn_max_m: u32,
    pub radius_m: u32,
}

#[derive(Clone, Debug)]
pub struct Client {
    router: NodeId,
    workload: WorkloadSpec,
    share: u32,
    mix: Mix,
    next_id: u64,
    outstanding: BTreeMap<u64, SimTime>,
    pub ok: u64,
    pub failed: u64,
}

impl Client {
    pub fn new(router: NodeId, workload: WorkloadSpec, share: u32, mix: Mix) -> Client {
        Client { router, workload, share, mix, next_id: 0, outstanding: BTreeMap::new(), ok: 0, failed: 0 }
    }

    fn schedule(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        if let Some(at) = self.workload.next_arrival(now, self.share, ctx.rng) {
            ctx.set_timer(at.since(now), TAG_NEXT);
        }
    }

    fn finish(&mut self, id: u64, ok: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(sent) = self.outstanding.remove(&id) else { return };
        if ok {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
        ctx.metrics.request(ctx.now(), ctx.now().since(sent), ok);
    }
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.schedule(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Found { id, hits } = msg {
            self.finish(id, hits.is_some(), ctx);
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag != TAG_NEXT {
            self.finish(tag >> 1, false, ctx);
            return;
        }
        self.schedule(ctx);
        if self.outstanding.len() >= MAX_OUTSTANDING {
            self.failed += 1;
            ctx.metrics.request(ctx.now(), SimDuration::ZERO, false);
            return;
        }
        self.next_id += 1;
        let id = self.next_id;
        let at = Pos(area::random_point(ctx.rng));
        let ask = if ctx.rng.below(100) < self.mix.knn_pct {
            Ask::Nearest { k: self.mix.k, max_m: self.mix.knn_max_m }
        } else {
            Ask::Radius { radius_m: self.mix.radius_m }
        };
        self.outstanding.insert(id, ctx.now());
        ctx.send(self.router, Msg::Find { id, query: Query { at, ask } });
        ctx.set_timer(SimDuration::from_ms(TIMEOUT_MS), id << 1 | 1);
    }

    /// Clients are never crashed by a swarm; a clicked restart does not start a second loop.
    fn on_restart(&mut self, _ctx: &mut Ctx<'_, Msg, Obs>) {}

    fn describe(&self) -> String {
        format!("{} answered · {} failed", self.ok, self.failed)
    }
}
