//! The three properties of the cache tier.
//!
//! - `key-movement`: each time a client's view gains or loses one node, the fraction of
//!   the key universe whose owner changes must stay within `1/n + ε` (n the larger of the
//!   two cluster sizes). Consistent schemes move about `1/n`; modulo moves most keys.
//! - `bounded-staleness`: once a write is acknowledged, no read that *begins* more than
//!   the stated bound later may return a value that the write superseded. "Superseded"
//!   uses real-time order, as linearizability does: the returned value's write was
//!   acknowledged before the newer write began. Concurrent writes may land either way.
//!   All times are the simulation's true time, not any node's clock. Each read says which
//!   cache node answered and whether it was a replica, and the check remembers the last
//!   copy each replica received, so a violation names the replica, the version it
//!   returned, the latest acknowledged version, and when the stale copy arrived.
//! - `db-under-capacity`: queries reaching the database within any 100 ms window stay
//!   within its capacity — promised only while the cache tier is intact (no timeouts, no
//!   node back from a crash); otherwise the SLO reports "not judged".

use super::config::Cfg;
use super::msg::Obs;
use crate::check::Property;
use crate::sim::time::SimTime;
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Debug)]
pub struct KeyMovement {
    pub epsilon: f64,
    samples: u64,
    worst: f64,
}

impl KeyMovement {
    pub fn new(epsilon: f64) -> KeyMovement {
        KeyMovement { epsilon, samples: 0, worst: 0.0 }
    }
}

impl Property<Obs> for KeyMovement {
    fn name(&self) -> &'static str {
        "key-movement"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Moved { what, before, after, fraction } = obs else {
            return None;
        };
        if *before == 0 || *after == 0 {
            return None;
        }
        self.samples += 1;
        self.worst = self.worst.max(*fraction);
        let n = (*before).max(*after);
        let changed = before.abs_diff(*after).max(1);
        let bound = changed as f64 / n as f64 + self.epsilon;
        (*fraction > bound).then(|| {
            format!(
                "{what}: {:.1}% of keys changed owner > bound {:.1}% ({changed}/{n} + ε {})",
                fraction * 100.0,
                bound * 100.0,
                self.epsilon
            )
        })
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        if self.samples == 0 {
            return "not exercised: no membership change".into();
        }
        format!("{} membership changes, worst moved {:.1}% of keys", self.samples, self.worst * 100.0)
    }
}

#[derive(Clone, Debug)]
struct WriteRec {
    wid: u64,
    start: SimTime,
    ack: Option<SimTime>,
}

/// The last copy a replica received for a key: value, when it was sent, when it arrived.
#[derive(Clone, Copy, Debug)]
struct CopyRec {
    val: u64,
    sent: SimTime,
    arrived: SimTime,
}

#[derive(Clone, Debug)]
pub struct BoundedStaleness {
    pub bound_us: u64,
    pub why: String,
    writes: BTreeMap<u64, Vec<WriteRec>>,
    acks: BTreeMap<u64, SimTime>,
    /// (cache member, key) → the last copy it received.
    copies: BTreeMap<(u32, u64), CopyRec>,
    samples: u64,
    replica_reads: u64,
    /// Reads that returned a superseded value, within the bound or not.
    stale_reads: u64,
    worst_us: u64,
}

impl BoundedStaleness {
    pub fn new(bound_us: u64, why: String) -> BoundedStaleness {
        BoundedStaleness {
            bound_us,
            why,
            writes: BTreeMap::new(),
            acks: BTreeMap::new(),
            copies: BTreeMap::new(),
            samples: 0,
            replica_reads: 0,
            stale_reads: 0,
            worst_us: 0,
        }
    }

    /// The write of `key` acknowledged last at or before `t`.
    fn latest_acked(&self, key: u64, t: SimTime) -> Option<(SimTime, u64)> {
        self.writes.get(&key)?.iter().filter_map(|w| w.ack.filter(|&a| a <= t).map(|a| (a, w.wid))).max()
    }
}

fn ms(t: SimTime) -> String {
    format!("{:.1} ms", t.0 as f64 / 1_000.0)
}

impl Property<Obs> for BoundedStaleness {
    fn name(&self) -> &'static str {
        "bounded-staleness"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::WriteStart { key, wid } => {
                self.writes.entry(*key).or_default().push(WriteRec { wid: *wid, start: _at, ack: None });
                None
            }
            Obs::WriteAck { key, wid } => {
                self.acks.entry(*wid).or_insert(_at);
                if let Some(w) = self.writes.get_mut(key).and_then(|v| v.iter_mut().find(|w| w.wid == *wid)) {
                    w.ack.get_or_insert(_at);
                }
                None
            }
            Obs::Copied { node, key, val, sent } => {
                self.copies.insert((*node, *key), CopyRec { val: *val, sent: *sent, arrived: _at });
                None
            }
            Obs::Read { key, val, started, node, replica } => {
                self.samples += 1;
                self.replica_reads += u64::from(*replica);
                // When was the returned value's write acknowledged? (The initial value: at 0.)
                let seen_ack = if *val == 0 { SimTime::ZERO } else { *self.acks.get(val)? };
                let newer = self.writes.get(key)?.iter().filter_map(|w| {
                    let ack = w.ack?;
                    (w.start > seen_ack && ack <= *started).then_some((ack, w.wid))
                });
                let (ack, wid) = newer.min()?;
                self.stale_reads += 1;
                let stale_us = started.0 - ack.0;
                self.worst_us = self.worst_us.max(stale_us);
                if stale_us <= self.bound_us {
                    return None;
                }
                let from = match node {
                    Some(m) if *replica => format!("replica {}", Cfg::cache_name(*m)),
                    Some(m) => format!("first owner {}", Cfg::cache_name(*m)),
                    None => "the database".to_string(),
                };
                let latest = match self.latest_acked(*key, *started) {
                    Some((at, l)) => {
                        format!("; the latest write acknowledged before the read was {l:#x} (at {})", ms(at))
                    }
                    None => String::new(),
                };
                let copy = match node.and_then(|m| self.copies.get(&(m, *key)).map(|c| (m, c))) {
                    Some((m, c)) if c.val == *val => {
                        let when = if c.arrived > ack {
                            format!("{} after", ms(SimTime(c.arrived.0 - ack.0)))
                        } else {
                            "before".to_string()
                        };
                        format!(
                            "; {} got that value as a copy sent at {} that arrived at {}, {when} write {wid:#x} was acknowledged",
                            Cfg::cache_name(m),
                            ms(c.sent),
                            ms(c.arrived),
                        )
                    }
                    _ => String::new(),
                };
                Some(format!(
                    "read of key {key} from {from} began {:.0} ms after write {wid:#x} was acknowledged yet returned the older value {val:#x}{latest}{copy}; bound {:.0} ms = {}",
                    stale_us as f64 / 1_000.0,
                    self.bound_us as f64 / 1_000.0,
                    self.why
                ))
            }
            _ => None,
        }
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        format!(
            "{} reads ({} from replicas, {} returned a superseded value), stalest {:.0} ms after a newer write's ack ≤ bound {:.0} ms = {}",
            self.samples,
            self.replica_reads,
            self.stale_reads,
            self.worst_us as f64 / 1_000.0,
            self.bound_us as f64 / 1_000.0,
            self.why
        )
    }
}

/// Window the database load is measured over.
pub const DB_WINDOW_US: u64 = 100_000;

#[derive(Clone, Debug)]
pub struct DbUnderCapacity {
    pub capacity_qps: f64,
    window: VecDeque<SimTime>,
    peak: usize,
    peak_at: SimTime,
    disrupted: Option<String>,
    samples: u64,
}

impl DbUnderCapacity {
    pub fn new(capacity_qps: f64) -> DbUnderCapacity {
        DbUnderCapacity {
            capacity_qps,
            window: VecDeque::new(),
            peak: 0,
            peak_at: SimTime::ZERO,
            disrupted: None,
            samples: 0,
        }
    }

    fn limit(&self) -> f64 {
        self.capacity_qps * DB_WINDOW_US as f64 / 1_000_000.0
    }
}

impl Property<Obs> for DbUnderCapacity {
    fn name(&self) -> &'static str {
        "db-under-capacity"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Disrupted(why) => {
                self.disrupted.get_or_insert_with(|| why.clone());
                None
            }
            Obs::DbArrival => {
                self.samples += 1;
                self.window.push_back(at);
                while self.window.front().is_some_and(|&t| t.0 + DB_WINDOW_US <= at.0) {
                    self.window.pop_front();
                }
                let n = self.window.len();
                if n > self.peak {
                    self.peak = n;
                    self.peak_at = at;
                }
                if self.disrupted.is_some() || (n as f64) <= self.limit() {
                    return None;
                }
                Some(format!(
                    "{n} queries reached the database in the 100 ms before {at} ({:.0} q/s) > capacity {:.0} q/s",
                    n as f64 * 10.0,
                    self.capacity_qps
                ))
            }
            _ => None,
        }
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        let peak = format!(
            "peak {:.0} q/s at {} vs capacity {:.0} q/s",
            self.peak as f64 * 10.0,
            self.peak_at,
            self.capacity_qps
        );
        match &self.disrupted {
            Some(why) => format!("not judged: the SLO holds only while the cache tier is intact ({why}); {peak}"),
            None => format!("{} queries, {peak}", self.samples),
        }
    }
}
