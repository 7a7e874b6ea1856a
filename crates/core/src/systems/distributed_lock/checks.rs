//! The four properties of a lock that protects a read-modify-write, each fed by the
//! workers' and the storage's observations:
//!
//! - `no-stale-write` (safety): once the storage has served an access under some lease, it
//!   never accepts a write under an earlier lease. That is the lost update a lock exists to
//!   prevent: the later holder's read-modify-write was interleaved with the old holder's
//!   write. (A write from an old holder that lands *before* the new holder touched the
//!   storage is harmless: it is simply ordered first.) "Earlier" is ghost order: the token
//!   when the strategy has one, otherwise the true instant the lock was granted.
//! - `single-holder` (safety): no token is granted twice, to two workers or two attempts.
//! - `tokens-increase` (safety): the tokens (or, without tokens, grant order) of accepted
//!   writes strictly increase.
//! - `progress` (liveness): once the last fault of the plan is over, the lock is granted and
//!   a write accepted again within a grace period.

use super::msg::{Lease, Obs};
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

fn describe_order(order: u64, token: u64) -> String {
    if token > 0 {
        format!("token {token}")
    } else {
        format!("lease granted at {}", SimTime(order))
    }
}

#[derive(Clone, Default)]
pub struct NoStaleWrite {
    /// The latest lease the storage has served: (order, lease, token).
    latest: Option<(u64, Lease, u64)>,
    writes: u64,
    names: Vec<String>,
}

impl NoStaleWrite {
    pub fn new(names: Vec<String>) -> NoStaleWrite {
        NoStaleWrite { names, ..NoStaleWrite::default() }
    }
}

fn name(names: &[String], id: u32) -> String {
    names.get(id as usize).cloned().unwrap_or_else(|| format!("#{id}"))
}

impl Property<Obs> for NoStaleWrite {
    fn name(&self) -> &'static str {
        "no-stale-write"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Access { lease, order, token, write, accepted: true } = *obs else {
            return None;
        };
        let mut bad = None;
        if write {
            self.writes += 1;
            if let Some((o, l, t)) = self.latest {
                if order < o && l != lease {
                    bad = Some(format!(
                        "storage accepted a write from {} ({}) after serving {} under a later lease ({})",
                        name(&self.names, lease.worker),
                        describe_order(order, token),
                        name(&self.names, l.worker),
                        describe_order(o, t)
                    ));
                }
            }
        }
        if self.latest.is_none_or(|(o, _, _)| order > o) {
            self.latest = Some((order, lease, token));
        }
        bad
    }
    fn samples(&self) -> u64 {
        self.writes
    }
    fn summary(&self) -> String {
        format!("{} accepted writes, none under a superseded lease", self.writes)
    }
    fn clone_box(&self) -> Box<dyn Property<Obs>> {
        Box::new(self.clone())
    }
}

#[derive(Clone, Default)]
pub struct SingleHolder {
    by_token: BTreeMap<u64, Lease>,
    grants: u64,
    names: Vec<String>,
}

impl SingleHolder {
    pub fn new(names: Vec<String>) -> SingleHolder {
        SingleHolder { names, ..SingleHolder::default() }
    }
}

impl Property<Obs> for SingleHolder {
    fn name(&self) -> &'static str {
        "single-holder"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Granted { lease, token } = *obs else {
            return None;
        };
        self.grants += 1;
        if token == 0 {
            return None;
        }
        match self.by_token.insert(token, lease) {
            Some(prev) if prev != lease => Some(format!(
                "token {token} granted to {} and again to {}",
                name(&self.names, prev.worker),
                name(&self.names, lease.worker)
            )),
            _ => None,
        }
    }
    fn samples(&self) -> u64 {
        self.grants
    }
    fn summary(&self) -> String {
        format!("{} grants, {} distinct tokens, none issued twice", self.grants, self.by_token.len())
    }
    fn clone_box(&self) -> Box<dyn Property<Obs>> {
        Box::new(self.clone())
    }
}

#[derive(Clone, Default)]
pub struct TokensIncrease {
    last: Option<(u64, u64)>,
    writes: u64,
}

impl Property<Obs> for TokensIncrease {
    fn name(&self) -> &'static str {
        "tokens-increase"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Access { order, token, write: true, accepted: true, .. } = *obs else {
            return None;
        };
        self.writes += 1;
        let prev = self.last.replace((order, token));
        match prev {
            Some((o, t)) if order <= o => Some(format!(
                "storage accepted a write with {} after one with {}",
                describe_order(order, token),
                describe_order(o, t)
            )),
            _ => None,
        }
    }
    fn samples(&self) -> u64 {
        self.writes
    }
    fn summary(&self) -> String {
        format!("{} accepted writes in strictly increasing order", self.writes)
    }
    fn clone_box(&self) -> Box<dyn Property<Obs>> {
        Box::new(self.clone())
    }
}

/// Judged only when the fault plan leaves a quiet window of at least the grace period
/// before the workload ends.
#[derive(Clone)]
pub struct Progress {
    /// When the last fault of the plan is over (None: some fault never ends).
    pub quiet_from: Option<SimTime>,
    pub grace_ms: u64,
    pub workload_end: SimTime,
    accepted_after: u64,
    accepted: u64,
    verdict: String,
}

impl Progress {
    pub fn new(quiet_from: Option<SimTime>, grace_ms: u64, workload_end: SimTime) -> Progress {
        Progress { quiet_from, grace_ms, workload_end, accepted_after: 0, accepted: 0, verdict: String::new() }
    }

    fn deadline(&self) -> Option<SimTime> {
        let q = self.quiet_from?;
        let d = SimTime(q.0 + self.grace_ms * 1_000);
        (d < self.workload_end).then_some(d)
    }
}

impl Property<Obs> for Progress {
    fn name(&self) -> &'static str {
        "progress"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        if let Obs::Access { write: true, accepted: true, .. } = obs {
            self.accepted += 1;
            if self.deadline().is_some_and(|d| at >= d) {
                self.accepted_after += 1;
            }
        }
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let Some(q) = self.quiet_from else {
            self.verdict = "not judged: a fault in the plan never ends".into();
            return None;
        };
        let Some(d) = self.deadline() else {
            self.verdict = format!("not judged: faults end at {q}, too close to the end of the workload");
            return None;
        };
        if self.accepted_after == 0 {
            return Some(format!(
                "no write accepted between {d} ({} ms after the last fault) and {}",
                self.grace_ms, self.workload_end
            ));
        }
        self.verdict = format!("{} writes accepted after {d} (faults over at {q})", self.accepted_after);
        None
    }
    fn samples(&self) -> u64 {
        self.accepted
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
    fn clone_box(&self) -> Box<dyn Property<Obs>> {
        Box::new(self.clone())
    }
}
