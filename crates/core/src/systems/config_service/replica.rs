//! A replica of the config service: the `blocks::raft` block (Ongaro & Ousterhout, USENIX
//! ATC 2014; pre-vote, snapshots, the current-term commit rule) under the revisioned store
//! of `store`, wired as the distributed lock's consensus replicas are (`drive` feeds the
//! block an input, `carry_out` performs its effects). Writes go through the log; the three
//! strategies differ only in how a replica answers a read:
//!
//! - **any-replica**: from its own applied state, whatever its role. A follower that has
//!   not heard of the latest commit yet, or one cut off from the leader, answers stale.
//! - **lease-read**: the leader answers at once while it holds a lease: a majority acked a
//!   probe it sent at local time `t`, so it holds until `t + lease_ms` on its clock. A
//!   replica that acked promises, on *its* clock, to ignore vote requests for `lease_ms`,
//!   so no new leader can be elected before the lease runs out — if the clocks agree. A
//!   leader whose clock is set back keeps answering from an old state while a new leader
//!   commits writes. (Reads that find no lease wait for the next probe round.)
//! - **read-index** (Raft thesis §6.4): the leader notes its commit index, confirms with a
//!   probe round that a majority still knows no newer term, waits until it has applied
//!   that index, then answers. No clock is involved. A new leader first commits an entry
//!   of its own term (the block's no-op), so its commit index covers every earlier write.
//!
//! A probe is acknowledged by a replica whose term is not newer than the probe's: a newer
//! leader's election raised a majority's terms, so it cannot hide from a majority.
//!
//! Sessions: the leader times each session's keepalives on its clock and proposes
//! `Expire` when one falls silent for the TTL; a new leader restarts every session's timer
//! from a full TTL (as etcd renews leases on leader change). Watches: a replica streams
//! each subscriber the changes of its prefix as it applies them, with the revision range
//! each batch covers, from its own state (a follower's stream is late, never wrong), and
//! answers a range read of a prefix from that state too, for an SDK rebuilding its cache.

use super::msg::{Cmd, KvState, Msg, Obs, Prefix, Reply, Request};
use super::store::Event;
use super::Strategy as ReadMode;
use crate::blocks::raft::{Effect, Io, Payload, Raft, RaftConfig, RaftMsg, Role};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Applied entries between snapshots.
const SNAPSHOT_EVERY: u64 = 64;
/// This replica's own timer (the block's tags never reach this bit).
const TAG_TICK: u64 = 1 << 62;
const TICK_MS: u64 = 30;
/// A probe round older than this is sent again (its messages may be lost).
const ROUND_RETRY_MS: u64 = 90;
/// Ticks between progress notices to watchers.
const PROGRESS_EVERY: u64 = 4;
/// Reads waiting at one replica (a client has one call open at a time; this only guards
/// against a flood of retries).
const MAX_WAITING: usize = 256;

#[derive(Clone, Copy, Debug)]
pub struct ReplicaCfg {
    pub read: ReadMode,
    /// Acknowledge a put once it is in the leader's log, before it commits (the naive knob).
    pub ack_on_append: bool,
    pub lease_ms: u64,
    pub session_ttl_ms: u64,
}

#[derive(Clone, Copy, Debug)]
struct Read {
    from: NodeId,
    req: u64,
    key: u32,
}

/// A leadership-confirming round in flight.
#[derive(Clone, Debug)]
struct Round {
    id: u64,
    sent_local: SimTime,
    /// The commit index when the round started: reads in it answer from at least here.
    read_index: u64,
    acks: Vec<NodeId>,
    reads: Vec<Read>,
}

#[derive(Clone, Copy, Debug)]
pub struct Sub {
    pub watcher: NodeId,
    pub prefix: Prefix,
    /// Revisions up to here have been sent.
    pub sent_upto: u64,
}

#[derive(Clone, Debug)]
pub struct Replica {
    pub raft: Raft<Cmd, KvState>,
    pub cfg: ReplicaCfg,
    /// The state machine (volatile: rebuilt from the snapshot and the log after a crash).
    pub state: KvState,
    peers: Vec<NodeId>,
    rounds: u64,
    round: Option<Round>,
    waiting: Vec<Read>,
    /// Confirmed reads waiting for the state machine to reach their index.
    ready: Vec<(u64, Read)>,
    /// Leader, lease-read: the lease holds until this local time.
    pub lease_until: Option<SimTime>,
    /// Lease-read: this replica promised to vote for nobody until this local time.
    promise_until: Option<SimTime>,
    /// Leader: when each session last sent a keepalive (local clock), and expiries asked.
    keepalive: BTreeMap<u64, SimTime>,
    expiring: Vec<u64>,
    pub subs: Vec<Sub>,
    ticks: u64,
    pub reads_served: u64,
    pub stale_risk_reads: u64,
    /// Every entry applied, for the tests' brute-force replay and Raft invariants.
    #[cfg(test)]
    pub applied_trail: Vec<(u64, crate::blocks::raft::Entry<Cmd>)>,
}

impl Replica {
    pub fn new(id: NodeId, peers: Vec<NodeId>, cfg: ReplicaCfg) -> Replica {
        Replica {
            raft: Raft::new(id, peers.clone(), RaftConfig::default()),
            cfg,
            state: KvState::default(),
            peers,
            rounds: 0,
            round: None,
            waiting: Vec::new(),
            ready: Vec::new(),
            lease_until: None,
            promise_until: None,
            keepalive: BTreeMap::new(),
            expiring: Vec::new(),
            subs: Vec::new(),
            ticks: 0,
            reads_served: 0,
            stale_risk_reads: 0,
            #[cfg(test)]
            applied_trail: Vec::new(),
        }
    }

    fn majority(&self) -> usize {
        self.peers.len() / 2 + 1
    }

    /// Feeds one input to the Raft block, then carries out what it asks.
    fn drive(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, input: impl FnOnce(&mut Raft<Cmd, KvState>, &mut Io<'_>)) {
        let was_leader = self.raft.is_leader();
        let mut io = Io { now: ctx.local_time(), rng: &mut *ctx.rng };
        input(&mut self.raft, &mut io);
        self.carry_out(ctx);
        if was_leader && !self.raft.is_leader() {
            self.lose_leadership(ctx);
        }
    }

    fn carry_out(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        for effect in self.raft.take_effects() {
            match effect {
                Effect::Send { to, msg } => ctx.send(to, Msg::Raft(msg)),
                Effect::Timer { after, tag } => ctx.set_timer(after, tag),
                Effect::Apply { index, entry } => {
                    #[cfg(test)]
                    self.applied_trail.push((index, entry.clone()));
                    let _ = index;
                    if let Payload::Cmd(cmd) = entry.payload {
                        self.apply(cmd, ctx);
                    }
                }
                Effect::Restore { snapshot } => {
                    self.state = snapshot.state;
                    self.resend_watches(ctx);
                }
                Effect::Note(text) => ctx.note(format!("config replica {text}")),
            }
        }
        let applied = self.raft.applied;
        if applied >= self.raft.log.start() + SNAPSHOT_EVERY {
            self.raft.compact(applied, self.state.clone());
        }
        self.serve_ready(ctx);
    }

    fn apply(&mut self, cmd: Cmd, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Cmd::Expire { session } = cmd {
            self.keepalive.remove(&session);
            self.expiring.retain(|&s| s != session);
        }
        let applied = self.state.apply(cmd);
        for e in &applied.changes {
            ctx.observe(Obs::Applied { replica: ctx.me(), rev: e.rev, key: e.key, value: e.value });
        }
        if let (Some((client, req, reply)), true) = (applied.reply, self.raft.is_leader()) {
            // Under ack-on-append the put was answered when it was appended.
            let acked = self.cfg.ack_on_append && matches!(cmd, Cmd::Put { .. });
            if !acked {
                ctx.send(client, Msg::Resp { req, reply });
            }
        }
        if !applied.changes.is_empty() {
            self.stream(&applied.changes, ctx);
        }
    }

    /// Sends every subscriber the new changes of its prefix.
    fn stream(&mut self, changes: &[Event], ctx: &mut Ctx<'_, Msg, Obs>) {
        let rev = self.state.rev;
        for sub in &mut self.subs {
            let events: Vec<Event> = changes.iter().filter(|e| sub.prefix.holds(e.key)).copied().collect();
            if !events.is_empty() {
                let upto = rev.max(sub.sent_upto);
                ctx.send(sub.watcher, Msg::Events { after: sub.sent_upto, upto, events });
                sub.sent_upto = upto;
            }
        }
    }

    /// After the state machine jumped (a snapshot came in): catch subscribers up from the
    /// ring, or tell them their revision is gone.
    fn resend_watches(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let subs = std::mem::take(&mut self.subs);
        for sub in subs {
            if let Some(sub) = self.open_watch(sub.watcher, sub.prefix, sub.sent_upto, ctx) {
                self.subs.push(sub);
            }
        }
    }

    fn open_watch(&self, watcher: NodeId, prefix: Prefix, after: u64, ctx: &mut Ctx<'_, Msg, Obs>) -> Option<Sub> {
        let rev = self.state.rev;
        if after > rev {
            // This replica is behind the watcher: nothing to send yet.
            return Some(Sub { watcher, prefix, sent_upto: after });
        }
        match self.state.events_after(after, |k| prefix.holds(k)) {
            Ok(events) => {
                ctx.send(watcher, Msg::Events { after, upto: rev, events });
                Some(Sub { watcher, prefix, sent_upto: rev })
            }
            Err(oldest) => {
                ctx.send(watcher, Msg::Compacted { oldest });
                None
            }
        }
    }

    fn lose_leadership(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let hint = self.raft.leader.filter(|&l| l != ctx.me());
        let mut reads: Vec<Read> = self.waiting.drain(..).collect();
        reads.extend(self.round.take().map(|r| r.reads).unwrap_or_default());
        reads.extend(self.ready.drain(..).map(|(_, r)| r));
        for r in reads {
            ctx.send(r.from, Msg::Resp { req: r.req, reply: Reply::NotLeader { hint } });
        }
        self.lease_until = None;
        self.keepalive.clear();
        self.expiring.clear();
    }

    fn answer_read(&mut self, r: Read, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.reads_served += 1;
        let reply = Reply::Value { value: self.state.get(r.key), rev: self.state.rev };
        ctx.send(r.from, Msg::Resp { req: r.req, reply });
    }

    /// Whether the leader has committed an entry of its own term (so its commit index
    /// covers everything committed before it was elected).
    fn settled(&self) -> bool {
        self.raft.is_leader() && self.raft.log.term_at(self.raft.commit) == Some(self.raft.term)
    }

    fn serve_ready(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.ready.is_empty() {
            return;
        }
        let applied = self.raft.applied;
        let (now, later): (Vec<_>, Vec<_>) = self.ready.drain(..).partition(|(index, _)| *index <= applied);
        self.ready = later;
        for (_, r) in now {
            self.answer_read(r, ctx);
        }
    }

    fn on_read(&mut self, from: NodeId, req: u64, key: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let r = Read { from, req, key };
        match self.cfg.read {
            ReadMode::AnyReplica => {
                if !self.raft.is_leader() {
                    self.stale_risk_reads += 1;
                }
                self.answer_read(r, ctx);
            }
            ReadMode::LeaseRead | ReadMode::ReadIndex => {
                if !self.raft.is_leader() {
                    let hint = self.raft.leader.filter(|&l| l != ctx.me());
                    ctx.send(from, Msg::Resp { req, reply: Reply::NotLeader { hint } });
                    return;
                }
                let leased = self.cfg.read == ReadMode::LeaseRead
                    && self.settled()
                    && self.lease_until.is_some_and(|until| ctx.local_time() < until);
                if leased {
                    self.answer_read(r, ctx);
                } else if self.waiting.len() < MAX_WAITING {
                    self.waiting.push(r);
                    self.start_round(ctx);
                }
            }
        }
    }

    /// Starts a probe round if none is in flight (or the one in flight is old).
    fn start_round(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.settled() {
            return;
        }
        let now = ctx.local_time();
        let stale = self.round.as_ref().is_some_and(|r| now >= r.sent_local + SimDuration::from_ms(ROUND_RETRY_MS));
        if self.round.is_some() && !stale {
            return;
        }
        let mut reads = self.round.take().map(|r| r.reads).unwrap_or_default();
        reads.append(&mut self.waiting);
        self.rounds += 1;
        let round =
            Round { id: self.rounds, sent_local: now, read_index: self.raft.commit, acks: vec![ctx.me()], reads };
        let term = self.raft.term;
        for &p in &self.peers {
            if p != ctx.me() {
                ctx.send(p, Msg::Probe { term, round: round.id });
            }
        }
        self.round = Some(round);
    }

    fn on_probe_ack(&mut self, from: NodeId, term: u64, id: u64, ok: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !ok || term != self.raft.term || !self.raft.is_leader() {
            return;
        }
        let majority = self.majority();
        let Some(round) = self.round.as_mut().filter(|r| r.id == id) else { return };
        if !round.acks.contains(&from) {
            round.acks.push(from);
        }
        if round.acks.len() < majority {
            return;
        }
        let round = self.round.take().expect("checked above");
        if self.cfg.read == ReadMode::LeaseRead {
            self.lease_until = Some(round.sent_local + SimDuration::from_ms(self.cfg.lease_ms));
        }
        self.ready.extend(round.reads.into_iter().map(|r| (round.read_index, r)));
        self.serve_ready(ctx);
        if !self.waiting.is_empty() {
            self.start_round(ctx);
        }
    }

    fn on_request(&mut self, from: NodeId, req: u64, op: Request, ctx: &mut Ctx<'_, Msg, Obs>) {
        let cmd = match op {
            Request::Get { key } => return self.on_read(from, req, key, ctx),
            Request::KeepAlive { session } => {
                let reply = if !self.raft.is_leader() {
                    Reply::NotLeader { hint: self.raft.leader.filter(|&l| l != ctx.me()) }
                } else if self.state.sessions.contains_key(&session) {
                    self.keepalive.insert(session, ctx.local_time());
                    Reply::Alive
                } else {
                    Reply::NoSession
                };
                return ctx.send(from, Msg::Resp { req, reply });
            }
            Request::Put { key, value, session } => Cmd::Put { client: from, req, key, value, session },
            Request::Cas { key, from: f, to } => Cmd::Cas { client: from, req, key, from: f, to },
            Request::Open { session } => Cmd::Open { client: from, req, session },
        };
        match self.raft.propose(cmd) {
            Ok(_) => {
                if self.cfg.ack_on_append && matches!(cmd, Cmd::Put { session: None, .. }) {
                    ctx.send(from, Msg::Resp { req, reply: Reply::Written { rev: 0 } });
                }
                self.carry_out(ctx);
            }
            Err(hint) => ctx.send(from, Msg::Resp { req, reply: Reply::NotLeader { hint } }),
        }
    }

    /// Leader: expire sessions whose keepalives stopped for a TTL (on this clock).
    fn check_sessions(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.local_time();
        let ttl = SimDuration::from_ms(self.cfg.session_ttl_ms);
        let sessions: Vec<u64> = self.state.sessions.keys().copied().collect();
        self.keepalive.retain(|s, _| sessions.contains(s));
        for s in sessions {
            let last = *self.keepalive.entry(s).or_insert(now);
            if now >= last + ttl && !self.expiring.contains(&s) && self.raft.propose(Cmd::Expire { session: s }).is_ok()
            {
                self.expiring.push(s);
                ctx.note(format!(
                    "session {:04x} expired: no keepalive for {} ms",
                    s & 0xffff,
                    self.cfg.session_ttl_ms
                ));
                self.carry_out(ctx);
            }
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.ticks += 1;
        ctx.set_timer(SimDuration::from_ms(TICK_MS), TAG_TICK);
        if self.raft.is_leader() {
            self.check_sessions(ctx);
            let lease_mode = self.cfg.read == ReadMode::LeaseRead;
            if lease_mode || !self.waiting.is_empty() || self.round.is_some() {
                self.start_round(ctx);
            }
        } else {
            self.lease_until = None;
        }
        if self.ticks.is_multiple_of(PROGRESS_EVERY) {
            let rev = self.state.rev;
            for sub in &mut self.subs {
                let upto = rev.max(sub.sent_upto);
                ctx.send(sub.watcher, Msg::Events { after: sub.sent_upto, upto, events: Vec::new() });
                sub.sent_upto = upto;
            }
        }
    }
}

impl Actor for Replica {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.drive(ctx, |r, io| r.start(io));
        ctx.set_timer(SimDuration::from_ms(TICK_MS), TAG_TICK);
    }

    /// Forgets everything not on disk (the block keeps term, vote, log and snapshot).
    fn on_crash(&mut self) {
        self.raft.crash();
        self.state = KvState::default();
        self.round = None;
        self.waiting.clear();
        self.ready.clear();
        self.lease_until = None;
        self.keepalive.clear();
        self.expiring.clear();
        self.subs.clear();
        // `promise_until` is kept, as if written to disk with the vote.
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == TAG_TICK {
            self.tick(ctx);
        } else {
            self.drive(ctx, |r, io| r.on_timer(tag, io));
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Req { req, op } => self.on_request(from, req, op, ctx),
            Msg::Watch { prefix, after } => {
                self.subs.retain(|s| s.watcher != from);
                let after = after.unwrap_or(self.state.rev);
                if let Some(sub) = self.open_watch(from, prefix, after, ctx) {
                    self.subs.push(sub);
                }
            }
            Msg::Probe { term, round } => {
                let ok = self.raft.term <= term;
                if ok && self.cfg.read == ReadMode::LeaseRead {
                    self.promise_until = Some(ctx.local_time() + SimDuration::from_ms(self.cfg.lease_ms));
                }
                ctx.send(from, Msg::ProbeAck { term, round, ok });
            }
            Msg::ProbeAck { term, round, ok } => self.on_probe_ack(from, term, round, ok, ctx),
            Msg::Raft(RaftMsg::Vote { .. }) if self.promise_until.is_some_and(|u| ctx.local_time() < u) => {
                // Lease-read: a replica that acked the leader's probe ignores votes until
                // its promise runs out on its own clock.
            }
            Msg::Raft(m) => self.drive(ctx, |r, io| r.on_message(from, m, io)),
            Msg::Range { prefix } => {
                let items = self.state.items.iter().filter(|(k, _)| prefix.holds(**k)).map(|(&k, i)| (k, i.value));
                ctx.send(from, Msg::RangeIs { rev: self.state.rev, items: items.collect() });
            }
            Msg::Resp { .. } | Msg::Events { .. } | Msg::Compacted { .. } | Msg::RangeIs { .. } => {}
        }
    }

    fn describe(&self) -> String {
        let role = match self.raft.role {
            Role::Leader => "leader",
            Role::Candidate => "candidate",
            Role::PreCandidate => "pre-candidate",
            Role::Follower => "follower",
        };
        format!("{role} t{} · commit {} · r{}", self.raft.term, self.raft.commit, self.state.rev)
    }
}
