//! The checks, each judged against a record the design under test does not keep.
//!
//! - `one-rider-per-driver`: from the phones' own history — every dispatch a phone
//!   received and every drop-off it made — no driver is ever sent to a second rider while
//!   it still carries (or drives to) another. The location service's table is not asked.
//! - `answered-in-time`: every rider's first answer (a driver or "no driver") arrives within
//!   the SLO of true simulated time after it first asked, or after the last fault ended
//!   if it asked during one.
//! - `surge-bounded`: the multipliers riders were quoted, per cell and in true time, stay
//!   within [1, cap] and move by at most one step per pricing window between quotes.
//! - `pickup-distance`: for every matching decision, the pickup distance of the chosen
//!   pairs measured from the drivers' TRUE positions (which the matcher never sees) is
//!   within `slack` metres per pair of the optimum a brute-force twin computes from the
//!   true positions over the same riders and candidate drivers.

use super::city::{self, Xy};
use super::msg::Obs;
use crate::blocks::assignment;
use crate::blocks::geohash::Cell;
use crate::check::{Property, RunEnd};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct OneRiderPerDriver {
    carrying: Vec<Vec<u64>>,
    dispatches: u64,
}

impl OneRiderPerDriver {
    pub fn new(drivers: usize) -> OneRiderPerDriver {
        OneRiderPerDriver { carrying: vec![Vec::new(); drivers], dispatches: 0 }
    }
}

impl Property<Obs> for OneRiderPerDriver {
    fn name(&self) -> &'static str {
        "one-rider-per-driver"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Dispatched { driver, rider } => {
                let c = self.carrying.get_mut(*driver as usize)?;
                self.dispatches += 1;
                let before = c.clone();
                c.push(*rider);
                (!before.is_empty()).then(|| {
                    format!("driver {driver} was sent to rider {rider} while still serving rider {}", before[0])
                })
            }
            Obs::Freed { driver, rider } => {
                let c = self.carrying.get_mut(*driver as usize)?;
                c.retain(|r| r != rider);
                None
            }
            _ => None,
        }
    }

    fn samples(&self) -> u64 {
        self.dispatches
    }

    fn summary(&self) -> String {
        format!("{} dispatches, none to a driver already serving someone", self.dispatches)
    }
}

#[derive(Clone, Debug)]
pub struct AnsweredInTime {
    slo: SimDuration,
    quiet: SimTime,
    open: BTreeMap<u64, SimTime>,
    answered: u64,
    slowest: SimDuration,
}

impl AnsweredInTime {
    pub fn new(slo_ms: u64, quiet: SimTime) -> AnsweredInTime {
        AnsweredInTime {
            slo: SimDuration::from_ms(slo_ms),
            quiet,
            open: BTreeMap::new(),
            answered: 0,
            slowest: SimDuration::ZERO,
        }
    }

    fn deadline(&self, asked: SimTime) -> SimTime {
        if self.quiet == SimTime::MAX {
            return SimTime::MAX;
        }
        asked.max(self.quiet) + self.slo
    }
}

impl Property<Obs> for AnsweredInTime {
    fn name(&self) -> &'static str {
        "answered-in-time"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Requested { rider, .. } => {
                self.open.insert(*rider, at);
            }
            Obs::Answered { rider, driver, .. } => {
                let asked = self.open.remove(rider)?;
                self.answered += 1;
                let took = at.since(asked);
                self.slowest = self.slowest.max(took);
                if at > self.deadline(asked) {
                    let what = driver.map_or("no driver".to_string(), |d| format!("driver {d}"));
                    return Some(format!(
                        "rider {rider} asked at {:.0} ms and was answered ({what}) {:.0} ms later, past the {:.0} ms SLO",
                        asked.as_ms(),
                        took.as_ms(),
                        self.slo.as_ms()
                    ));
                }
            }
            _ => {}
        }
        None
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        let (rider, asked) = self.open.iter().find(|(_, t)| self.deadline(**t) < end.now)?;
        Some(format!(
            "rider {rider} asked at {:.0} ms and was never answered ({} riders left waiting)",
            asked.as_ms(),
            self.open.len()
        ))
    }

    fn samples(&self) -> u64 {
        self.answered
    }

    fn summary(&self) -> String {
        format!(
            "{} riders answered, the slowest in {:.0} ms (SLO {:.0} ms)",
            self.answered,
            self.slowest.as_ms(),
            self.slo.as_ms()
        )
    }
}

#[derive(Clone, Debug)]
pub struct SurgeBounded {
    cap_milli: u32,
    step_milli: u32,
    window: SimDuration,
    last: BTreeMap<Cell, (SimTime, u32)>,
    quotes: u64,
    highest: u32,
}

impl SurgeBounded {
    pub fn new(cap: f64, step: f64, window_ms: u64) -> SurgeBounded {
        SurgeBounded {
            cap_milli: libm::round(cap * 1_000.0) as u32,
            step_milli: libm::round(step * 1_000.0) as u32,
            window: SimDuration::from_ms(window_ms),
            last: BTreeMap::new(),
            quotes: 0,
            highest: 0,
        }
    }
}

impl Property<Obs> for SurgeBounded {
    fn name(&self) -> &'static str {
        "surge-bounded"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Answered { rider, cell, surge_milli: m, .. } = obs else { return None };
        self.quotes += 1;
        self.highest = self.highest.max(*m);
        let prev = self.last.insert(*cell, (at, *m));
        if *m < 1_000 || *m > self.cap_milli {
            return Some(format!(
                "rider {rider} in cell {cell} was quoted ×{:.3}, outside [1, {:.3}]",
                f64::from(*m) / 1e3,
                f64::from(self.cap_milli) / 1e3
            ));
        }
        let (t0, m0) = prev?;
        // Repricings are at least a window apart: between two quotes there were at most
        // floor(gap / window) + 1 of them.
        let windows = at.since(t0).0 / self.window.0.max(1) + 1;
        let allowed = self.step_milli as u64 * windows + 1;
        let moved = u64::from(m.abs_diff(m0));
        (moved > allowed).then(|| {
            format!(
                "cell {cell}: quoted ×{:.3} then ×{:.3} to rider {rider} {:.0} ms later, a move of {:.3} where {windows} window(s) allow {:.3}",
                f64::from(m0) / 1e3,
                f64::from(*m) / 1e3,
                at.since(t0).as_ms(),
                moved as f64 / 1e3,
                allowed as f64 / 1e3
            )
        })
    }

    fn samples(&self) -> u64 {
        self.quotes
    }

    fn summary(&self) -> String {
        format!(
            "{} quotes within [1, {:.2}] moving a step per window at most; highest ×{:.2}",
            self.quotes,
            f64::from(self.cap_milli) / 1e3,
            f64::from(self.highest) / 1e3
        )
    }
}

#[derive(Clone, Debug)]
pub struct PickupDistance {
    slack_m: f64,
    truth: Vec<Xy>,
    batches: u64,
    worst: f64,
}

impl PickupDistance {
    pub fn new(drivers: usize, slack_m: f64) -> PickupDistance {
        PickupDistance { slack_m, truth: vec![Xy::default(); drivers], batches: 0, worst: 0.0 }
    }

    /// The least total true pickup distance for `min(riders, drivers)` pairs: each
    /// rider's optimal driver is among its `n` nearest (else a nearer one is free), so
    /// the twin solves riders × the union of those.
    pub fn optimum(riders: &[Xy], drivers: &[Xy]) -> f64 {
        let n = riders.len();
        let mut pool: Vec<usize> = Vec::new();
        if drivers.len() <= n {
            pool.extend(0..drivers.len());
        } else {
            for r in riders {
                let mut by: Vec<(f64, usize)> =
                    drivers.iter().enumerate().map(|(j, d)| (city::dist_m(*r, *d), j)).collect();
                by.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                pool.extend(by.iter().take(n).map(|x| x.1));
            }
            pool.sort_unstable();
            pool.dedup();
        }
        let m = pool.len();
        let mut cost = Vec::with_capacity(n * m);
        for r in riders {
            cost.extend(pool.iter().map(|&j| city::dist_m(*r, drivers[j])));
        }
        let pairs = assignment::solve(&cost, n, m);
        assignment::total(&cost, m, &pairs)
    }
}

impl Property<Obs> for PickupDistance {
    fn name(&self) -> &'static str {
        "pickup-distance"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Truth { at } => {
                self.truth.clone_from(at);
                None
            }
            Obs::Batch { shard, riders, candidates, pairs } => {
                if pairs.is_empty() {
                    return None;
                }
                self.batches += 1;
                let pos = |d: u32| self.truth.get(d as usize).copied().unwrap_or_default();
                let rider_at: BTreeMap<u64, Xy> = riders.iter().copied().collect();
                let chosen: f64 = pairs.iter().map(|(r, d)| city::dist_m(rider_at[r], pos(*d))).sum();
                let rs: Vec<Xy> = riders.iter().map(|r| r.1).collect();
                let ds: Vec<Xy> = candidates.iter().map(|d| pos(*d)).collect();
                let best = Self::optimum(&rs, &ds);
                let excess = (chosen - best) / pairs.len() as f64;
                self.worst = self.worst.max(excess);
                (excess > self.slack_m).then(|| {
                    let (r, d, far) = pairs
                        .iter()
                        .map(|(r, d)| (*r, *d, city::dist_m(rider_at[r], pos(*d))))
                        .max_by(|a, b| a.2.total_cmp(&b.2))
                        .unwrap_or_default();
                    format!(
                        "matcher-{shard} chose pickups totalling {chosen:.0} m for {} riders where {best:.0} m was possible ({excess:.0} m per pair over, slack {:.0} m); e.g. driver {d} for rider {r} is truly {far:.0} m away",
                        pairs.len(),
                        self.slack_m
                    )
                })
            }
            _ => None,
        }
    }

    fn samples(&self) -> u64 {
        self.batches
    }

    fn summary(&self) -> String {
        format!(
            "{} matching decisions within {:.0} m per pair of the true optimum (worst {:.0} m)",
            self.batches, self.slack_m, self.worst
        )
    }
}
