//! A matcher shard: it owns the surge cells of one vertical band of the city, takes the
//! ride requests from them, and matches riders to drivers from the latest supply the
//! location service published (any driver, whichever band it is in: a rider near a band
//! edge is best served from across it).
//!
//! - `greedy-nearest`: each request is matched at once to the nearest driver in its
//!   supply (a kNN query on a quadtree built from it) and the driver is *assigned* — a
//!   blind write. The other shard still sees that driver in its own copy of the supply
//!   until the next publication, and can assign it too.
//! - batched (the other two): requests wait for the window; every window the shard
//!   solves riders × drivers for the least total pickup distance (Hungarian method,
//!   [`crate::blocks::assignment`]; candidates are each rider's n nearest drivers, which
//!   always hold the optimum), and *reserves* each chosen driver with a compare-and-set on
//!   the epoch it was offered at. A rider whose reservation lost goes back in the queue.
//!
//! A rider waiting past `max_wait` is told "no driver". Surge is computed here each
//! window per owned cell from demand (requests, decaying over ten seconds) and supply
//! (available drivers in the cell), bounded by the cap and — when damped — moving at most
//! one step per window. The surge table is durable (a crash keeps the prices); queues and
//! the supply copy are memory.

use super::city::{self, Xy};
use super::msg::{Avail, Msg, Obs};
use crate::blocks::assignment;
use crate::blocks::geohash::Cell;
use crate::blocks::quadtree::QuadTree;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TAG_WINDOW: u64 = 1;
/// Riders one window solves at most (the rest wait for the next).
pub const BATCH_MAX: usize = 32;
/// Riders a shard holds at most (queued, in flight, answered); past it a request is
/// answered "no driver" at once.
pub const MAX_RIDERS: usize = 20_000;
/// Seconds over which demand decays.
const DEMAND_S: f64 = 10.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Waiting {
    pub at: Xy,
    pub since: SimTime,
    pub cell: Cell,
    /// When the reservation was sent (in flight only).
    pub sent: SimTime,
}

/// Surge of one cell (durable).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Surge {
    pub mult: f64,
    pub demand: f64,
    pub supply: usize,
}

#[derive(Clone, Copy, Debug)]
pub struct MatcherCfg {
    pub idx: u32,
    pub batched: bool,
    pub location: NodeId,
    pub riders: NodeId,
    pub window_ms: u64,
    pub max_wait_ms: u64,
    pub cap: f64,
    pub step: f64,
    pub damped: bool,
}

#[derive(Clone, Debug)]
pub struct Matcher {
    pub cfg: MatcherCfg,
    supply: Vec<Avail>,
    tree: QuadTree,
    /// Drivers reserved since the supply was published: driver → epoch offered.
    taken: BTreeMap<u32, u64>,
    pub queue: BTreeMap<u64, Waiting>,
    pub inflight: BTreeMap<u64, Waiting>,
    pub answered: BTreeMap<u64, Option<u32>>,
    pub surge: BTreeMap<Cell, Surge>,
    arrivals: BTreeMap<Cell, u64>,
    last_surge: SimTime,
    pub matched: u64,
    pub no_driver: u64,
    pub lost_races: u64,
    /// The last decision's pairs: rider, where it stands, driver, where the supply put it.
    pub last: Vec<(u64, Xy, u32, Xy)>,
}

fn empty_tree() -> QuadTree {
    QuadTree::new(city::area(2_000.0), 8, 16)
}

impl Matcher {
    /// A shard owning `cells`.
    pub fn new(cfg: MatcherCfg, cells: &[Cell]) -> Matcher {
        let surge = cells.iter().map(|&c| (c, Surge { mult: 1.0, demand: 0.0, supply: 0 })).collect();
        Matcher {
            cfg,
            supply: Vec::new(),
            tree: empty_tree(),
            taken: BTreeMap::new(),
            queue: BTreeMap::new(),
            inflight: BTreeMap::new(),
            answered: BTreeMap::new(),
            surge,
            arrivals: BTreeMap::new(),
            last_surge: SimTime::ZERO,
            matched: 0,
            no_driver: 0,
            lost_races: 0,
            last: Vec::new(),
        }
    }

    fn quote(&self, cell: Cell) -> u32 {
        let m = self.surge.get(&cell).map_or(1.0, |s| s.mult);
        libm::round(m * 1_000.0) as u32
    }

    fn answer(&mut self, rider: u64, cell: Cell, driver: Option<u32>, ctx: &mut Ctx<'_, Msg, Obs>) {
        if driver.is_some() {
            self.matched += 1;
        } else {
            self.no_driver += 1;
        }
        self.answered.insert(rider, driver);
        ctx.send(self.cfg.riders, Msg::Answer { rider, driver, surge_milli: self.quote(cell) });
    }

    fn rebuild(&mut self, drivers: Vec<Avail>) {
        self.taken.retain(|d, e| drivers.iter().any(|a| a.driver == *d && a.epoch == *e));
        self.supply = drivers.into_iter().filter(|a| !self.taken.contains_key(&a.driver)).collect();
        self.tree = empty_tree();
        for a in &self.supply {
            self.tree.insert(a.driver, city::to_latlon(city::clamp(a.at)));
        }
    }

    fn avail(&self, driver: u32) -> Option<&Avail> {
        self.supply.iter().find(|a| a.driver == driver)
    }

    fn take(&mut self, a: Avail) {
        self.tree.remove(a.driver, city::to_latlon(city::clamp(a.at)));
        self.taken.insert(a.driver, a.epoch);
    }

    fn reserve(&mut self, rider: u64, mut w: Waiting, a: Avail, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.take(a);
        w.sent = ctx.now();
        self.inflight.insert(rider, w);
        let blind = !self.cfg.batched;
        ctx.send(self.cfg.location, Msg::Reserve { rider, driver: a.driver, epoch: a.epoch, pickup: w.at, blind });
    }

    /// Greedy: the nearest driver in this shard's copy of the supply, now.
    fn greedy(&mut self, rider: u64, w: Waiting, ctx: &mut Ctx<'_, Msg, Obs>) {
        let hit = self.tree.nearest(city::to_latlon(w.at), 1, f64::INFINITY).0.first().map(|h| h.1);
        let Some(a) = hit.and_then(|d| self.avail(d).copied()) else {
            self.answer(rider, w.cell, None, ctx);
            return;
        };
        let candidates = self.tree_ids();
        self.last = vec![(rider, w.at, a.driver, a.at)];
        ctx.observe(Obs::Batch {
            shard: self.cfg.idx,
            riders: vec![(rider, w.at)],
            candidates,
            pairs: vec![(rider, a.driver)],
        });
        self.reserve(rider, w, a, ctx);
    }

    fn tree_ids(&self) -> Vec<u32> {
        self.supply.iter().filter(|a| !self.taken.contains_key(&a.driver)).map(|a| a.driver).collect()
    }

    /// Batched: the window's riders against the supply, least total pickup distance.
    fn batch(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        let max_wait = SimDuration::from_ms(self.cfg.max_wait_ms);
        let late: Vec<u64> =
            self.queue.iter().filter(|(_, w)| now.since(w.since) >= max_wait).map(|(r, _)| *r).collect();
        for r in late {
            if let Some(w) = self.queue.remove(&r) {
                self.answer(r, w.cell, None, ctx);
            }
        }
        let mut riders: Vec<(u64, Waiting)> = self.queue.iter().map(|(r, w)| (*r, *w)).collect();
        riders.sort_by_key(|(r, w)| (w.since, *r));
        riders.truncate(BATCH_MAX);
        if riders.is_empty() || self.tree.is_empty() {
            return;
        }
        let n = riders.len();
        let mut cand: Vec<u32> = Vec::new();
        for (_, w) in &riders {
            cand.extend(self.tree.nearest(city::to_latlon(w.at), n, f64::INFINITY).0.iter().map(|h| h.1));
        }
        cand.sort_unstable();
        cand.dedup();
        let drivers: Vec<Avail> = cand.iter().filter_map(|d| self.avail(*d).copied()).collect();
        let m = drivers.len();
        let mut cost = Vec::with_capacity(n * m);
        for (_, w) in &riders {
            cost.extend(drivers.iter().map(|a| city::dist_m(w.at, a.at)));
        }
        let pairs = assignment::solve(&cost, n, m);
        let chosen: Vec<(u64, u32)> =
            pairs.iter().enumerate().filter_map(|(i, j)| j.map(|j| (riders[i].0, drivers[j].driver))).collect();
        ctx.observe(Obs::Batch {
            shard: self.cfg.idx,
            riders: riders.iter().map(|(r, w)| (*r, w.at)).collect(),
            candidates: self.tree_ids(),
            pairs: chosen,
        });
        self.last = pairs
            .iter()
            .enumerate()
            .filter_map(|(i, j)| j.map(|j| (riders[i].0, riders[i].1.at, drivers[j].driver, drivers[j].at)))
            .collect();
        for (i, j) in pairs.iter().enumerate() {
            if let Some(j) = j {
                let (r, w) = riders[i];
                self.queue.remove(&r);
                self.reserve(r, w, drivers[*j], ctx);
            }
        }
    }

    /// Reservations unanswered for two windows are sent again (the location service
    /// answers a repeat with the rider's existing driver, or refuses it).
    fn resend(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        let limit = SimDuration::from_ms(2 * self.cfg.window_ms);
        let blind = !self.cfg.batched;
        let stuck: Vec<u64> =
            self.inflight.iter().filter(|(_, w)| now.since(w.sent) >= limit).map(|(r, _)| *r).collect();
        for r in stuck {
            if let Some(w) = self.inflight.remove(&r) {
                // Back to the queue: the next window offers it again (greedy: at once).
                if blind {
                    self.greedy(r, w, ctx);
                } else {
                    self.queue.insert(r, w);
                }
            }
        }
    }

    /// Once per window: demand decays and absorbs the window's arrivals; the multiplier
    /// heads for the demand/supply target, by at most one step when damped.
    fn reprice(&mut self, now: SimTime) {
        if now.since(self.last_surge) < SimDuration::from_ms(self.cfg.window_ms) && self.last_surge > SimTime::ZERO {
            return;
        }
        self.last_surge = now;
        let decay = libm::exp(-(self.cfg.window_ms as f64 / 1_000.0) / DEMAND_S);
        let mut supply: BTreeMap<Cell, usize> = BTreeMap::new();
        for a in &self.supply {
            *supply.entry(city::cell_of(a.at)).or_default() += 1;
        }
        let arrivals = std::mem::take(&mut self.arrivals);
        for (cell, s) in self.surge.iter_mut() {
            s.demand = s.demand * decay + arrivals.get(cell).copied().unwrap_or(0) as f64;
            s.supply = supply.get(cell).copied().unwrap_or(0);
            let target = (2.0 * s.demand / s.supply.max(1) as f64).clamp(1.0, self.cfg.cap);
            s.mult = if self.cfg.damped {
                let step = (0.5 * (target - s.mult)).clamp(-self.cfg.step, self.cfg.step);
                (s.mult + step).clamp(1.0, self.cfg.cap)
            } else {
                target
            };
        }
    }

    fn request(&mut self, rider: u64, at: Xy, since: SimTime, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(&driver) = self.answered.get(&rider) {
            let cell = city::cell_of(at);
            ctx.send(self.cfg.riders, Msg::Answer { rider, driver, surge_milli: self.quote(cell) });
            return;
        }
        if self.queue.contains_key(&rider) || self.inflight.contains_key(&rider) {
            return;
        }
        let cell = city::cell_of(at);
        *self.arrivals.entry(cell).or_default() += 1;
        let w = Waiting { at, since, cell, sent: SimTime::ZERO };
        let full = self.queue.len() + self.inflight.len() + self.answered.len() >= MAX_RIDERS;
        if full || ctx.now().since(since) >= SimDuration::from_ms(self.cfg.max_wait_ms) {
            self.answer(rider, cell, None, ctx);
        } else if self.cfg.batched {
            self.queue.insert(rider, w);
        } else {
            self.greedy(rider, w, ctx);
        }
    }
}

impl Actor for Matcher {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(self.cfg.window_ms), TAG_WINDOW);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Supply { drivers } => self.rebuild(drivers),
            Msg::Request { rider, at, since_us } => self.request(rider, at, SimTime(since_us), ctx),
            Msg::Reserved { rider, driver, ok } => {
                let Some(w) = self.inflight.remove(&rider) else { return };
                if ok {
                    self.answer(rider, w.cell, Some(driver), ctx);
                } else {
                    self.lost_races += 1;
                    self.queue.insert(rider, w);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.reprice(ctx.now());
        self.resend(ctx);
        if self.cfg.batched {
            self.batch(ctx);
        } else {
            // Greedy answers at once; only riders waiting too long are dropped here.
            let now = ctx.now();
            let max_wait = SimDuration::from_ms(self.cfg.max_wait_ms);
            let late: Vec<u64> =
                self.queue.iter().filter(|(_, w)| now.since(w.since) >= max_wait).map(|(r, _)| *r).collect();
            for r in late {
                if let Some(w) = self.queue.remove(&r) {
                    self.answer(r, w.cell, None, ctx);
                }
            }
            let waiting: Vec<(u64, Waiting)> = std::mem::take(&mut self.queue).into_iter().collect();
            for (r, w) in waiting {
                self.greedy(r, w, ctx);
            }
        }
        ctx.set_timer(SimDuration::from_ms(self.cfg.window_ms), TAG_WINDOW);
    }

    /// Queues, answers and the supply copy are memory; the surge table is durable.
    fn on_crash(&mut self) {
        self.supply.clear();
        self.tree = empty_tree();
        self.taken.clear();
        self.queue.clear();
        self.inflight.clear();
        self.answered.clear();
        self.arrivals.clear();
    }

    fn describe(&self) -> String {
        format!("{} waiting · {} in flight · {} matched", self.queue.len(), self.inflight.len(), self.matched)
    }
}
