//! The drivers' phones. Each driver drives the street grid at `speed`: free drivers
//! cruise between random corners; a dispatched driver drives to the pickup corner
//! (arriving), then carries the rider to a drop-off 0.5–1.5 km away (on trip), then is
//! free again. Every tick each phone takes a GPS fix — the true position plus Gaussian
//! noise of the accuracy it reports, now and then a multipath outlier hundreds of metres
//! off that still claims that accuracy, and during the noise burst (an urban canyon: tall
//! buildings, a tunnel exit) a much larger error that the phone does admit to — and the
//! fleet sends the tick's fixes to the location service in one batch.
//!
//! A phone takes a dispatch it has not seen; if it already carries someone (only a
//! design that books drivers blindly can do that to it) the new rider queues behind the
//! current trip. The fleet reports the truth: every driver's real position each tick, each
//! dispatch received and each drop-off.

use super::city::{self, Xy, BLOCK_M};
use super::msg::{Fix, Msg, Obs, Phase};
use crate::sim::node::{Actor, Ctx};
use crate::sim::rng::Prng;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

const TAG_TICK: u64 = 1;

/// A trip a phone holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trip {
    pub rider: u64,
    pub epoch: u64,
    pub pickup: Xy,
    pub dropoff: Xy,
    pub phase: Phase,
}

#[derive(Clone, Debug)]
pub struct Driver {
    pub id: u32,
    pub at: Xy,
    /// Where a free driver cruises to.
    pub waypoint: Xy,
    pub trip: Option<Trip>,
    /// Riders dispatched while a trip was in hand (a double booking).
    pub queue: Vec<Trip>,
    pub done: Option<(u64, u64)>,
    /// The last fix sent.
    pub reported: Xy,
}

/// GPS noise settings.
#[derive(Clone, Copy, Debug)]
pub struct Gps {
    pub noise_m: f64,
    pub outlier_pct: f64,
    pub burst_from: SimTime,
    pub burst_until: SimTime,
    pub burst_noise_m: f64,
}

#[derive(Clone, Debug)]
pub struct Fleet {
    pub drivers: Vec<Driver>,
    location: NodeId,
    update_ms: u64,
    speed_ms: f64,
    gps: Gps,
    until: SimTime,
    pub fixes: u64,
}

fn aligned(v: f64) -> bool {
    ((v / BLOCK_M).round() * BLOCK_M - v).abs() < 1e-6
}

/// Moves `p` up to `dist` metres toward corner `to` along the streets (along the street
/// it is on first); returns the distance left over when it arrives.
pub fn drive(p: &mut Xy, to: Xy, mut dist: f64) -> Option<f64> {
    for _ in 0..2 {
        let along_x = aligned(p.y) && (p.x - to.x).abs() > 1e-9;
        let (cur, goal) = if along_x { (&mut p.x, to.x) } else { (&mut p.y, to.y) };
        let gap = (goal - *cur).abs();
        if gap > dist {
            *cur += dist * (goal - *cur).signum();
            return None;
        }
        *cur = goal;
        dist -= gap;
    }
    Some(dist)
}

impl Fleet {
    pub fn new(
        drivers: u32,
        location: NodeId,
        update_ms: u64,
        speed_kmh: f64,
        gps: Gps,
        until: SimTime,
        rng: &mut Prng,
    ) -> Fleet {
        let drivers = (0..drivers)
            .map(|id| {
                let at = city::corner(city::random_point(rng));
                Driver {
                    id,
                    at,
                    waypoint: city::corner(city::random_point(rng)),
                    trip: None,
                    queue: Vec::new(),
                    done: None,
                    reported: at,
                }
            })
            .collect();
        Fleet { drivers, location, update_ms, speed_ms: speed_kmh / 3.6, gps, until, fixes: 0 }
    }

    /// Advances one driver by `dist` metres, moving its trip along; reports drop-offs.
    fn advance(d: &mut Driver, mut dist: f64, ctx: &mut Ctx<'_, Msg, Obs>) {
        for _ in 0..8 {
            let target = match &d.trip {
                Some(t) if t.phase == Phase::Arriving => t.pickup,
                Some(t) => t.dropoff,
                None => d.waypoint,
            };
            let Some(left) = drive(&mut d.at, target, dist) else { return };
            dist = left;
            match d.trip.as_mut() {
                Some(t) if t.phase == Phase::Arriving => t.phase = Phase::OnTrip,
                Some(t) => {
                    ctx.observe(Obs::Freed { driver: d.id, rider: t.rider });
                    d.done = Some((t.rider, t.epoch));
                    d.trip = if d.queue.is_empty() { None } else { Some(d.queue.remove(0)) };
                }
                None => d.waypoint = city::corner(city::random_point(ctx.rng)),
            }
        }
    }

    fn fix(&self, d: &Driver, now: SimTime, rng: &mut Prng) -> Fix {
        let burst = now >= self.gps.burst_from && now < self.gps.burst_until;
        let acc = if burst { self.gps.burst_noise_m } else { self.gps.noise_m };
        let mut at = Xy::new(d.at.x + acc * city::normal(rng), d.at.y + acc * city::normal(rng));
        if rng.chance(self.gps.outlier_pct / 100.0) {
            // Multipath: a reflection puts the fix 300–1200 m off, with no warning.
            let (r, a) = (300.0 + rng.unit() * 900.0, rng.unit() * std::f64::consts::TAU);
            at = Xy::new(at.x + r * libm::cos(a), at.y + r * libm::sin(a));
        }
        Fix { driver: d.id, at, acc_m: acc.max(1.0), trip: d.trip.map(|t| (t.rider, t.epoch, t.phase)), done: d.done }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        let step = self.speed_ms * self.update_ms as f64 / 1_000.0;
        let mut drivers = std::mem::take(&mut self.drivers);
        let mut fixes = Vec::with_capacity(drivers.len());
        for d in &mut drivers {
            if now > SimTime::ZERO {
                Self::advance(d, step, ctx);
            }
            let f = self.fix(d, now, ctx.rng);
            d.reported = f.at;
            fixes.push(f);
        }
        self.fixes += fixes.len() as u64;
        ctx.observe(Obs::Truth { at: drivers.iter().map(|d| d.at).collect() });
        self.drivers = drivers;
        ctx.send(self.location, Msg::Fixes { fixes });
    }

    fn dispatched(&mut self, driver: u32, rider: u64, epoch: u64, pickup: Xy, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(d) = self.drivers.get_mut(driver as usize) else { return };
        let known = d.done.is_some_and(|x| x.0 == rider)
            || d.trip.is_some_and(|t| t.rider == rider)
            || d.queue.iter().any(|t| t.rider == rider);
        if known {
            return;
        }
        let pickup = city::corner(pickup);
        // The drop-off: 0.5–1.5 km from the pickup, on a corner.
        let (r, a) = (500.0 + ctx.rng.unit() * 1_000.0, ctx.rng.unit() * std::f64::consts::TAU);
        let dropoff = city::corner(Xy::new(pickup.x + r * libm::cos(a), pickup.y + r * libm::sin(a)));
        let trip = Trip { rider, epoch, pickup, dropoff, phase: Phase::Arriving };
        ctx.observe(Obs::Dispatched { driver, rider });
        if d.trip.is_none() {
            d.trip = Some(trip);
        } else {
            d.queue.push(trip);
        }
    }
}

impl Actor for Fleet {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.tick(ctx);
        ctx.set_timer(SimDuration::from_ms(self.update_ms), TAG_TICK);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Dispatch { driver, rider, epoch, pickup } = msg {
            self.dispatched(driver, rider, epoch, pickup, ctx);
        }
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if ctx.now() >= self.until {
            return;
        }
        self.tick(ctx);
        ctx.set_timer(SimDuration::from_ms(self.update_ms), TAG_TICK);
    }

    /// Phones are not crashed; a clicked restart does not start a second loop.
    fn on_restart(&mut self, _ctx: &mut Ctx<'_, Msg, Obs>) {}

    fn describe(&self) -> String {
        let busy = self.drivers.iter().filter(|d| d.trip.is_some()).count();
        format!("{} drivers · {busy} on trips", self.drivers.len())
    }
}
