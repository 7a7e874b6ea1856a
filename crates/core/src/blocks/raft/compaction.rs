//! Log compaction by snapshots (§7). The state machine decides when: it hands the block
//! its state as of an applied index, and the block keeps that as the durable snapshot and
//! forgets the log up to there. Followers that need entries the leader no longer has get
//! the snapshot itself (`replication`).

use super::log::Snapshot;
use super::node::{Data, Raft};

impl<C: Data, S: Data> Raft<C, S> {
    /// Takes `state` (the state machine after applying everything up to `index`) as the
    /// snapshot and drops the log through `index`. Refused (false) for an index not yet
    /// applied or already compacted.
    pub fn compact(&mut self, index: u64, state: S) -> bool {
        if index > self.applied || index <= self.log.start() {
            return false;
        }
        let Some(term) = self.log.term_at(index) else { return false };
        let members = self.members_at(index);
        self.snapshot = Some(Snapshot { index, term, members, state });
        self.log.compact_to(index);
        true
    }
}
