//! A consensus-backed lock service: 3 to 7 replicas, each embedding the `blocks::raft`
//! block (Raft with pre-vote, snapshots and the current-term commit rule, Ongaro &
//! Ousterhout, USENIX ATC 2014), over a tiny state machine: who holds the lock and under
//! which token. As in etcd, the token is the log index (revision) of the entry that granted
//! the lock, so it increases with every grant and survives crashes because the log and
//! the snapshots do. Every 64 applied entries a replica snapshots the lock state and drops
//! its log up to there; a replica that comes back behind the compacted prefix receives
//! the leader's snapshot.
//!
//! Leases: only the leader times them, on its own clock; when one runs out it proposes an
//! `Expire` entry, and a new leader restarts the timer from a full TTL (as etcd renews
//! leases on leader change). Clocks therefore decide only *when* a lock is freed, never
//! whether two holders can both write: the storage's token check settles that.
//!
//! The cluster's membership is fixed here (the block supports single-server changes).

use super::msg::{Cmd, Lease, LockState, Msg, Obs};
use crate::blocks::raft::{Effect, Io, Payload, Raft, RaftConfig};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

/// Applied entries between snapshots.
const SNAPSHOT_EVERY: u64 = 64;

#[derive(Clone, Debug)]
pub struct Replica {
    pub raft: Raft<Cmd, LockState>,
    pub ttl_ms: u64,
    /// The state machine (volatile: rebuilt from the snapshot and the log after a crash).
    pub state: LockState,
    /// Leader only: when the holder's lease runs out on this replica's clock.
    deadline: Option<(Lease, SimTime)>,
    expire_sent: Option<Lease>,
    /// Every entry this replica applied, for the tests' Raft invariant checks.
    #[cfg(test)]
    pub applied_trail: Vec<(u64, crate::blocks::raft::Entry<Cmd>)>,
}

impl Replica {
    pub fn new(id: NodeId, peers: Vec<NodeId>, ttl_ms: u64) -> Replica {
        Replica {
            raft: Raft::new(id, peers, RaftConfig::default()),
            ttl_ms,
            state: LockState::default(),
            deadline: None,
            expire_sent: None,
            #[cfg(test)]
            applied_trail: Vec::new(),
        }
    }

    /// Feeds one input to the Raft block, then carries out what it asks.
    fn drive(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, input: impl FnOnce(&mut Raft<Cmd, LockState>, &mut Io<'_>)) {
        let mut io = Io { now: ctx.local_time(), rng: &mut *ctx.rng };
        input(&mut self.raft, &mut io);
        self.carry_out(ctx);
    }

    fn carry_out(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        for effect in self.raft.take_effects() {
            match effect {
                Effect::Send { to, msg } => ctx.send(to, Msg::Raft(msg)),
                Effect::Timer { after, tag } => ctx.set_timer(after, tag),
                Effect::Apply { index, entry } => {
                    #[cfg(test)]
                    self.applied_trail.push((index, entry.clone()));
                    if let Payload::Cmd(cmd) = entry.payload {
                        self.apply(index, cmd, ctx);
                    }
                }
                Effect::Restore { snapshot } => {
                    self.state = snapshot.state;
                    self.deadline = None;
                    self.expire_sent = None;
                }
                Effect::Note(text) => ctx.note(format!("lock replica {text}")),
            }
        }
        let applied = self.raft.applied;
        if applied >= self.raft.log.start() + SNAPSHOT_EVERY {
            self.raft.compact(applied, self.state);
        }
    }

    fn propose(&mut self, from: NodeId, cmd: Cmd, lease: Lease, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self.raft.propose(cmd) {
            Ok(_) => self.carry_out(ctx),
            Err(hint) => {
                if matches!(cmd, Cmd::Acquire(_)) {
                    ctx.send(from, Msg::NotLeader { lease, hint });
                }
            }
        }
    }

    fn apply(&mut self, index: u64, cmd: Cmd, ctx: &mut Ctx<'_, Msg, Obs>) {
        let leader = self.raft.is_leader();
        match cmd {
            Cmd::Acquire(lease) => match self.state.holder {
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
                    self.state.holder = Some((lease, index));
                    self.state.grants += 1;
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
                if self.state.holder.is_some_and(|(h, _)| h == lease) {
                    self.state.holder = None;
                    self.deadline = None;
                }
            }
        }
    }

    /// Leader only: start timing a lease it inherited, and propose `Expire` when it ends.
    fn check_lease(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some((lease, _)) = self.state.holder else {
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
        self.drive(ctx, |r, io| r.start(io));
    }

    /// Forgets everything not on disk (the block keeps term, vote, log and snapshot).
    fn on_crash(&mut self) {
        self.raft.crash();
        self.state = LockState::default();
        self.deadline = None;
        self.expire_sent = None;
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let was_leader = self.raft.is_leader();
        self.drive(ctx, |r, io| r.on_timer(tag, io));
        if !was_leader || !self.raft.is_leader() {
            self.deadline = None;
            self.expire_sent = None;
        }
        if self.raft.is_leader() {
            self.check_lease(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let was_leader = self.raft.is_leader();
        match msg {
            Msg::Acquire { lease, .. } => self.propose(from, Cmd::Acquire(lease), lease, ctx),
            Msg::Release { lease } => self.propose(from, Cmd::Release(lease), lease, ctx),
            Msg::Raft(m) => self.drive(ctx, |r, io| r.on_message(from, m, io)),
            _ => {}
        }
        if was_leader && !self.raft.is_leader() {
            self.deadline = None;
            self.expire_sent = None;
        }
    }

    fn describe(&self) -> String {
        let held = match self.state.holder {
            Some((l, t)) => format!("#{} token {t}", l.worker),
            None => "free".into(),
        };
        format!("{} · {held}", self.raft.describe())
    }
}
