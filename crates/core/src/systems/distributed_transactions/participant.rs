//! A participant: a resource manager that owns some keys, a lock table and a write-ahead
//! log. Its vote means something: it votes no when another transaction holds the key's
//! lock (no-wait locking, so conflicts abort instead of deadlocking) or, rarely, on its own
//! (`no_vote_pct`: a constraint that failed). To vote yes it locks the key and forces a
//! `Prepared` record first — from then on it has given up the right to abort alone and is
//! *in doubt*, holding the lock, until it hears the decision.
//!
//! How it leaves doubt is what the strategies differ on:
//! - 2PC: only the coordinator's word ends it. It asks (`Inquire`) every 100 ms while in
//!   doubt, unless `inquire` is off, in which case it waits to be told. With
//!   `heuristic_ms` set it gives up after that long and aborts on its own — the
//!   "heuristic decision" XA allows an operator to take, which may contradict the outcome.
//! - 3PC: timeouts decide. In doubt without a pre-commit it aborts; pre-committed it
//!   commits. A participant that rebuilt its state from the log after a crash does not
//!   trust its timeouts (it cannot know what happened while it was down) and asks instead.
//!
//! Presumed abort: commit records are forced before the acknowledgement; abort records are
//! written lazily (a crash may lose one, and the participant then asks again and hears
//! "abort" again). Crashes drop the lock table and everything not yet durable; a restart
//! rebuilds the in-doubt transactions from the log and re-takes their locks.
//!
//! Checkpoints keep the log and the memory of outcomes bounded. Every
//! `checkpoint_every` records (or decided outcomes) it forgets each decided transaction
//! whose records are all durable: the log drops its records ([`Wal::checkpoint`] keeps
//! those of in-doubt transactions, so recovery rebuilds the same in-doubt set) and the
//! outcome leaves memory. What remains is a floor per client, kept durably with the
//! checkpoint (the control file of a real log): every transaction of that client at or
//! below it that is not in progress here is over here. Client sequence numbers only
//! grow, so a floor is all it takes. A message about a forgotten transaction can only be
//! a late or duplicated copy, or a prepare that comes after a later transaction of the
//! same client was already decided here:
//! - a duplicate prepare is refused (vote no, nothing reported): re-preparing would lock
//!   the key again and, asked about it, a coordinator that already finished it would
//!   presume abort — an abort of a transaction this participant may have committed. A no
//!   vote is always safe before voting yes; after a yes vote and a decision here, the
//!   coordinator has decided too, so the only run that could hear this no is a new run of
//!   the same id started by a duplicated `Begin`, which no participant is in doubt about.
//! - a late commit (or pre-commit) is acknowledged: a coordinator re-sends commit until
//!   every participant acknowledges, and this participant forgot the transaction only
//!   after its commit record was durable — or after aborting, which could only meet a
//!   commit if atomicity was already broken, and the checks saw that when it happened.
//! - a late abort is ignored, as presumed abort lets it be.
//!
//! Pauses add no new case: a paused node keeps its state, and what it sends or is sent
//! meanwhile arrives late — the case above. Crashes neither: the floor is durable.
//!
//! Timeouts count ticks of a monotonic timer, not readings of the wall clock, so a clock
//! that jumps does not stretch them (a drifting clock still does, by its drift).

use super::msg::{Msg, Obs, PartRec, TxnId};
use crate::blocks::wal::Wal;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

/// Log records appended between checkpoints, and decided outcomes kept at most: a log
/// segment's worth (a few megabytes), as real logs checkpoint per segment or per few
/// minutes: a default ten-second run never reaches one, the longest runs reach many.
pub const CHECKPOINT_RECORDS: usize = 65_536;
pub const TICK_MS: u64 = 10;
/// How often an in-doubt participant asks the coordinator.
pub const INQUIRE_MS: u64 = 100;
const KIND_TICK: u64 = 1;
const KIND_FSYNC: u64 = 2;
/// Transactions kept for the views, per participant.
const MAX_TRAIL: usize = 48;

#[derive(Clone, Debug)]
pub struct PartCfg {
    pub coordinator: NodeId,
    pub three_phase: bool,
    pub inquire: bool,
    pub fsync_ms: u64,
    pub no_vote_pct: u64,
    /// 3PC: how long to wait in a state before acting alone.
    pub timeout_ms: u64,
    /// 2PC: abort alone after this long in doubt (0: never).
    pub heuristic_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PState {
    /// Locked, the `Prepared` record is being forced; no vote sent yet.
    Preparing,
    /// Voted yes: in doubt (3PC: "waiting").
    Prepared,
    PreCommitting,
    PreCommitted,
    /// The `Committed` record is being forced.
    Committing,
}

#[derive(Clone, Debug)]
pub struct Active {
    pub key: u64,
    pub state: PState,
    /// Tick at which the current state began.
    since_tick: u64,
    last_inquiry_tick: Option<u64>,
    locked_at: SimTime,
    /// True time the vote became durable (for the time-in-doubt metric).
    prepared_at_ms: f64,
    /// Rebuilt from the log after a crash.
    pub recovered: bool,
}

/// What happens when a forced write reaches the disk.
#[derive(Clone, Copy, Debug)]
enum Then {
    Vote(TxnId),
    PreCommitAck(TxnId),
    Commit(TxnId),
    Nothing,
}

/// One transaction's path through this participant, for the views.
#[derive(Clone, Debug)]
pub struct Trail {
    pub txn: TxnId,
    pub first_ms: f64,
    pub prepared_ms: Option<f64>,
    pub precommitted_ms: Option<f64>,
    pub decided_ms: Option<f64>,
    pub outcome: Option<bool>,
    /// How it was decided when not by the coordinator's word ("lock held", "timeout", …).
    pub how: &'static str,
}

#[derive(Clone, Debug)]
pub struct Participant {
    pub cfg: PartCfg,
    /// Durable up to its flushed prefix.
    pub wal: Wal<PartRec>,
    // Volatile.
    pub active: BTreeMap<TxnId, Active>,
    pub locks: BTreeMap<u64, TxnId>,
    /// Outcomes known here and not yet forgotten: from the log after a restart, plus
    /// this run's decisions since the last checkpoint.
    pub decided: BTreeMap<TxnId, bool>,
    /// Durable (written with each checkpoint): per client, the highest sequence number
    /// forgotten. Every transaction of that client at or below it, unless in progress
    /// here, is over here.
    pub forgotten: BTreeMap<u32, u32>,
    /// Checkpoint once this many records were appended since the last one, or this many
    /// outcomes are remembered.
    pub checkpoint_every: usize,
    /// Log length after the last checkpoint.
    kept: usize,
    pending: BTreeMap<u64, Then>,
    ticks: u64,
    // For the views (kept across crashes; the protocol never reads it).
    pub trail: Vec<Trail>,
    pub commits: u64,
    pub aborts: u64,
}

impl Participant {
    pub fn new(cfg: PartCfg) -> Participant {
        Participant {
            cfg,
            wal: Wal::new(),
            active: BTreeMap::new(),
            locks: BTreeMap::new(),
            decided: BTreeMap::new(),
            forgotten: BTreeMap::new(),
            checkpoint_every: CHECKPOINT_RECORDS,
            kept: 0,
            pending: BTreeMap::new(),
            ticks: 0,
            trail: Vec::new(),
            commits: 0,
            aborts: 0,
        }
    }

    /// Transactions voted yes on and not yet decided.
    pub fn in_doubt(&self) -> usize {
        self.active.values().filter(|a| a.state != PState::Preparing).count()
    }

    /// Whether `txn` is at or below its client's floor: decided here and forgotten.
    pub fn forgot(&self, txn: TxnId) -> bool {
        self.forgotten.get(&txn.client).is_some_and(|&seq| txn.seq <= seq)
    }

    /// Forgets every decided transaction whose records are all durable: drops its records
    /// from the log and its outcome from memory, and raises its client's floor. The
    /// records of in-doubt transactions and of those whose last record is still in the
    /// buffer stay.
    pub fn checkpoint(&mut self) {
        let buffered: BTreeSet<TxnId> = self.wal.records()[self.wal.durable_len()..].iter().map(PartRec::txn).collect();
        let forget: BTreeSet<TxnId> =
            self.decided.keys().filter(|t| !buffered.contains(t) && !self.active.contains_key(t)).copied().collect();
        self.wal.checkpoint(|r| !forget.contains(&r.txn()));
        for t in &forget {
            self.decided.remove(t);
            let floor = self.forgotten.entry(t.client).or_default();
            *floor = (*floor).max(t.seq);
        }
        self.kept = self.wal.len();
    }

    fn force(&mut self, then: Then, ctx: &mut Ctx<'_, Msg, Obs>) {
        let ticket = self.wal.force();
        self.pending.insert(ticket, then);
        ctx.metrics.add("forced_writes", 1);
        ctx.set_timer(SimDuration::from_ms(self.cfg.fsync_ms), (ticket << 4) | KIND_FSYNC);
    }

    fn trail(&mut self, txn: TxnId, now_ms: f64) -> &mut Trail {
        let i = match self.trail.iter().rposition(|t| t.txn == txn) {
            Some(i) => i,
            None => {
                if self.trail.len() >= MAX_TRAIL {
                    self.trail.remove(0);
                }
                self.trail.push(Trail {
                    txn,
                    first_ms: now_ms,
                    prepared_ms: None,
                    precommitted_ms: None,
                    decided_ms: None,
                    outcome: None,
                    how: "",
                });
                self.trail.len() - 1
            }
        };
        &mut self.trail[i]
    }

    /// The transaction is over here: unlock, remember, report.
    fn conclude(&mut self, txn: TxnId, commit: bool, how: &'static str, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        if let Some(a) = self.active.remove(&txn) {
            if self.locks.get(&a.key) == Some(&txn) {
                self.locks.remove(&a.key);
            }
            ctx.metrics.observe("lock_hold_us", now.since(a.locked_at).micros());
            if a.state != PState::Preparing {
                let doubt_us = ((now.as_ms() - a.prepared_at_ms).max(0.0) * 1_000.0) as u64;
                ctx.metrics.observe("in_doubt_us", doubt_us);
            }
        }
        self.decided.insert(txn, commit);
        if commit {
            self.commits += 1;
        } else {
            self.aborts += 1;
        }
        let t = self.trail(txn, now.as_ms());
        t.decided_ms = Some(now.as_ms());
        t.outcome = Some(commit);
        if t.how.is_empty() {
            t.how = how;
        }
        ctx.observe(Obs::Decided { txn, participant: ctx.me(), commit });
    }

    /// Aborts an active transaction; the record is lazy unless `forced`.
    fn abort(&mut self, txn: TxnId, how: &'static str, forced: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.wal.append(PartRec::Aborted { txn });
        if forced {
            self.force(Then::Nothing, ctx);
        }
        self.conclude(txn, false, how, ctx);
    }

    fn start_commit(&mut self, txn: TxnId, how: &'static str, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(a) = self.active.get_mut(&txn) {
            a.state = PState::Committing;
            self.wal.append(PartRec::Committed { txn });
            self.force(Then::Commit(txn), ctx);
            if !how.is_empty() {
                self.trail(txn, ctx.now().as_ms()).how = how;
            }
        }
    }

    fn send(&self, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.send(self.cfg.coordinator, msg);
    }

    fn on_prepare(&mut self, txn: TxnId, key: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(&commit) = self.decided.get(&txn) {
            if !commit {
                self.send(Msg::Vote { txn, yes: false }, ctx);
            }
            return;
        }
        if let Some(a) = self.active.get(&txn) {
            // A repeated prepare: repeat the vote once it is durable.
            if a.state != PState::Preparing {
                self.send(Msg::Vote { txn, yes: true }, ctx);
            }
            return;
        }
        if self.forgot(txn) {
            // Over here and forgotten: refuse, never prepare it again (see the module doc).
            ctx.metrics.add("votes_no_forgotten", 1);
            self.send(Msg::Vote { txn, yes: false }, ctx);
            return;
        }
        let refuse = if self.locks.contains_key(&key) {
            ctx.metrics.add("votes_no_lock_held", 1);
            Some("lock held")
        } else if ctx.rng.below(100) < self.cfg.no_vote_pct {
            ctx.metrics.add("votes_no_refused", 1);
            Some("refused")
        } else {
            None
        };
        if let Some(why) = refuse {
            // Nothing was logged: a participant may abort alone until it votes yes.
            self.conclude(txn, false, why, ctx);
            self.send(Msg::Vote { txn, yes: false }, ctx);
            return;
        }
        let now = ctx.now();
        self.locks.insert(key, txn);
        self.active.insert(
            txn,
            Active {
                key,
                state: PState::Preparing,
                since_tick: self.ticks,
                last_inquiry_tick: None,
                locked_at: now,
                prepared_at_ms: now.as_ms(),
                recovered: false,
            },
        );
        self.trail(txn, now.as_ms());
        self.wal.append(PartRec::Prepared { txn, key, at_ms: now.as_ms() });
        self.force(Then::Vote(txn), ctx);
    }

    fn on_durable(&mut self, then: Then, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now_ms = ctx.now().as_ms();
        match then {
            Then::Vote(txn) => {
                let ticks = self.ticks;
                let Some(a) = self.active.get_mut(&txn).filter(|a| a.state == PState::Preparing) else {
                    return; // aborted while the record was being written
                };
                a.state = PState::Prepared;
                a.since_tick = ticks;
                a.last_inquiry_tick = Some(ticks);
                a.prepared_at_ms = now_ms;
                self.trail(txn, now_ms).prepared_ms = Some(now_ms);
                ctx.observe(Obs::Prepared { txn, participant: ctx.me() });
                self.send(Msg::Vote { txn, yes: true }, ctx);
            }
            Then::PreCommitAck(txn) => {
                let ticks = self.ticks;
                let Some(a) = self.active.get_mut(&txn).filter(|a| a.state == PState::PreCommitting) else {
                    return;
                };
                a.state = PState::PreCommitted;
                a.since_tick = ticks;
                self.trail(txn, now_ms).precommitted_ms = Some(now_ms);
                self.send(Msg::PreCommitAck { txn }, ctx);
            }
            Then::Commit(txn) => {
                if self.active.get(&txn).is_some_and(|a| a.state == PState::Committing) {
                    self.conclude(txn, true, "", ctx);
                    self.send(Msg::Ack { txn }, ctx);
                }
            }
            Then::Nothing => {}
        }
    }

    fn on_commit(&mut self, txn: TxnId, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self.decided.get(&txn) {
            Some(true) => return self.send(Msg::Ack { txn }, ctx),
            Some(false) => {
                ctx.metrics.add("commit_after_abort", 1);
                return ctx.note(format!("commit for {txn} arrives after this participant aborted it"));
            }
            None => {}
        }
        let state = self.active.get(&txn).map(|a| a.state);
        if let Some(PState::Prepared | PState::PreCommitting | PState::PreCommitted) = state {
            self.start_commit(txn, "", ctx);
        } else if state.is_none() && self.forgot(txn) {
            ctx.metrics.add("late_commits_acked", 1);
            self.send(Msg::Ack { txn }, ctx);
        }
    }

    fn on_abort(&mut self, txn: TxnId, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self.decided.get(&txn) {
            Some(true) => {
                ctx.metrics.add("abort_after_commit", 1);
                return ctx.note(format!("abort for {txn} arrives after this participant committed it"));
            }
            Some(false) => return,
            None => {}
        }
        match self.active.get(&txn).map(|a| a.state) {
            None | Some(PState::Committing) => {}
            Some(_) => self.abort(txn, "", false, ctx),
        }
    }

    fn on_precommit(&mut self, txn: TxnId, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self.decided.get(&txn) {
            Some(true) => return self.send(Msg::PreCommitAck { txn }, ctx),
            Some(false) => {
                ctx.metrics.add("commit_after_abort", 1);
                return ctx.note(format!("pre-commit for {txn} arrives after this participant aborted it"));
            }
            None => {}
        }
        let Some(a) = self.active.get_mut(&txn) else {
            if self.forgot(txn) {
                self.send(Msg::PreCommitAck { txn }, ctx);
            }
            return;
        };
        match a.state {
            PState::Prepared => {
                a.state = PState::PreCommitting;
                self.wal.append(PartRec::PreCommitted { txn });
                self.force(Then::PreCommitAck(txn), ctx);
            }
            PState::PreCommitted | PState::Committing => self.send(Msg::PreCommitAck { txn }, ctx),
            _ => {}
        }
    }

    /// Every tick: a checkpoint when due, 3PC timeouts, heuristic decisions, inquiries.
    fn on_tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.ticks += 1;
        if self.wal.len() >= self.kept.saturating_add(self.checkpoint_every)
            || self.decided.len() >= self.checkpoint_every
        {
            self.checkpoint();
        }
        let timeout = self.cfg.timeout_ms.div_ceil(TICK_MS);
        let heuristic = self.cfg.heuristic_ms.div_ceil(TICK_MS);
        let inquire_every = INQUIRE_MS / TICK_MS;
        let txns: Vec<TxnId> = self.active.keys().copied().collect();
        for txn in txns {
            let a = &self.active[&txn];
            let waited = self.ticks - a.since_tick;
            let in_doubt = matches!(a.state, PState::Prepared | PState::PreCommitted);
            if !in_doubt {
                continue;
            }
            if self.cfg.three_phase && !a.recovered {
                if waited >= timeout {
                    if a.state == PState::Prepared {
                        ctx.metrics.add("timeout_aborts", 1);
                        self.abort(txn, "timeout", true, ctx);
                    } else {
                        ctx.metrics.add("timeout_commits", 1);
                        self.start_commit(txn, "timeout", ctx);
                    }
                }
                continue;
            }
            if !self.cfg.three_phase && heuristic > 0 && waited >= heuristic {
                ctx.metrics.add("heuristic_aborts", 1);
                ctx.note(format!("heuristic abort of {txn} after {} ms in doubt", self.cfg.heuristic_ms));
                self.abort(txn, "heuristic", true, ctx);
                continue;
            }
            let due = a.last_inquiry_tick.is_none_or(|t| self.ticks - t >= inquire_every);
            if self.cfg.inquire && due {
                let ticks = self.ticks;
                if let Some(a) = self.active.get_mut(&txn) {
                    a.last_inquiry_tick = Some(ticks);
                }
                self.send(Msg::Inquire { txn }, ctx);
            }
        }
        ctx.set_timer(SimDuration::from_ms(TICK_MS), KIND_TICK);
    }

    /// Rebuilds the in-doubt transactions and the outcomes from the durable log.
    fn recover(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let mut prepared: BTreeMap<TxnId, (u64, f64, bool)> = BTreeMap::new();
        for rec in self.wal.durable() {
            match *rec {
                PartRec::Prepared { txn, key, at_ms } => {
                    prepared.insert(txn, (key, at_ms, false));
                }
                PartRec::PreCommitted { txn } => {
                    if let Some(p) = prepared.get_mut(&txn) {
                        p.2 = true;
                    }
                }
                PartRec::Committed { txn } => {
                    self.decided.insert(txn, true);
                }
                PartRec::Aborted { txn } => {
                    self.decided.insert(txn, false);
                }
            }
        }
        let now = ctx.now();
        for (txn, (key, at_ms, pre)) in prepared {
            if self.decided.contains_key(&txn) {
                continue;
            }
            self.locks.insert(key, txn);
            let state = if pre { PState::PreCommitted } else { PState::Prepared };
            let a = Active {
                key,
                state,
                since_tick: 0,
                last_inquiry_tick: None,
                locked_at: now,
                prepared_at_ms: at_ms,
                recovered: true,
            };
            self.active.insert(txn, a);
        }
        if !self.active.is_empty() {
            ctx.note(format!("recovered {} in-doubt transactions from the log", self.active.len()));
        }
    }
}

impl Actor for Participant {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(TICK_MS), KIND_TICK);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.kept = self.wal.len();
        self.recover(ctx);
        self.on_tick(ctx);
    }

    fn on_crash(&mut self) {
        self.wal.crash();
        self.active.clear();
        self.locks.clear();
        self.decided.clear();
        self.pending.clear();
        self.ticks = 0;
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag & 0xf {
            KIND_TICK => self.on_tick(ctx),
            KIND_FSYNC => {
                let ticket = tag >> 4;
                if self.wal.complete(ticket) {
                    if let Some(then) = self.pending.remove(&ticket) {
                        self.on_durable(then, ctx);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Prepare { txn, key, .. } => self.on_prepare(txn, key, ctx),
            Msg::PreCommit { txn } => self.on_precommit(txn, ctx),
            Msg::Commit { txn } => self.on_commit(txn, ctx),
            Msg::Abort { txn } => self.on_abort(txn, ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} in doubt · {} locks · log {}/{} ({} checkpointed)",
            self.in_doubt(),
            self.locks.len(),
            self.wal.durable_len(),
            self.wal.len(),
            self.wal.checkpointed
        )
    }
}
