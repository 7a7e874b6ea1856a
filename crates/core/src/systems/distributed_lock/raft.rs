//! A consensus-backed lock service: 3 to 7 replicas run Raft (Ongaro & Ousterhout, "In
//! Search of an Understandable Consensus Algorithm", USENIX ATC 2014) — terms, randomized
//! election timeouts, the log-up-to-date vote rule, AppendEntries consistency check, and
//! the current-term commit rule — over a tiny state machine: who holds the lock and under
//! which token. As in etcd, the token is the log index (revision) of the entry that granted
//! the lock, so it increases with every grant and survives crashes because the log does.
//!
//! Leases: only the leader times them, on its own clock; when one runs out it proposes an
//! `Expire` entry, and a new leader restarts the timer from a full TTL (as etcd renews
//! leases on leader change). Clocks therefore decide only *when* a lock is freed, never
//! whether two holders can both write: the storage's token check settles that.
//!
//! Left out: snapshots and log compaction, membership changes, pre-vote.

use super::msg::{Cmd, Entry, Lease, Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

const HEARTBEAT_MS: u64 = 30;
const ELECTION_MIN_MS: u64 = 150;
const ELECTION_MAX_MS: u64 = 300;
/// Most entries sent in one AppendEntries.
const MAX_BATCH: usize = 64;

const TAG_ELECTION: u64 = 1;
const TAG_HEARTBEAT: u64 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

#[derive(Clone, Debug)]
pub struct Replica {
    pub peers: Vec<NodeId>,
    pub ttl_ms: u64,
    // Durable (survive a crash).
    pub term: u64,
    pub voted: Option<NodeId>,
    pub log: Vec<Entry>,
    // Volatile.
    pub role: Role,
    pub leader: Option<NodeId>,
    pub commit: u64,
    pub applied: u64,
    votes: Vec<NodeId>,
    next: Vec<u64>,
    matched: Vec<u64>,
    timer_seq: u64,
    /// The state machine: holder and its token.
    pub holder: Option<(Lease, u64)>,
    /// Leader only: when the holder's lease runs out on this replica's clock.
    deadline: Option<(Lease, SimTime)>,
    expire_sent: Option<Lease>,
    pub grants: u64,
}

impl Replica {
    pub fn new(peers: Vec<NodeId>, ttl_ms: u64) -> Replica {
        let n = peers.len();
        Replica {
            peers,
            ttl_ms,
            term: 0,
            voted: None,
            log: Vec::new(),
            role: Role::Follower,
            leader: None,
            commit: 0,
            applied: 0,
            votes: Vec::new(),
            next: vec![1; n],
            matched: vec![0; n],
            timer_seq: 0,
            holder: None,
            deadline: None,
            expire_sent: None,
            grants: 0,
        }
    }

    fn majority(&self) -> usize {
        self.peers.len() / 2 + 1
    }

    fn last_index(&self) -> u64 {
        self.log.len() as u64
    }

    fn term_at(&self, index: u64) -> u64 {
        if index == 0 {
            0
        } else {
            self.log.get(index as usize - 1).map_or(0, |e| e.term)
        }
    }

    fn slot(&self, node: NodeId) -> Option<usize> {
        self.peers.iter().position(|&p| p == node)
    }

    fn reset_election(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.timer_seq += 1;
        let after = ctx.rng.between(ELECTION_MIN_MS, ELECTION_MAX_MS);
        ctx.set_timer(SimDuration::from_ms(after), (self.timer_seq << 4) | TAG_ELECTION);
    }

    fn step_down(&mut self, term: u64) {
        if term > self.term {
            self.term = term;
            self.voted = None;
        }
        self.role = Role::Follower;
        self.deadline = None;
        self.expire_sent = None;
    }

    fn start_election(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.term += 1;
        self.role = Role::Candidate;
        self.leader = None;
        self.voted = Some(ctx.me());
        self.votes = vec![ctx.me()];
        let (last_index, last_term) = (self.last_index(), self.term_at(self.last_index()));
        for &p in &self.peers {
            if p != ctx.me() {
                ctx.send(p, Msg::Vote { term: self.term, last_index, last_term });
            }
        }
        self.reset_election(ctx);
        if self.votes.len() >= self.majority() {
            self.become_leader(ctx);
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.role = Role::Leader;
        self.leader = Some(ctx.me());
        self.timer_seq += 1;
        let last = self.last_index();
        self.next = vec![last + 1; self.peers.len()];
        self.matched = vec![0; self.peers.len()];
        self.log.push(Entry { term: self.term, cmd: Cmd::Noop });
        if let Some(i) = self.slot(ctx.me()) {
            self.matched[i] = self.last_index();
        }
        self.deadline = None;
        self.expire_sent = None;
        ctx.note(format!("lock replica elected leader for term {}", self.term));
        self.broadcast(ctx);
        self.advance_commit(ctx);
        ctx.set_timer(SimDuration::from_ms(HEARTBEAT_MS), (self.timer_seq << 4) | TAG_HEARTBEAT);
    }

    fn broadcast(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        for i in 0..self.peers.len() {
            if self.peers[i] != ctx.me() {
                self.send_append(i, ctx);
            }
        }
    }

    fn send_append(&mut self, i: usize, ctx: &mut Ctx<'_, Msg, Obs>) {
        let next = self.next[i].clamp(1, self.last_index() + 1);
        let prev_index = next - 1;
        let from = prev_index as usize;
        let to = (from + MAX_BATCH).min(self.log.len());
        let entries = self.log[from..to].to_vec();
        let msg = Msg::Append {
            term: self.term,
            prev_index,
            prev_term: self.term_at(prev_index),
            entries,
            commit: self.commit,
        };
        ctx.send(self.peers[i], msg);
    }

    fn propose(&mut self, from: NodeId, cmd: Cmd, lease: Lease, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.role != Role::Leader {
            if matches!(cmd, Cmd::Acquire(_)) {
                let hint = self.leader.filter(|&l| l != ctx.me());
                ctx.send(from, Msg::NotLeader { lease, hint });
            }
            return;
        }
        self.log.push(Entry { term: self.term, cmd });
        if let Some(i) = self.slot(ctx.me()) {
            self.matched[i] = self.last_index();
        }
        self.broadcast(ctx);
        self.advance_commit(ctx);
    }

    fn on_vote(&mut self, from: NodeId, term: u64, last_index: u64, last_term: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if term > self.term {
            self.step_down(term);
            self.leader = None;
            self.reset_election(ctx);
        }
        let my_last_term = self.term_at(self.last_index());
        let up_to_date = last_term > my_last_term || (last_term == my_last_term && last_index >= self.last_index());
        let granted = term == self.term && up_to_date && self.voted.is_none_or(|v| v == from);
        if granted {
            self.voted = Some(from);
            self.reset_election(ctx);
        }
        ctx.send(from, Msg::VoteReply { term: self.term, granted });
    }

    #[allow(clippy::too_many_arguments)]
    fn on_append(
        &mut self,
        from: NodeId,
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: &[Entry],
        commit: u64,
        ctx: &mut Ctx<'_, Msg, Obs>,
    ) {
        if term < self.term {
            ctx.send(from, Msg::AppendReply { term: self.term, ok: false, match_index: 0 });
            return;
        }
        if term > self.term || self.role != Role::Follower {
            self.step_down(term);
        }
        self.leader = Some(from);
        self.reset_election(ctx);
        if prev_index > self.last_index() || self.term_at(prev_index) != prev_term {
            let hint = self.last_index().min(prev_index.saturating_sub(1));
            ctx.send(from, Msg::AppendReply { term: self.term, ok: false, match_index: hint });
            return;
        }
        for (k, e) in entries.iter().enumerate() {
            let index = prev_index + 1 + k as u64;
            if index <= self.last_index() {
                if self.term_at(index) == e.term {
                    continue;
                }
                // A conflicting suffix can never have been committed: drop it.
                self.log.truncate(index as usize - 1);
            }
            self.log.push(*e);
        }
        let last_new = prev_index + entries.len() as u64;
        if commit > self.commit {
            self.commit = commit.min(last_new);
            self.apply(ctx);
        }
        ctx.send(from, Msg::AppendReply { term: self.term, ok: true, match_index: last_new });
    }

    fn on_append_reply(&mut self, from: NodeId, term: u64, ok: bool, match_index: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if term > self.term {
            self.step_down(term);
            self.leader = None;
            self.reset_election(ctx);
            return;
        }
        if self.role != Role::Leader || term != self.term {
            return;
        }
        let Some(i) = self.slot(from) else { return };
        if ok {
            self.matched[i] = self.matched[i].max(match_index);
            self.next[i] = self.matched[i] + 1;
            self.advance_commit(ctx);
            if self.next[i] <= self.last_index() {
                self.send_append(i, ctx);
            }
        } else {
            self.next[i] = (match_index + 1).min(self.next[i].saturating_sub(1)).max(1);
            self.send_append(i, ctx);
        }
    }

    /// Raft's commit rule: an index is committed once a majority store it *and* it is from
    /// the leader's own term (older entries commit indirectly, §5.4.2).
    fn advance_commit(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let mut n = self.last_index();
        while n > self.commit {
            if self.term_at(n) == self.term && self.matched.iter().filter(|&&m| m >= n).count() >= self.majority() {
                self.commit = n;
                self.apply(ctx);
                return;
            }
            n -= 1;
        }
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        while self.applied < self.commit {
            self.applied += 1;
            let index = self.applied;
            let cmd = self.log[index as usize - 1].cmd;
            let leader = self.role == Role::Leader;
            match cmd {
                Cmd::Noop => {}
                Cmd::Acquire(lease) => match self.holder {
                    Some((h, token)) if h == lease => {
                        if leader {
                            ctx.send(lease.worker, Msg::Granted { lease, token });
                        }
                    }
                    Some(_) => {
                        if leader {
                            ctx.send(lease.worker, Msg::Busy { lease });
                        }
                    }
                    None => {
                        // The revision of the granting entry is the fencing token.
                        self.holder = Some((lease, index));
                        self.grants += 1;
                        if leader {
                            self.deadline = Some((lease, ctx.local_time() + SimDuration::from_ms(self.ttl_ms)));
                            // A leader replaying its log after an election reports old
                            // grants again; the checks know those leases already.
                            ctx.observe(Obs::Grant { lease, token: index });
                            ctx.send(lease.worker, Msg::Granted { lease, token: index });
                        }
                    }
                },
                Cmd::Release(lease) | Cmd::Expire(lease) => {
                    if self.holder.is_some_and(|(h, _)| h == lease) {
                        self.holder = None;
                        self.deadline = None;
                    }
                }
            }
        }
    }

    /// Leader only: start timing a lease it inherited, and propose `Expire` when it ends.
    fn check_lease(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some((lease, _)) = self.holder else {
            return;
        };
        let now = ctx.local_time();
        match self.deadline {
            Some((l, until)) if l == lease => {
                if now >= until && self.expire_sent != Some(lease) {
                    self.expire_sent = Some(lease);
                    self.propose(ctx.me(), Cmd::Expire(lease), lease, ctx);
                }
            }
            _ => self.deadline = Some((lease, now + SimDuration::from_ms(self.ttl_ms))),
        }
    }
}

impl Actor for Replica {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.reset_election(ctx);
    }

    /// Forgets everything not on disk.
    fn on_crash(&mut self) {
        self.role = Role::Follower;
        self.leader = None;
        self.commit = 0;
        self.applied = 0;
        self.votes.clear();
        self.holder = None;
        self.deadline = None;
        self.expire_sent = None;
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag >> 4 != self.timer_seq {
            return;
        }
        match tag & 0xf {
            TAG_ELECTION if self.role != Role::Leader => self.start_election(ctx),
            TAG_HEARTBEAT if self.role == Role::Leader => {
                self.check_lease(ctx);
                self.broadcast(ctx);
                ctx.set_timer(SimDuration::from_ms(HEARTBEAT_MS), (self.timer_seq << 4) | TAG_HEARTBEAT);
            }
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Acquire { lease, .. } => self.propose(from, Cmd::Acquire(lease), lease, ctx),
            Msg::Release { lease } => self.propose(from, Cmd::Release(lease), lease, ctx),
            Msg::Vote { term, last_index, last_term } => self.on_vote(from, term, last_index, last_term, ctx),
            Msg::VoteReply { term, granted } => {
                if term > self.term {
                    self.step_down(term);
                    self.reset_election(ctx);
                } else if self.role == Role::Candidate && term == self.term && granted && !self.votes.contains(&from) {
                    self.votes.push(from);
                    if self.votes.len() >= self.majority() {
                        self.become_leader(ctx);
                    }
                }
            }
            Msg::Append { term, prev_index, prev_term, entries, commit } => {
                self.on_append(from, term, prev_index, prev_term, &entries, commit, ctx)
            }
            Msg::AppendReply { term, ok, match_index } => self.on_append_reply(from, term, ok, match_index, ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let role = match self.role {
            Role::Leader => "leader",
            Role::Candidate => "candidate",
            Role::Follower => "follower",
        };
        let held = match self.holder {
            Some((l, t)) => format!("#{} token {t}", l.worker),
            None => "free".into(),
        };
        format!("{role} t{} · commit {} · {held}", self.term, self.commit)
    }
}
