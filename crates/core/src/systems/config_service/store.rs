//! The replicated state machine: an etcd-like revisioned key-value store with sessions.
//!
//! Every change (a put, a successful compare-and-set, a session's key deleted when it
//! expires) gets the next store revision, as etcd's MVCC store numbers its changes; reads
//! answer with the revision they saw. The last [`EVENTS_KEPT`] changes stay in a ring so
//! a watcher can resume from a recent revision (etcd keeps history until compaction; a
//! watcher asking for an older revision is told it was compacted and must re-read).
//!
//! Sessions stand for etcd leases / ZooKeeper sessions: a put may attach a key to a
//! session, and expiring the session deletes those keys. Whether a session is still kept
//! alive is the leader's business (its clock); the log only records the decision.
//!
//! `KvState` is also the Raft snapshot, so all of it is bounded: keys by the parameter,
//! sessions by the clients, events by the ring.

use super::msg::{Cmd, Reply};
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// Changes kept for watchers that resume.
pub const EVENTS_KEPT: usize = 512;

/// One change: revision, key, and the new value (`None`: deleted).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Event {
    pub rev: u64,
    pub key: u32,
    pub value: Option<u64>,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Item {
    pub value: u64,
    /// The revision that last changed the key (etcd's `mod_revision`).
    pub mod_rev: u64,
    pub session: Option<u64>,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct KvState {
    /// Revision of the latest change (0: none yet).
    pub rev: u64,
    pub items: BTreeMap<u32, Item>,
    /// Open sessions and their owners.
    pub sessions: BTreeMap<u64, NodeId>,
    /// The latest changes, oldest first.
    pub events: VecDeque<Event>,
}

/// What applying one command did: the answer for the client who asked (if any), and the
/// changes it made.
pub struct Applied {
    pub reply: Option<(NodeId, u64, Reply)>,
    pub changes: Vec<Event>,
}

impl KvState {
    pub fn get(&self, key: u32) -> Option<u64> {
        self.items.get(&key).map(|i| i.value)
    }

    /// The newest revision no longer in the ring (0: nothing compacted yet).
    pub fn compacted(&self) -> u64 {
        self.events.front().map_or(self.rev, |e| e.rev - 1)
    }

    fn change(&mut self, key: u32, value: Option<u64>, session: Option<u64>, out: &mut Vec<Event>) {
        self.rev += 1;
        let rev = self.rev;
        match value {
            Some(value) => {
                self.items.insert(key, Item { value, mod_rev: rev, session });
            }
            None => {
                self.items.remove(&key);
            }
        }
        let e = Event { rev, key, value };
        self.events.push_back(e);
        if self.events.len() > EVENTS_KEPT {
            self.events.pop_front();
        }
        out.push(e);
    }

    pub fn apply(&mut self, cmd: Cmd) -> Applied {
        let mut changes = Vec::new();
        let reply = match cmd {
            Cmd::Put { client, req, key, value, session } => {
                if session.is_some_and(|s| !self.sessions.contains_key(&s)) {
                    Some((client, req, Reply::NoSession))
                } else {
                    self.change(key, Some(value), session, &mut changes);
                    Some((client, req, Reply::Written { rev: self.rev }))
                }
            }
            Cmd::Cas { client, req, key, from, to } => {
                let ok = self.get(key) == Some(from);
                if ok {
                    self.change(key, Some(to), None, &mut changes);
                }
                Some((client, req, Reply::Swapped { ok, rev: self.rev }))
            }
            Cmd::Open { client, req, session } => {
                self.sessions.insert(session, client);
                Some((client, req, Reply::Opened))
            }
            Cmd::Expire { session } => {
                if self.sessions.remove(&session).is_some() {
                    let keys: Vec<u32> =
                        self.items.iter().filter(|(_, i)| i.session == Some(session)).map(|(k, _)| *k).collect();
                    for k in keys {
                        self.change(k, None, None, &mut changes);
                    }
                }
                None
            }
        };
        Applied { reply, changes }
    }

    /// The ring's events of `prefix` after revision `after`, or `Err(oldest)` when some of
    /// them were compacted away.
    pub fn events_after(&self, after: u64, holds: impl Fn(u32) -> bool) -> Result<Vec<Event>, u64> {
        if after < self.compacted() {
            return Err(self.compacted());
        }
        Ok(self.events.iter().filter(|e| e.rev > after && holds(e.key)).copied().collect())
    }
}
