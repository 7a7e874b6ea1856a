//! One Raft replica as a pure state machine: its durable and volatile state, and the
//! inputs a host actor feeds it (start, crash, timer, message, proposal). The protocol
//! itself lives in `election`, `replication`, `membership` and `compaction`; this file
//! holds the state and the dispatch.

use super::log::{Entry, Log, Payload, Snapshot};
use super::msg::{Effect, RaftMsg};
use crate::sim::rng::Prng;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

/// What a command or a snapshot state must be to travel in messages and hash into traces.
pub trait Data: Clone + Debug + Hash + 'static {}
impl<T: Clone + Debug + Hash + 'static> Data for T {}

/// Timing and batching. Timeouts are read on the node's own clock.
#[derive(Clone, Copy, Debug)]
pub struct RaftConfig {
    pub election_min_ms: u64,
    pub election_max_ms: u64,
    pub heartbeat_ms: u64,
    /// Most entries in one AppendEntries.
    pub max_batch: usize,
    /// Run a pre-vote round before bumping the term (thesis §9.6).
    pub pre_vote: bool,
}

impl Default for RaftConfig {
    /// The paper's example timings (§9.3): heartbeats well under 150–300 ms timeouts.
    fn default() -> Self {
        RaftConfig { election_min_ms: 150, election_max_ms: 300, heartbeat_ms: 30, max_batch: 64, pre_vote: true }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Follower,
    /// Asking for pre-votes; its term is unchanged.
    PreCandidate,
    Candidate,
    Leader,
}

/// Bugs planted on purpose, so tests can show the invariant checks catch them.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Bug {
    #[default]
    None,
    /// Commit any entry a majority stores, whatever its term (what §5.4.2 forbids).
    CommitOldTerm,
    /// Grant every vote asked in the current term, not only the first.
    DoubleVote,
}

/// What an input needs from the host: its clock reading and its random stream.
pub struct Io<'a> {
    pub now: SimTime,
    pub rng: &'a mut Prng,
}

/// The leader's view of one follower (Figure 2's nextIndex and matchIndex).
#[derive(Clone, Copy, Debug)]
pub(super) struct Progress {
    pub next: u64,
    pub matched: u64,
}

pub(super) const TAG_ELECTION: u64 = 1;
pub(super) const TAG_HEARTBEAT: u64 = 2;

/// One replica. `C` is the command type, `S` the state machine's snapshot.
#[derive(Clone, Debug)]
pub struct Raft<C, S> {
    pub id: NodeId,
    pub cfg: RaftConfig,
    /// The configuration the cluster started with; empty for a server added later, which
    /// learns the configuration from the leader's log or snapshot.
    pub(super) bootstrap: Vec<NodeId>,
    // Durable: survives a crash.
    pub term: u64,
    pub voted: Option<NodeId>,
    pub log: Log<C>,
    pub snapshot: Option<Snapshot<S>>,
    // Volatile.
    pub role: Role,
    pub leader: Option<NodeId>,
    pub commit: u64,
    pub applied: u64,
    pub(super) votes: Vec<NodeId>,
    pub(super) progress: BTreeMap<NodeId, Progress>,
    /// When this node last heard from a leader of its term (its own clock).
    pub(super) leader_contact: Option<SimTime>,
    pub(super) timer_seq: u64,
    /// Effects waiting for the host (`take_effects`).
    pub(super) out: Vec<Effect<C, S>>,
    #[cfg(test)]
    pub bug: Bug,
}

impl<C: Data, S: Data> Raft<C, S> {
    pub fn new(id: NodeId, bootstrap: Vec<NodeId>, cfg: RaftConfig) -> Raft<C, S> {
        Raft {
            id,
            cfg,
            bootstrap,
            term: 0,
            voted: None,
            log: Log::default(),
            snapshot: None,
            role: Role::Follower,
            leader: None,
            commit: 0,
            applied: 0,
            votes: Vec::new(),
            progress: BTreeMap::new(),
            leader_contact: None,
            timer_seq: 0,
            out: Vec::new(),
            #[cfg(test)]
            bug: Bug::None,
        }
    }

    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    /// What the host must do now; call after every input.
    pub fn take_effects(&mut self) -> Vec<Effect<C, S>> {
        std::mem::take(&mut self.out)
    }

    /// The run starts, or the process comes back: reload the snapshot into the state
    /// machine and wait for a leader.
    pub fn start(&mut self, io: &mut Io<'_>) {
        self.restore_snapshot();
        self.reset_election(io);
    }

    /// The process died: everything not on disk is gone (term, vote, log and snapshot are).
    pub fn crash(&mut self) {
        self.role = Role::Follower;
        self.leader = None;
        self.commit = 0;
        self.applied = 0;
        self.votes.clear();
        self.progress.clear();
        self.leader_contact = None;
        self.timer_seq += 1;
        self.out.clear();
    }

    pub fn on_timer(&mut self, tag: u64, io: &mut Io<'_>) {
        if tag >> 4 != self.timer_seq {
            return;
        }
        match tag & 0xf {
            TAG_ELECTION if self.role != Role::Leader => {
                if !self.is_member(self.id) {
                    // Not a voter (yet, or any more): never campaign.
                    self.reset_election(io);
                } else if self.cfg.pre_vote {
                    self.start_pre_vote(io);
                } else {
                    self.start_election(io);
                }
            }
            TAG_HEARTBEAT if self.role == Role::Leader => {
                self.broadcast();
                self.out.push(Effect::Timer {
                    after: SimDuration::from_ms(self.cfg.heartbeat_ms),
                    tag: (self.timer_seq << 4) | TAG_HEARTBEAT,
                });
            }
            _ => {}
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: RaftMsg<C, S>, io: &mut Io<'_>) {
        match msg {
            RaftMsg::Vote { pre, term, last_index, last_term } => {
                self.on_vote(from, pre, term, last_index, last_term, io)
            }
            RaftMsg::VoteReply { pre, term, granted } => self.on_vote_reply(from, pre, term, granted, io),
            RaftMsg::Append { term, prev_index, prev_term, entries, commit } => {
                self.on_append(from, term, prev_index, prev_term, entries, commit, io)
            }
            RaftMsg::AppendReply { term, ok, index } => self.on_append_reply(from, term, ok, index, io),
            RaftMsg::Install { term, snapshot } => self.on_install(from, term, snapshot, io),
            RaftMsg::InstallReply { term, index } => self.on_install_reply(from, term, index, io),
        }
    }

    /// Leader only: append `cmd` and start replicating it. Returns its index, or the
    /// leader this node knows of (if any) when it is not the leader.
    pub fn propose(&mut self, cmd: C) -> Result<u64, Option<NodeId>> {
        if self.role != Role::Leader {
            return Err(self.leader.filter(|&l| l != self.id));
        }
        Ok(self.append_own(Payload::Cmd(cmd)))
    }

    /// Appends an entry of the current term to the leader's own log and sends it.
    pub(super) fn append_own(&mut self, payload: Payload<C>) -> u64 {
        self.log.push(Entry { term: self.term, payload });
        let index = self.log.last_index();
        self.broadcast();
        self.advance_commit();
        index
    }

    pub(super) fn send(&mut self, to: NodeId, msg: RaftMsg<C, S>) {
        self.out.push(Effect::Send { to, msg });
    }

    pub(super) fn note(&mut self, text: String) {
        self.out.push(Effect::Note(text));
    }

    /// Adopts a newer term (forgetting the vote) and becomes a follower.
    pub(super) fn step_down(&mut self, term: u64) {
        if term > self.term {
            self.term = term;
            self.voted = None;
        }
        self.role = Role::Follower;
        self.votes.clear();
    }

    pub(super) fn reset_election(&mut self, io: &mut Io<'_>) {
        self.timer_seq += 1;
        let after = io.rng.between(self.cfg.election_min_ms, self.cfg.election_max_ms);
        self.out.push(Effect::Timer { after: SimDuration::from_ms(after), tag: (self.timer_seq << 4) | TAG_ELECTION });
    }

    /// "leader t3 · commit 12" for a topology view.
    pub fn describe(&self) -> String {
        let role = match self.role {
            Role::Leader => "leader",
            Role::Candidate => "candidate",
            Role::PreCandidate => "pre-candidate",
            Role::Follower => "follower",
        };
        format!("{role} t{} · commit {}", self.term, self.commit)
    }
}
