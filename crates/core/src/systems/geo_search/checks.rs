//! The checks.
//!
//! `exact-results` keeps its own record of the world — every driver's newest GPS fix, as
//! the phone reported it, and which shards hold which version of it, as each shard
//! reported after applying an update — and judges every answer against a brute-force scan
//! of the true positions at that moment (a bounding-box test, then the haversine distance,
//! for every driver). It never looks at an index.
//!
//! What "exact" can mean for a moving fleet: a driver whose index entry was not settled —
//! its newest fix not yet applied, or a copy left on a shard it moved away from — or that
//! changed while the query was in flight may be reported either way; that is the freshness
//! any index of moving things has (one network hop behind the phones). Every other driver
//! must be exactly right: in the answer if and only if the scan puts it there, at its true
//! distance, and for k-nearest, in order (ties by id).
//!
//! `update-cost` bounds the work of a position update: the index steps a shard spends per
//! change, averaged over each batch, must stay under a bound that does not grow with the
//! number of drivers (moving things update constantly; an update that costs O(n) melts the
//! index at scale).

use super::msg::{Ask, Obs, Query};
use crate::blocks::haversine::{cap_bbox, distance_km, LatLon};
use crate::check::Property;
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

/// What the record knows of one driver (its position is kept apart, in `ExactResults::at`,
/// so the scan runs over a compact array).
#[derive(Clone, Debug, Default)]
struct Truth {
    fix: Option<u64>,
    /// (shard, version) of each live copy in the index.
    held: Vec<(u16, u64)>,
    /// The last instant its fix or its copies changed.
    changed: SimTime,
}

impl Truth {
    fn settled(&self) -> bool {
        matches!((self.fix, self.held.as_slice()), (Some(v), [(_, h)]) if *h == v)
    }
}

#[derive(Clone, Debug)]
pub struct ExactResults {
    drivers: Vec<Truth>,
    /// Each driver's newest fix (NaN before the first).
    at: Vec<LatLon>,
    pending: BTreeMap<u64, (Query, SimTime)>,
    judged: u64,
    excused: u64,
}

impl ExactResults {
    pub fn new(drivers: usize) -> ExactResults {
        let nowhere = LatLon::new(f64::NAN, f64::NAN);
        ExactResults {
            drivers: vec![Truth::default(); drivers],
            at: vec![nowhere; drivers],
            pending: BTreeMap::new(),
            judged: 0,
            excused: 0,
        }
    }

    /// The brute-force answer over drivers that were settled throughout: (km, id) within
    /// reach, nearest first.
    fn scan(&self, q: &Query, since: SimTime) -> Vec<(f64, u32)> {
        let reach = q.reach_km();
        let bbox = cap_bbox(q.at.0, reach);
        let mut out: Vec<(f64, u32)> = self
            .at
            .iter()
            .enumerate()
            .filter(|(_, p)| bbox.contains(**p))
            .filter(|(id, _)| self.drivers[*id].settled() && self.drivers[*id].changed < since)
            .filter_map(|(id, p)| {
                let d = distance_km(q.at.0, *p);
                (d <= reach).then_some((d, id as u32))
            })
            .collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        out
    }

    fn judge(&mut self, q: &Query, since: SimTime, hits: &[(u32, f64)]) -> Option<String> {
        let counted = |id: u32| self.drivers.get(id as usize).is_some_and(|t| t.settled() && t.changed < since);
        let want = self.scan(q, since);
        let got: Vec<(u32, f64)> = hits.iter().copied().filter(|&(id, _)| counted(id)).collect();
        self.excused += (hits.len() - got.len()) as u64;
        let what = match q.ask {
            Ask::Radius { radius_m } => format!("within {radius_m} m"),
            Ask::Nearest { k, max_m } => format!("{k} nearest within {max_m} m"),
        };
        let at = format!("({:.5}, {:.5})", q.at.0.lat, q.at.0.lon);
        for &(id, km) in &got {
            let truth = want.iter().find(|w| w.1 == id);
            match truth {
                Some(&(d, _)) if d != km => {
                    return Some(format!("{what} of {at}: driver {id} reported at {km:.4} km, truly {d:.4} km"));
                }
                None => {
                    return Some(format!("{what} of {at}: driver {id} is in the answer but truly out of reach"));
                }
                _ => {}
            }
        }
        let limit = q.limit();
        let must = match limit {
            Some(k) if hits.len() >= k => got.len(),
            _ => want.len(),
        };
        for (i, &(d, id)) in want.iter().take(must).enumerate() {
            if got.get(i).map(|g| g.0) != Some(id) {
                let shown = got.iter().any(|g| g.0 == id);
                let how = if shown { "out of order" } else { "missing" };
                return Some(format!(
                    "{what} of {at}: driver {id} at {d:.3} km is {how} (answer has {} hits, the brute-force scan {} settled ones)",
                    hits.len(),
                    want.len()
                ));
            }
        }
        None
    }
}

impl Property<Obs> for ExactResults {
    fn name(&self) -> &'static str {
        "exact-results"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Fix { id, version, at: p } => {
                if let Some(t) = self.drivers.get_mut(*id as usize) {
                    t.fix = Some(*version);
                    t.changed = at;
                    self.at[*id as usize] = *p;
                }
            }
            Obs::Held { shard, id, version, live } => {
                if let Some(t) = self.drivers.get_mut(*id as usize) {
                    t.held.retain(|h| h.0 != *shard);
                    if *live {
                        t.held.push((*shard, *version));
                    }
                    t.changed = at;
                }
            }
            Obs::Wiped { shard } => {
                for t in &mut self.drivers {
                    let before = t.held.len();
                    t.held.retain(|h| h.0 != *shard);
                    if t.held.len() != before {
                        t.changed = at;
                    }
                }
            }
            Obs::Issued { qid, query } => {
                self.pending.insert(*qid, (*query, at));
            }
            Obs::GaveUp { qid } => {
                self.pending.remove(qid);
            }
            Obs::Answered { qid, hits } => {
                let (q, since) = self.pending.remove(qid)?;
                self.judged += 1;
                return self.judge(&q, since, hits).map(|d| format!("query {qid}: {d}"));
            }
            Obs::UpdateCost { .. } => {}
        }
        None
    }

    fn samples(&self) -> u64 {
        self.judged
    }

    fn summary(&self) -> String {
        format!(
            "{} answers equal a brute-force scan of the true positions ({} hits on drivers moving at the time not judged)",
            self.judged, self.excused
        )
    }
}

/// The per-change bound: fixed, whatever the number of drivers.
#[derive(Clone, Debug)]
pub struct UpdateCost {
    limit: u64,
    batches: u64,
    ops: u64,
    steps: u64,
    worst: f64,
}

impl UpdateCost {
    pub fn new(limit: u64) -> UpdateCost {
        UpdateCost { limit, batches: 0, ops: 0, steps: 0, worst: 0.0 }
    }
}

impl Property<Obs> for UpdateCost {
    fn name(&self) -> &'static str {
        "update-cost"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::UpdateCost { shard, ops, steps } = obs else { return None };
        if *ops == 0 {
            return None;
        }
        self.batches += 1;
        self.ops += ops;
        self.steps += steps;
        let mean = *steps as f64 / *ops as f64;
        self.worst = self.worst.max(mean);
        (mean > self.limit as f64).then(|| {
            format!(
                "shard-{shard} spent {steps} steps on {ops} position updates: {mean:.0} per update > {} (the cost grows with the drivers it holds)",
                self.limit
            )
        })
    }

    fn samples(&self) -> u64 {
        self.batches
    }

    fn summary(&self) -> String {
        let mean = if self.ops == 0 { 0.0 } else { self.steps as f64 / self.ops as f64 };
        format!(
            "{} updates in {} batches: {mean:.1} steps each on average, worst batch {:.1} ≤ {}",
            self.ops, self.batches, self.worst, self.limit
        )
    }
}
