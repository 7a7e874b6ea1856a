//! Membership changes, one server at a time (Ongaro's thesis §4.1; the scheme etcd and
//! most Raft libraries use, not the joint consensus of the 2014 paper's §6). Adding or
//! removing a single server keeps every majority of the old configuration overlapping
//! every majority of the new one, so no two leaders can be elected for one term across
//! the change without any intermediate joint configuration.
//!
//! A configuration is an ordinary log entry listing the voting members, and each server
//! uses the newest configuration *in its log*, committed or not: it takes effect when
//! appended (and is undone if a new leader truncates it). Three rules keep it safe:
//! - only one change at a time: the leader refuses a change while the last configuration
//!   entry in its log is not yet committed;
//! - a new leader must first commit an entry of its own term (its no-op) before it starts
//!   a change (the fix Ongaro posted to raft-dev in 2015 for a flaw in the original
//!   single-server algorithm);
//! - a leader that removes itself keeps leading until the new configuration commits, not
//!   counting itself in that majority, then steps down (§4.2.2).
//!
//! Left out: the thesis's non-voting catch-up phase for new servers (§4.2.1): a new server
//! votes as soon as it is added, so adding one to a cluster whose leader cannot reach it
//! stalls commits until it catches up. Removed servers are kept from disrupting by
//! pre-vote (§4.2.3 offers the same check for real votes; here it guards pre-votes).

use super::log::Payload;
use super::node::{Data, Raft, Role};
use crate::sim::NodeId;

impl<C: Data, S: Data> Raft<C, S> {
    /// The voting members in force at this node: the newest configuration in its log,
    /// else the one its snapshot records, else the bootstrap configuration.
    pub fn members(&self) -> Vec<NodeId> {
        self.members_at(self.log.last_index())
    }

    /// The configuration in force at `index`.
    pub fn members_at(&self, index: u64) -> Vec<NodeId> {
        if let Some((_, m)) = self.log.last_members(index) {
            return m.clone();
        }
        // The snapshot always ends where the log starts.
        match &self.snapshot {
            Some(s) => s.members.clone(),
            None => self.bootstrap.clone(),
        }
    }

    pub fn is_member(&self, id: NodeId) -> bool {
        self.members().contains(&id)
    }

    /// Leader only: propose `members` as the new configuration. It must differ from the
    /// current one by exactly one server. Returns the entry's index.
    pub fn change_members(&mut self, mut members: Vec<NodeId>) -> Result<u64, &'static str> {
        if self.role != Role::Leader {
            return Err("not the leader");
        }
        members.sort_unstable();
        members.dedup();
        let current = self.members();
        let added = members.iter().filter(|m| !current.contains(m)).count();
        let removed = current.iter().filter(|m| !members.contains(m)).count();
        if added + removed != 1 {
            return Err("a change adds or removes exactly one server");
        }
        if self.log.last_members(self.log.last_index()).is_some_and(|(i, _)| i > self.commit) {
            return Err("the previous configuration change is not committed yet");
        }
        if self.log.term_at(self.commit) != Some(self.term) {
            return Err("the leader has not committed an entry of its own term yet");
        }
        Ok(self.append_own(Payload::Members(members)))
    }

    /// After a commit: a leader no longer in the committed configuration steps down.
    pub(super) fn leave_if_removed(&mut self) {
        if self.role == Role::Leader && !self.is_member(self.id) {
            let pending = self.log.last_members(self.log.last_index()).is_some_and(|(i, _)| i > self.commit);
            if !pending {
                self.note(format!("left the cluster in term {}", self.term));
                self.role = Role::Follower;
                self.leader = None;
                self.progress.clear();
            }
        }
    }
}
