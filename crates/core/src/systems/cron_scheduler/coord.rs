//! The coordinator: the small consistent store schedulers agree through (etcd, ZooKeeper,
//! a database row — modelled as one durable node; the distributed-lock system shows how
//! such a store is itself replicated). It serves two designs:
//!
//! - **Leader lease.** One named lease with a TTL, judged on the coordinator's own clock.
//!   Every new term gets the next *epoch* from a counter kept on disk, so epochs only grow;
//!   the epoch is the fencing token's high half. The current holder's renewals carry its
//!   progress (per job, the last minute up to which every fire is settled), and before
//!   dispatching a fire it records an *intent* to start it (Quartz writes its "fired
//!   triggers" table the same way). Both are kept on disk and handed to the next leader
//!   with its grant: it resumes after the progress, finishes every fire started but not
//!   settled, and applies the missed-run policy only to fires nobody started.
//! - **Per-fire lock.** `SET job@minute NX PX ttl`, Redis-style, in memory: the first
//!   scheduler to ask for a fire gets it; the key simply expires (ShedLock's
//!   "lockAtMostFor"), and nothing remembers that the fire ran.
//!
//! A crash loses the lease and the locks (memory), not the epoch counter or the progress.

use super::msg::{FireId, Msg, Obs};
use crate::blocks::lease::{Grant, LeaseTable};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

/// Locks kept before expired ones are swept.
const LOCK_SWEEP_AT: usize = 256;

#[derive(Clone, Debug)]
pub struct Coordinator {
    /// The leader lease; its epoch counter is durable (`blocks::lease`).
    pub lease: LeaseTable,
    /// Durable: per job, every fire up to this minute is settled (−1: none yet).
    pub cursors: Vec<i64>,
    /// Durable: fires a leader recorded as started, above the progress.
    pub started: BTreeSet<FireId>,
    pub locks: BTreeMap<FireId, SimTime>,
    pub grants: u64,
}

impl Coordinator {
    pub fn new(lease_ms: u64, jobs: usize) -> Coordinator {
        Coordinator {
            lease: LeaseTable::new(lease_ms),
            cursors: vec![-1; jobs],
            started: BTreeSet::new(),
            locks: BTreeMap::new(),
            grants: 0,
        }
    }
}

impl Actor for Coordinator {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.local_time();
        match msg {
            Msg::Acquire { req, renew, cursors } => match self.lease.acquire(from, renew, now) {
                Grant::Renewed(epoch) => {
                    if cursors.len() == self.cursors.len() {
                        // Progress only moves forward, whatever order renewals arrive in.
                        for (mine, theirs) in self.cursors.iter_mut().zip(cursors) {
                            *mine = (*mine).max(theirs);
                        }
                        let done = &self.cursors;
                        self.started.retain(|f| done.get(f.job as usize).is_none_or(|&c| f.minute > c));
                    }
                    let (cursors, started) = (Vec::new(), Vec::new());
                    ctx.send(from, Msg::Granted { req, epoch, fresh: false, cursors, started });
                }
                Grant::Busy => ctx.send(from, Msg::Busy { req }),
                Grant::Fresh(epoch) => {
                    // Free, expired, or its holder restarted: a new term.
                    self.grants += 1;
                    let (cursors, started) = (self.cursors.clone(), self.started.iter().copied().collect());
                    ctx.send(from, Msg::Granted { req, epoch, fresh: true, cursors, started });
                }
            },
            Msg::Intent { epoch, fire } => {
                if self.lease.holds(from, epoch, now) {
                    self.started.insert(fire);
                    ctx.send(from, Msg::IntentOk { fire });
                } else {
                    ctx.send(from, Msg::NotLeader { fire });
                }
            }
            Msg::TryLock { fire, ttl_ms } => {
                if self.locks.len() >= LOCK_SWEEP_AT {
                    self.locks.retain(|_, until| now < *until);
                }
                match self.locks.get(&fire) {
                    Some(until) if now < *until => ctx.send(from, Msg::LockBusy { fire }),
                    _ => {
                        self.locks.insert(fire, now + SimDuration::from_ms(ttl_ms));
                        ctx.send(from, Msg::Locked { fire });
                    }
                }
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.lease.forget();
        self.locks.clear();
    }

    fn describe(&self) -> String {
        match self.lease.lease {
            Some(l) => format!("lease #{} epoch {}", l.holder, l.epoch),
            None if !self.locks.is_empty() => format!("{} locks", self.locks.len()),
            None => "no lease".into(),
        }
    }
}
