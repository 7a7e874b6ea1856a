//! Riders' apps: open-loop Poisson arrivals at the workload's rate (from three seconds in,
//! once the location service has heard from the fleet), each from a random place (most in
//! the busy districts). A rider asks the matcher that owns its surge cell and, unanswered,
//! asks again after a wait with capped exponential backoff and full jitter
//! ([`crate::blocks::backoff`]) — the same rider id and first-asked time, so a matcher can
//! tell a retry from a new rider. The first answer is final: a driver (with the surge
//! multiplier quoted) or "no driver".

use super::city::{self, Xy};
use super::msg::{Msg, Obs};
use crate::blocks::backoff::Backoff;
use crate::blocks::geohash::Cell;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TAG_NEXT: u64 = 0;
/// Requests start once the fleet has been tracked for a while.
pub const WARMUP_MS: u64 = 3_000;
/// Riders waiting for an answer at most; past it a new rider gives up at once.
pub const MAX_OPEN: usize = 20_000;
/// Recent answers kept for the map.
const RECENT: usize = 200;

#[derive(Clone, Copy, Debug)]
pub struct Open {
    pub at: Xy,
    pub cell: Cell,
    pub since: SimTime,
    pub tries: u32,
}

#[derive(Clone, Debug)]
pub struct Riders {
    workload: WorkloadSpec,
    matcher_base: NodeId,
    shards: u32,
    backoff: Backoff,
    retry_ms: u64,
    next_id: u64,
    pub open: BTreeMap<u64, Open>,
    /// Recent answers: rider, pickup, driver.
    pub recent: Vec<(u64, Xy, Option<u32>)>,
    pub matched: u64,
    pub no_driver: u64,
}

impl Riders {
    pub fn new(workload: WorkloadSpec, matcher_base: NodeId, shards: u32, retry_ms: u64) -> Riders {
        Riders {
            workload,
            matcher_base,
            shards,
            backoff: Backoff::from_ms(retry_ms, 4 * retry_ms),
            retry_ms,
            next_id: 0,
            open: BTreeMap::new(),
            recent: Vec::new(),
            matched: 0,
            no_driver: 0,
        }
    }

    fn schedule(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now().max(SimTime::from_ms(WARMUP_MS));
        if let Some(at) = self.workload.next_arrival(now, 1, ctx.rng) {
            ctx.set_timer(at.since(ctx.now()), TAG_NEXT);
        }
    }

    fn send(&self, rider: u64, o: &Open, ctx: &mut Ctx<'_, Msg, Obs>) {
        let m = self.matcher_base + city::owner(o.cell, self.shards);
        ctx.send(m, Msg::Request { rider, at: o.at, since_us: o.since.0 });
    }

    fn retry_in(&self, tries: u32, ctx: &mut Ctx<'_, Msg, Obs>) -> SimDuration {
        SimDuration::from_ms(self.retry_ms) + self.backoff.full_jitter(tries, ctx.rng)
    }
}

impl Actor for Riders {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.schedule(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::Answer { rider, driver, surge_milli } = msg else { return };
        let Some(o) = self.open.remove(&rider) else { return };
        ctx.observe(Obs::Answered { rider, driver, cell: o.cell, surge_milli });
        if driver.is_some() {
            self.matched += 1;
        } else {
            self.no_driver += 1;
        }
        if self.recent.len() >= RECENT {
            self.recent.remove(0);
        }
        self.recent.push((rider, o.at, driver));
        ctx.metrics.request(ctx.now(), ctx.now().since(o.since), driver.is_some());
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == TAG_NEXT {
            self.schedule(ctx);
            if self.open.len() >= MAX_OPEN {
                return;
            }
            let rider = self.next_id;
            self.next_id += 1;
            let at = city::random_point(ctx.rng);
            let o = Open { at, cell: city::cell_of(at), since: ctx.now(), tries: 0 };
            ctx.observe(Obs::Requested { rider, cell: o.cell });
            self.send(rider, &o, ctx);
            let wait = self.retry_in(0, ctx);
            ctx.set_timer(wait, rider + 1);
            self.open.insert(rider, o);
            return;
        }
        let rider = tag - 1;
        let Some(mut o) = self.open.get(&rider).copied() else { return };
        o.tries += 1;
        self.send(rider, &o, ctx);
        let wait = self.retry_in(o.tries, ctx);
        ctx.set_timer(wait, tag);
        self.open.insert(rider, o);
    }

    /// Apps are not crashed; a clicked restart does not start a second arrival loop.
    fn on_restart(&mut self, _ctx: &mut Ctx<'_, Msg, Obs>) {}

    fn describe(&self) -> String {
        format!("{} waiting · {} matched · {} no driver", self.open.len(), self.matched, self.no_driver)
    }
}
