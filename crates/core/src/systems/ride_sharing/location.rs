//! The location service: the one place that knows where drivers are and whom they may be
//! given to. It keeps, per driver,
//!
//! - a position estimate from the phone's fixes: a constant-velocity Kalman track with
//!   innovation gating ([`crate::blocks::kalman`]) in the filtered designs, the last raw fix
//!   in `no-smoothing`;
//! - a reservation record `(state, epoch)`, durable (a database row: it survives a crash):
//!   a reservation names the epoch of the offer it answers and succeeds only if the driver
//!   is still available at that epoch (compare-and-set); every change bumps the epoch, so
//!   an offer that lost a race can never book the driver again. The greedy design writes
//!   the reservation blindly instead;
//! - the trip table (rider → driver, state: matched, arriving, on trip, completed),
//!   durable too, which makes a repeated reservation for a rider return the driver it
//!   already has.
//!
//! Every window it publishes the supply — each driver free, heard from recently and (when
//! filtered) confirmed by a few consistent fixes and known to within [`UNSURE_SD_M`] — to every matcher. A dispatch is resent
//! with each fix batch until the phone reports the trip.

use super::city::Xy;
use super::msg::{Avail, Fix, Msg, Obs, Phase};
use crate::blocks::kalman::{Track, TrackCfg};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TAG_SUPPLY: u64 = 1;

/// A filtered track is offered only while the filter knows the driver's position to
/// within this (one standard deviation, metres): a track rebuilt from an urban canyon's
/// fixes is real but too vague to send anyone on.
pub const UNSURE_SD_M: f64 = 100.0;

/// Where a trip is, as the location service records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TripState {
    Matched,
    Arriving,
    OnTrip,
    Completed,
}

/// A trip row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TripRow {
    pub driver: u32,
    pub epoch: u64,
    pub pickup: Xy,
    pub state: TripState,
}

/// A driver's reservation row (durable).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub epoch: u64,
    /// The rider the driver is booked for.
    pub rider: Option<u64>,
}

/// What the service knows of a driver's position (volatile).
#[derive(Clone, Copy, Debug, Default)]
pub struct Seen {
    pub track: Option<Track>,
    pub raw: Option<Xy>,
    /// When the last fix arrived, s.
    pub heard_s: f64,
    /// The phone's own trip in hand.
    pub busy: bool,
    pub rejected: u64,
}

#[derive(Clone, Debug)]
pub struct Location {
    filtered: bool,
    blind: bool,
    cfg: TrackCfg,
    matchers: Vec<NodeId>,
    fleet: NodeId,
    window_ms: u64,
    stale_s: f64,
    pub rows: Vec<Row>,
    pub trips: BTreeMap<u64, TripRow>,
    pub seen: Vec<Seen>,
    pub granted: u64,
    pub refused: u64,
    pub overwritten: u64,
}

impl Location {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        drivers: u32,
        filtered: bool,
        blind: bool,
        matchers: Vec<NodeId>,
        fleet: NodeId,
        window_ms: u64,
        stale_ms: u64,
    ) -> Location {
        Location {
            filtered,
            blind,
            cfg: TrackCfg::default(),
            matchers,
            fleet,
            window_ms,
            stale_s: stale_ms as f64 / 1_000.0,
            rows: vec![Row { epoch: 0, rider: None }; drivers as usize],
            trips: BTreeMap::new(),
            seen: vec![Seen::default(); drivers as usize],
            granted: 0,
            refused: 0,
            overwritten: 0,
        }
    }

    /// The position this service believes, if it has one it would dispatch on.
    pub fn estimate(&self, driver: u32) -> Option<Xy> {
        let s = self.seen.get(driver as usize)?;
        if self.filtered {
            let t = s.track.filter(|t| t.confirmed(&self.cfg) && t.sd_m() <= UNSURE_SD_M)?;
            let (x, y) = t.at(t.t);
            Some(Xy::new(x, y))
        } else {
            s.raw
        }
    }

    fn on_fix(&mut self, f: &Fix, now_s: f64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let i = f.driver as usize;
        let Some(s) = self.seen.get_mut(i) else { return };
        s.heard_s = now_s;
        s.busy = f.trip.is_some();
        let r = f.acc_m * f.acc_m;
        if self.filtered {
            match s.track.as_mut() {
                None => s.track = Some(Track::start(now_s, (f.at.x, f.at.y), r, &self.cfg)),
                Some(t) => {
                    if t.step(now_s, (f.at.x, f.at.y), r, &self.cfg) != crate::blocks::kalman::Outcome::Accepted {
                        s.rejected += 1;
                    }
                }
            }
        } else {
            s.raw = Some(f.at);
        }
        // Reconcile the booking with what the phone says it is doing.
        let row = self.rows[i];
        let Some(rider) = row.rider else { return };
        let Some(trip) = self.trips.get_mut(&rider) else { return };
        if f.done.is_some_and(|d| d.0 == rider) {
            trip.state = TripState::Completed;
            self.rows[i] = Row { epoch: row.epoch + 1, rider: None };
        } else if let Some((_, _, phase)) = f.trip.filter(|t| t.0 == rider) {
            trip.state = if phase == Phase::Arriving { TripState::Arriving } else { TripState::OnTrip };
        } else {
            let pickup = trip.pickup;
            ctx.send(self.fleet, Msg::Dispatch { driver: f.driver, rider, epoch: row.epoch, pickup });
        }
    }

    fn supply(&self, now_s: f64) -> Vec<Avail> {
        let mut out = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            let s = &self.seen[i];
            if row.rider.is_some() || s.busy || now_s - s.heard_s > self.stale_s {
                continue;
            }
            if let Some(at) = self.estimate(i as u32) {
                out.push(Avail { driver: i as u32, at, epoch: row.epoch });
            }
        }
        out
    }

    fn reserve(&mut self, rider: u64, driver: u32, epoch: u64, pickup: Xy, blind: bool) -> (u32, bool) {
        if let Some(t) = self.trips.get(&rider) {
            return (t.driver, true);
        }
        let Some(row) = self.rows.get(driver as usize).copied() else { return (driver, false) };
        let free = row.rider.is_none() && row.epoch == epoch;
        if !free && !blind {
            self.refused += 1;
            return (driver, false);
        }
        if !free {
            self.overwritten += 1;
        }
        let epoch = row.epoch + 1;
        self.rows[driver as usize] = Row { epoch, rider: Some(rider) };
        self.trips.insert(rider, TripRow { driver, epoch, pickup, state: TripState::Matched });
        self.granted += 1;
        (driver, true)
    }
}

impl Actor for Location {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(self.window_ms), TAG_SUPPLY);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now_s = ctx.now().as_ms() / 1_000.0;
        match msg {
            Msg::Fixes { fixes } => {
                for f in &fixes {
                    self.on_fix(f, now_s, ctx);
                }
            }
            Msg::Reserve { rider, driver, epoch, pickup, blind } => {
                let (driver, ok) = self.reserve(rider, driver, epoch, pickup, blind || self.blind);
                if ok {
                    let epoch = self.rows[driver as usize].epoch;
                    if self.rows[driver as usize].rider == Some(rider) {
                        ctx.send(self.fleet, Msg::Dispatch { driver, rider, epoch, pickup });
                    }
                }
                ctx.send(from, Msg::Reserved { rider, driver, ok });
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let drivers = self.supply(ctx.now().as_ms() / 1_000.0);
        for &m in &self.matchers {
            ctx.send(m, Msg::Supply { drivers: drivers.clone() });
        }
        ctx.set_timer(SimDuration::from_ms(self.window_ms), TAG_SUPPLY);
    }

    /// Tracks are memory; reservation rows and trips are the database and stay.
    fn on_crash(&mut self) {
        self.seen.iter_mut().for_each(|s| *s = Seen::default());
    }

    fn describe(&self) -> String {
        let booked = self.rows.iter().filter(|r| r.rider.is_some()).count();
        format!("{booked} booked · {} trips", self.trips.len())
    }
}
