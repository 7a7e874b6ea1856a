//! The four properties of a lock that protects a read-modify-write. Each is judged from a
//! record the check keeps itself, built from observations made where the facts arise, and
//! never from the rule the design enforces: a check that re-ran the storage's token
//! comparison would pass by construction for exactly the designs that use tokens.
//!
//! - `no-stale-write` (safety) is the lost update, judged from the storage's history
//!   alone. The check keeps a twin of the stored counter, advanced only by accepted
//!   writes. A worker writes the value it read plus one, so an accepted write of `v` was
//!   computed from `v − 1`; if the twin holds anything else, another accepted write landed
//!   between that read and this write, and this write erases it. Tokens play no part, so
//!   the verdict means the same for every strategy. (A network-duplicated write of the
//!   same lease landing straight after the original changes nothing and is skipped.)
//! - `single-holder` (safety) is mutual exclusion in true time. A worker holds the lock
//!   from the instant it receives the grant until the earliest of: the end of its
//!   critical section, its lease running out (the instant its acquire request left plus
//!   the TTL, the most any strategy's lease promises), or a crash of the worker in the
//!   scenario's plan. Under a fenced strategy a hold also ends when a grant with a higher
//!   token is made after its own: from then on the storage can refuse the old holder,
//!   and a write it still lands first is merely ordered first. Two holds of different
//!   leases that overlap break the property, whichever strategy made them. A paused worker
//!   still holds: a pause delays what it does, it does not stop it.
//! - `tokens-increase` (safety): accepted writes come in the order in which the lock
//!   service granted their leases, as the check recorded those grants when they were made
//!   (true time), not as the storage compared the tokens. With sound tokens the two orders
//!   agree; a counter that restarts from zero re-issues old tokens to new leases, and the
//!   orders part.
//! - `progress` (liveness): once the last fault of the plan is over, the lock is granted and
//!   a write accepted again within a grace period.

use super::msg::{Lease, Obs};
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

fn name(names: &[String], id: u32) -> String {
    names.get(id as usize).cloned().unwrap_or_else(|| format!("#{id}"))
}

/// The lost-update check: a twin of the storage's counter, built from accepted writes.
#[derive(Clone, Default)]
pub struct NoStaleWrite {
    /// The counter as the accepted writes so far left it.
    twin: u64,
    /// Who wrote it last.
    last_writer: Option<Lease>,
    writes: u64,
    names: Vec<String>,
}

impl NoStaleWrite {
    pub fn new(names: Vec<String>) -> NoStaleWrite {
        NoStaleWrite { names, ..NoStaleWrite::default() }
    }
}

impl Property<Obs> for NoStaleWrite {
    fn name(&self) -> &'static str {
        "no-stale-write"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Access { lease, write: true, accepted: true, value, .. } = *obs else {
            return None;
        };
        self.writes += 1;
        if value == self.twin && self.last_writer == Some(lease) {
            return None;
        }
        let basis = value.saturating_sub(1);
        let bad = (basis != self.twin).then(|| {
            let overwritten = match self.last_writer {
                Some(l) => format!("{}'s {}", name(&self.names, l.worker), self.twin),
                None => format!("the initial {}", self.twin),
            };
            // Each accepted write adds one, so the gap counts the erased updates (when the
            // counter had already gone backwards, the gap says nothing: at least one).
            let lost = match self.twin.saturating_sub(basis) {
                0 | 1 => "update lost".to_string(),
                n => format!("{n} updates lost"),
            };
            format!(
                "{} wrote {value} computed from {basis}, overwriting {overwritten} ({lost})",
                name(&self.names, lease.worker)
            )
        });
        self.twin = value;
        self.last_writer = Some(lease);
        bad
    }
    fn samples(&self) -> u64 {
        self.writes
    }
    fn summary(&self) -> String {
        format!("{} accepted writes, each computed from the value the one before it left", self.writes)
    }
}

/// One stretch in which a worker held the lock.
#[derive(Clone, Debug)]
struct Hold {
    lease: Lease,
    token: u64,
    start: SimTime,
    /// The earliest end known so far: lease expiry, the worker's crash, a higher grant.
    until: SimTime,
}

/// Mutual exclusion in true time, for every strategy.
#[derive(Clone, Default)]
pub struct SingleHolder {
    /// Holds that may still be live.
    holds: Vec<Hold>,
    /// Every grant that carried a token, in the order made: (when, token).
    grants: Vec<(SimTime, u64)>,
    /// Where each lease's first grant sits in `grants` (a Raft leader replaying its log
    /// reports old grants again; they are not new grants).
    granted: BTreeMap<Lease, usize>,
    /// The first lease each token was granted to (a second lease means it was re-issued).
    first_with: BTreeMap<u64, Lease>,
    /// Crash instants from the scenario's plan, per worker id.
    crashes: Vec<Vec<SimTime>>,
    held: u64,
    names: Vec<String>,
}

impl SingleHolder {
    /// `crashes[w]`: when the plan crashes worker `w` (the property cannot see faults, and
    /// a crashed holder stops acting at once).
    pub fn new(names: Vec<String>, crashes: Vec<Vec<SimTime>>) -> SingleHolder {
        SingleHolder { names, crashes, ..SingleHolder::default() }
    }

    fn who(&self, lease: Lease, token: u64) -> String {
        let w = name(&self.names, lease.worker);
        if token > 0 {
            format!("{w} (token {token})")
        } else {
            w
        }
    }
}

impl Property<Obs> for SingleHolder {
    fn name(&self) -> &'static str {
        "single-holder"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Grant { lease, token } if token > 0 => {
                if self.granted.contains_key(&lease) {
                    return None;
                }
                // A higher token fences every lower one granted before it.
                for h in self.holds.iter_mut().filter(|h| h.token < token) {
                    h.until = h.until.min(at);
                }
                self.granted.insert(lease, self.grants.len());
                self.grants.push((at, token));
                self.first_with.entry(token).or_insert(lease);
                None
            }
            Obs::Done { lease } => {
                for h in self.holds.iter_mut().filter(|h| h.lease == lease) {
                    h.until = h.until.min(at);
                }
                None
            }
            Obs::Holding { lease, token, expires } => {
                self.held += 1;
                let mut until = expires;
                if let Some(&c) = self.crashes.get(lease.worker as usize).and_then(|c| c.iter().find(|&&c| c > at)) {
                    until = until.min(c);
                }
                if token > 0 {
                    if let Some(&i) = self.granted.get(&lease) {
                        if let Some(&(when, _)) = self.grants[i + 1..].iter().find(|g| g.1 > token) {
                            until = until.min(when);
                        }
                    }
                }
                self.holds.retain(|h| h.until > at);
                if until <= at {
                    return None;
                }
                let bad = self.holds.iter().find(|h| h.lease != lease).map(|h| {
                    let mut d = format!(
                        "{} holds the lock from {at} while {} still holds it (since {}, until {} at the latest)",
                        self.who(lease, token),
                        self.who(h.lease, h.token),
                        h.start,
                        h.until
                    );
                    if let Some(first) = self.first_with.get(&token).filter(|&&l| token > 0 && l != lease) {
                        d.push_str(&format!(
                            "; token {token} was granted before, to {}",
                            name(&self.names, first.worker)
                        ));
                    }
                    d
                });
                self.holds.push(Hold { lease, token, start: at, until });
                bad
            }
            _ => None,
        }
    }
    fn samples(&self) -> u64 {
        self.held
    }
    fn summary(&self) -> String {
        format!("{} holds, no two at once in true time", self.held)
    }
}

/// Accepted writes follow the lock service's grant order, as recorded at each grant.
#[derive(Clone, Default)]
pub struct TokensIncrease {
    /// Each granted lease's place in grant order, when it was granted, and its token.
    rank: BTreeMap<Lease, (u64, SimTime, u64)>,
    /// The lease of the last accepted write and its place in grant order.
    last: Option<(Lease, u64)>,
    writes: u64,
    names: Vec<String>,
}

impl TokensIncrease {
    pub fn new(names: Vec<String>) -> TokensIncrease {
        TokensIncrease { names, ..TokensIncrease::default() }
    }

    /// "granted at T" or "token 5, granted at T".
    fn grant(&self, lease: Lease) -> String {
        match self.rank.get(&lease) {
            Some(&(_, at, 0)) => format!("granted at {at}"),
            Some(&(_, at, token)) => format!("token {token}, granted at {at}"),
            None => "never granted".into(),
        }
    }
}

impl Property<Obs> for TokensIncrease {
    fn name(&self) -> &'static str {
        "tokens-increase"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Grant { lease, token } => {
                let next = self.rank.len() as u64 + 1;
                self.rank.entry(lease).or_insert((next, at, token));
                None
            }
            Obs::Access { lease, write: true, accepted: true, .. } => {
                self.writes += 1;
                let who = |l: Lease| name(&self.names, l.worker);
                let Some(&(rank, _, _)) = self.rank.get(&lease) else {
                    return Some(format!("storage accepted a write from {} under a lease never granted", who(lease)));
                };
                let prev = self.last.replace((lease, rank));
                match prev {
                    Some((l, r)) if l != lease && rank < r => Some(format!(
                        "storage accepted {}'s write ({}) after {}'s, whose lease came later ({})",
                        who(lease),
                        self.grant(lease),
                        who(l),
                        self.grant(l)
                    )),
                    _ => None,
                }
            }
            _ => None,
        }
    }
    fn samples(&self) -> u64 {
        self.writes
    }
    fn summary(&self) -> String {
        format!("{} accepted writes, in the order their leases were granted", self.writes)
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
}
