//! Leader election (§5.2, §5.4.1) with a pre-vote round (Ongaro's thesis, "Consensus:
//! Bridging Theory and Practice", 2014, §9.6). A node whose election timer fires first
//! asks the others whether they *would* vote for it in the next term, without bumping
//! its own term. A peer says yes only if the asker's log is at least as up to date as its
//! own and it has not heard from a leader within the minimum election timeout. Only with
//! a majority of yeses does the node start a real election. So a node cut off by a
//! partition, or one removed from the cluster, can time out again and again without ever
//! raising the term and deposing a healthy leader when it comes back.

use super::log::Payload;
use super::msg::RaftMsg;
#[cfg(test)]
use super::node::Bug;
use super::node::{Data, Io, Progress, Raft, Role, TAG_HEARTBEAT};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;

impl<C: Data, S: Data> Raft<C, S> {
    /// §5.4.1: a voter refuses a candidate whose log is less up to date than its own.
    fn log_ok(&self, last_index: u64, last_term: u64) -> bool {
        let my_term = self.log.last_term();
        last_term > my_term || (last_term == my_term && last_index >= self.log.last_index())
    }

    /// Whether a leader of this node's term was heard from recently (or it is the leader).
    fn leader_is_alive(&self, io: &Io<'_>) -> bool {
        self.role == Role::Leader
            || self.leader.is_some()
                // A clock stepped back makes the last contact look recent forever; count
                // only contacts that are not in the clock's future.
                && self
                    .leader_contact
                    .is_some_and(|t| t <= io.now && io.now < t + SimDuration::from_ms(self.cfg.election_min_ms))
    }

    fn ask_votes(&mut self, pre: bool, term: u64) {
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        for p in self.members() {
            if p != self.id {
                self.send(p, RaftMsg::Vote { pre, term, last_index, last_term });
            }
        }
    }

    /// Votes (or pre-votes) received from current members, this node's own included.
    fn enough_votes(&self) -> bool {
        let members = self.members();
        let have = self.votes.iter().filter(|v| members.contains(v)).count();
        have > members.len() / 2
    }

    pub(super) fn start_pre_vote(&mut self, io: &mut Io<'_>) {
        self.role = Role::PreCandidate;
        self.leader = None;
        self.votes = vec![self.id];
        self.ask_votes(true, self.term + 1);
        self.reset_election(io);
        if self.enough_votes() {
            self.start_election(io);
        }
    }

    pub(super) fn start_election(&mut self, io: &mut Io<'_>) {
        self.term += 1;
        self.role = Role::Candidate;
        self.leader = None;
        self.voted = Some(self.id);
        self.votes = vec![self.id];
        self.ask_votes(false, self.term);
        self.reset_election(io);
        if self.enough_votes() {
            self.become_leader();
        }
    }

    pub(super) fn on_vote(
        &mut self,
        from: NodeId,
        pre: bool,
        term: u64,
        last_index: u64,
        last_term: u64,
        io: &mut Io<'_>,
    ) {
        if pre {
            // Nothing changes here: no term, no vote, no timer.
            let granted = term > self.term && self.log_ok(last_index, last_term) && !self.leader_is_alive(io);
            let term = if granted { term } else { self.term };
            self.send(from, RaftMsg::VoteReply { pre, term, granted });
            return;
        }
        if term > self.term {
            // A leader deposed this way needs an election timer again.
            self.step_down(term);
            self.leader = None;
            self.reset_election(io);
        }
        #[cfg(test)]
        let free = self.voted.is_none_or(|v| v == from) || self.bug == Bug::DoubleVote;
        #[cfg(not(test))]
        let free = self.voted.is_none_or(|v| v == from);
        let granted = term == self.term && free && self.log_ok(last_index, last_term);
        if granted {
            self.voted = Some(from);
            self.reset_election(io);
        }
        self.send(from, RaftMsg::VoteReply { pre, term: self.term, granted });
    }

    pub(super) fn on_vote_reply(&mut self, from: NodeId, pre: bool, term: u64, granted: bool, io: &mut Io<'_>) {
        if term > self.term && !(pre && granted) {
            self.step_down(term);
            self.leader = None;
            self.reset_election(io);
            return;
        }
        let (want_role, want_term) =
            if pre { (Role::PreCandidate, self.term + 1) } else { (Role::Candidate, self.term) };
        if !granted || self.role != want_role || term != want_term || self.votes.contains(&from) {
            return;
        }
        self.votes.push(from);
        if self.enough_votes() {
            if pre {
                self.start_election(io);
            } else {
                self.become_leader();
            }
        }
    }

    pub(super) fn become_leader(&mut self) {
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.timer_seq += 1;
        self.progress.clear();
        self.sync_progress();
        self.note(format!("elected leader for term {}", self.term));
        // §5.4.2 / §8: a no-op of the new term lets earlier entries commit.
        self.append_own(Payload::Noop);
        self.out.push(super::msg::Effect::Timer {
            after: SimDuration::from_ms(self.cfg.heartbeat_ms),
            tag: (self.timer_seq << 4) | TAG_HEARTBEAT,
        });
    }

    /// Keeps one `Progress` per current member other than this node (members come and
    /// go with configuration entries).
    pub(super) fn sync_progress(&mut self) {
        let members = self.members();
        let next = self.log.last_index() + 1;
        self.progress.retain(|p, _| members.contains(p));
        for m in members {
            if m != self.id {
                self.progress.entry(m).or_insert(Progress { next, matched: 0 });
            }
        }
    }
}
