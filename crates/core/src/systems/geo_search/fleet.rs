//! A fleet: the phones of a share of the drivers. Each driver heads for a waypoint (most
//! are in a busy district) at `speed_kmh`, picks a new one on arrival, and takes a GPS fix
//! every update interval. The fleet streams the fixes to the shards that own the drivers'
//! cells: a driver that crossed into another shard's cell is put there and dropped from
//! the old one.
//!
//! Delivery is at-least-once: per shard the fleet keeps the newest unacknowledged change
//! of each driver and sends all of them every tick until the shard acknowledges that
//! version, so a lost batch, a partition or a shard restart delays the index but never
//! leaves it wrong for good; the shard's version check makes repeats harmless.

use super::area::{self, ShardMap};
use super::msg::{Msg, Obs, Op, Pos};
use crate::blocks::haversine::LatLon;
use crate::sim::node::{Actor, Ctx};
use crate::sim::rng::Prng;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TAG_TICK: u64 = 1;

/// One driver.
#[derive(Clone, Debug)]
pub struct Driver {
    pub id: u32,
    pub at: LatLon,
    pub target: LatLon,
    pub version: u64,
    /// The shard its latest fix was sent to.
    pub shard: u16,
}

#[derive(Clone, Debug)]
pub struct Fleet {
    pub drivers: Vec<Driver>,
    map: ShardMap,
    /// Node id of shard `s` is `shard_base + s`.
    shard_base: NodeId,
    update_ms: u64,
    step_km: f64,
    until: SimTime,
    /// Per shard: driver → newest change not yet acknowledged.
    pending: Vec<BTreeMap<u32, Op>>,
    pub fixes: u64,
}

impl Fleet {
    /// Drivers `ids`, placed from `rng` (the fleet's own stream).
    pub fn new(
        ids: Vec<u32>,
        map: ShardMap,
        shard_base: NodeId,
        update_ms: u64,
        speed_kmh: f64,
        until: SimTime,
        rng: &mut Prng,
    ) -> Fleet {
        let drivers = ids
            .into_iter()
            .map(|id| {
                let at = area::random_point(rng);
                Driver { id, at, target: area::random_point(rng), version: 0, shard: map.owner_of(at) }
            })
            .collect();
        let shards = map.shards();
        Fleet {
            drivers,
            map,
            shard_base,
            update_ms,
            step_km: speed_kmh * update_ms as f64 / 3_600_000.0,
            until,
            pending: vec![BTreeMap::new(); shards],
            fixes: 0,
        }
    }

    /// Moves a driver `step_km` toward its waypoint (flat-earth steps: a few hundred
    /// metres at most, where the error is far below a GPS fix's).
    fn advance(&self, d: &mut Driver, rng: &mut Prng) {
        let kx = 111.32 * libm::cos(d.at.lat.to_radians());
        let (dx, dy) = ((d.target.lon - d.at.lon) * kx, (d.target.lat - d.at.lat) * 110.574);
        let dist = (dx * dx + dy * dy).sqrt();
        if dist <= self.step_km {
            d.at = d.target;
            d.target = area::random_point(rng);
        } else {
            let f = self.step_km / dist;
            d.at = area::clamp(LatLon::new(d.at.lat + dy * f / 110.574, d.at.lon + dx * f / kx));
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let mut drivers = std::mem::take(&mut self.drivers);
        for d in &mut drivers {
            self.advance(d, ctx.rng);
            d.version += 1;
            self.fixes += 1;
            ctx.observe(Obs::Fix { id: d.id, version: d.version, at: d.at });
            let owner = self.map.owner_of(d.at);
            if owner != d.shard {
                self.pending[d.shard as usize].insert(d.id, Op::Drop(d.version));
                d.shard = owner;
            }
            self.pending[owner as usize].insert(d.id, Op::Put(d.version, Pos(d.at)));
        }
        self.drivers = drivers;
        for (s, p) in self.pending.iter().enumerate() {
            if !p.is_empty() {
                let ops: Vec<(u32, Op)> = p.iter().map(|(&id, &op)| (id, op)).collect();
                ctx.send(self.shard_base + s as NodeId, Msg::Batch { ops });
            }
        }
    }
}

impl Actor for Fleet {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        // The first fixes at once (the index starts full), then every interval from a
        // random phase, so the fleets' batches do not all arrive together.
        self.tick(ctx);
        let phase = ctx.rng.below(self.update_ms.max(1) * 1_000);
        ctx.set_timer(SimDuration::from_us(phase), TAG_TICK);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, _ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::BatchAck { applied } = msg else { return };
        let Some(p) = from.checked_sub(self.shard_base).and_then(|s| self.pending.get_mut(s as usize)) else {
            return;
        };
        for (id, v) in applied {
            if p.get(&id).is_some_and(|op| op.version() == v) {
                p.remove(&id);
            }
        }
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if ctx.now() >= self.until {
            return;
        }
        self.tick(ctx);
        ctx.set_timer(SimDuration::from_ms(self.update_ms), TAG_TICK);
    }

    /// Phones are not crashed by a swarm; a clicked restart does not start a second loop.
    fn on_restart(&mut self, _ctx: &mut Ctx<'_, Msg, Obs>) {}

    fn describe(&self) -> String {
        let unacked: usize = self.pending.iter().map(BTreeMap::len).sum();
        format!("{} drivers · {} unacked", self.drivers.len(), unacked)
    }
}
