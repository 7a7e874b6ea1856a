//! Log replication (§5.3) and commitment (§5.4.2). The leader sends each follower the
//! entries after what it believes they share, with the index and term just before them;
//! a follower accepts only if its own log has that entry (the consistency check), and on a
//! conflict drops its own suffix. On refusal the follower hints how far back the leader
//! must go: its last index if it is short, or the index before the first entry of the
//! conflicting term (the "fast back-off" sketched at the end of §5.3), so a follower far
//! behind costs one round trip per term, not per entry. A follower behind the leader's
//! compacted prefix gets the snapshot instead (§7, InstallSnapshot).
//!
//! Commit rule: the leader commits index N once a majority of the *current*
//! configuration stores it **and** entry N is from the leader's own term. An older-term
//! entry is never committed by counting its replicas (Figure 8 shows how such an entry can
//! still be overwritten); it commits indirectly with the first own-term entry after it.

use super::log::{Entry, Snapshot};
use super::msg::{Effect, RaftMsg};
#[cfg(test)]
use super::node::Bug;
use super::node::{Data, Io, Raft, Role};
use crate::sim::NodeId;

impl<C: Data, S: Data> Raft<C, S> {
    pub(super) fn broadcast(&mut self) {
        self.sync_progress();
        let peers: Vec<NodeId> = self.progress.keys().copied().collect();
        for p in peers {
            self.send_append(p);
        }
    }

    fn send_append(&mut self, to: NodeId) {
        let Some(p) = self.progress.get(&to).copied() else { return };
        let next = p.next.clamp(1, self.log.last_index() + 1);
        if next <= self.log.start() {
            if let Some(snapshot) = self.snapshot.clone() {
                self.send(to, RaftMsg::Install { term: self.term, snapshot });
                return;
            }
        }
        let prev_index = next - 1;
        let prev_term = self.log.term_at(prev_index).unwrap_or(0);
        let entries = self.log.slice(next, self.cfg.max_batch);
        self.send(to, RaftMsg::Append { term: self.term, prev_index, prev_term, entries, commit: self.commit });
    }

    /// A message from a leader of a term at least ours: follow it.
    fn follow(&mut self, from: NodeId, term: u64, io: &mut Io<'_>) {
        if term > self.term || self.role != Role::Follower {
            self.step_down(term);
        }
        self.leader = Some(from);
        self.leader_contact = Some(io.now);
        self.reset_election(io);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_append(
        &mut self,
        from: NodeId,
        term: u64,
        mut prev_index: u64,
        mut prev_term: u64,
        mut entries: Vec<Entry<C>>,
        commit: u64,
        io: &mut Io<'_>,
    ) {
        if term < self.term {
            self.send(from, RaftMsg::AppendReply { term: self.term, ok: false, index: 0 });
            return;
        }
        self.follow(from, term, io);
        let start = self.log.start();
        if prev_index < start {
            // Entries up to our snapshot are committed, so they match the leader's.
            let skip = ((start - prev_index) as usize).min(entries.len());
            entries.drain(..skip);
            prev_index = start;
            prev_term = self.log.term_at(start).unwrap_or(0);
        }
        if prev_index > self.log.last_index() {
            let hint = self.log.last_index();
            self.send(from, RaftMsg::AppendReply { term: self.term, ok: false, index: hint });
            return;
        }
        if let Some(mine) = self.log.term_at(prev_index).filter(|&t| t != prev_term) {
            // Skip back over every entry of the conflicting term at once.
            let mut first = prev_index;
            while first > start + 1 && self.log.term_at(first - 1) == Some(mine) {
                first -= 1;
            }
            let hint = first.saturating_sub(1).max(start);
            self.send(from, RaftMsg::AppendReply { term: self.term, ok: false, index: hint });
            return;
        }
        let last_new = prev_index + entries.len() as u64;
        for (k, e) in entries.into_iter().enumerate() {
            let index = prev_index + 1 + k as u64;
            if index <= self.log.last_index() {
                if self.log.term_at(index) == Some(e.term) {
                    continue;
                }
                // A conflicting suffix was never committed (Leader Completeness): drop it.
                self.log.truncate_from(index);
            }
            self.log.push(e);
        }
        if commit > self.commit {
            self.commit = commit.min(last_new).max(self.commit);
            self.apply();
        }
        self.send(from, RaftMsg::AppendReply { term: self.term, ok: true, index: last_new });
    }

    pub(super) fn on_append_reply(&mut self, from: NodeId, term: u64, ok: bool, index: u64, io: &mut Io<'_>) {
        if term > self.term {
            self.step_down(term);
            self.leader = None;
            self.reset_election(io);
            return;
        }
        if self.role != Role::Leader || term != self.term {
            return;
        }
        let last = self.log.last_index();
        let Some(p) = self.progress.get_mut(&from) else { return };
        if ok {
            p.matched = p.matched.max(index);
            p.next = p.matched + 1;
            let more = p.next <= last;
            self.advance_commit();
            if more {
                self.send_append(from);
            }
        } else {
            p.next = (index + 1).min(p.next.saturating_sub(1)).max(p.matched + 1).max(1);
            self.send_append(from);
        }
    }

    pub(super) fn on_install(&mut self, from: NodeId, term: u64, snapshot: Snapshot<S>, io: &mut Io<'_>) {
        if term < self.term {
            self.send(from, RaftMsg::InstallReply { term: self.term, index: 0 });
            return;
        }
        self.follow(from, term, io);
        let index = snapshot.index;
        if index > self.commit {
            self.log.reset_to(index, snapshot.term);
            self.snapshot = Some(snapshot);
            self.commit = index;
            self.applied = 0;
            self.restore_snapshot();
        }
        self.send(from, RaftMsg::InstallReply { term: self.term, index });
    }

    pub(super) fn on_install_reply(&mut self, from: NodeId, term: u64, index: u64, io: &mut Io<'_>) {
        self.on_append_reply(from, term, true, index, io);
    }

    /// Moves the commit index to the newest own-term entry a majority of the current
    /// configuration stores (a leader outside that configuration does not count itself).
    pub(super) fn advance_commit(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let members = self.members();
        let majority = members.len() / 2 + 1;
        let mut n = self.log.last_index();
        while n > self.commit {
            let term = self.log.term_at(n).unwrap_or(0);
            #[cfg(test)]
            let own_term_only = self.bug != Bug::CommitOldTerm;
            #[cfg(not(test))]
            let own_term_only = true;
            if own_term_only && term < self.term {
                break;
            }
            let stored = members
                .iter()
                .filter(|&&m| m == self.id || self.progress.get(&m).is_some_and(|p| p.matched >= n))
                .count();
            if stored >= majority {
                self.commit = n;
                self.apply();
                self.leave_if_removed();
                return;
            }
            n -= 1;
        }
    }

    /// Hands committed entries to the state machine, in order.
    pub(super) fn apply(&mut self) {
        self.restore_snapshot();
        while self.applied < self.commit {
            let index = self.applied + 1;
            let Some(entry) = self.log.get(index).cloned() else { break };
            self.applied = index;
            self.out.push(Effect::Apply { index, entry });
        }
    }

    /// If the state machine is behind the snapshot (after a crash or an InstallSnapshot),
    /// reload it.
    pub(super) fn restore_snapshot(&mut self) {
        if let Some(s) = &self.snapshot {
            if self.applied < s.index {
                self.applied = s.index;
                self.commit = self.commit.max(s.index);
                self.out.push(Effect::Restore { snapshot: s.clone() });
            }
        }
    }
}
