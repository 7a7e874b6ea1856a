//! The coordinator (transaction manager). It runs each client transaction through the
//! strategy's protocol:
//!
//! - `NoLog` (2PC, naive): votes, then commit or abort — with the decision kept only in
//!   memory. A crash forgets every transaction in flight; afterwards it answers any
//!   question about one it does not know with "abort" (the presumed-abort rule), which is
//!   a lie for a transaction it had already told some participant to commit.
//! - `Logged` (2PC, presumed abort after Mohan, Lindsay and Obermarck, "Transaction
//!   Management in the R* Distributed Database Management System", TODS 1986): the commit
//!   record (with the participant list) is forced before anyone hears "commit"; aborts
//!   are not logged at all, so "no record" means "aborted"; an end record, written lazily,
//!   lets it forget a transaction once every participant acknowledged. A restart re-sends
//!   "commit" for each commit record without an end record.
//! - `ThreePhase` (3PC after Skeen, "Nonblocking Commit Protocols", SIGMOD 1981): after
//!   the yes votes it forces a pre-commit record and sends pre-commit; once the
//!   participants acknowledge (or a timeout passes) it sends the final commit. The
//!   pre-commit record is its commit decision, for recovery and for inquiries.
//!
//! Checkpoints keep the log bounded: every `checkpoint_every` records it drops the records
//! of each transaction whose end record is durable — every participant acknowledged, so
//! none is in doubt and recovery would skip it anyway. Commit records without a durable
//! end stay, so recovery rebuilds the same unfinished set. The coordinator needs no
//! memory of finished transactions beyond that: it forgot them in memory the moment it
//! wrote the end record, and an inquiry can only come from a participant in doubt, which
//! no participant of a finished transaction is.
//!
//! Timeouts are counted in ticks of a monotonic timer. The coordinator waits
//! `vote_timeout_ms` for votes (then aborts) and, in 3PC, as long for pre-commit
//! acknowledgements (then commits anyway: every vote was yes). Commits are re-sent every
//! 100 ms to participants that have not acknowledged.

use super::msg::{CoordRec, Msg, Obs, TxnId};
use crate::blocks::wal::Wal;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Log records appended between checkpoints (as for participants).
pub const CHECKPOINT_RECORDS: usize = 65_536;
pub const TICK_MS: u64 = 10;
pub const RETRY_MS: u64 = 100;
const KIND_TICK: u64 = 1;
const KIND_FSYNC: u64 = 2;
/// Decisions kept for the views.
const MAX_RECENT: usize = 48;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    NoLog,
    Logged,
    ThreePhase,
}

#[derive(Clone, Debug)]
pub struct CoordCfg {
    pub mode: Mode,
    pub fsync_ms: u64,
    pub vote_timeout_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for votes.
    Collecting,
    /// Every vote was yes; the decision record is being forced.
    Deciding,
    /// 3PC: pre-commit sent, waiting for acknowledgements.
    PreCommitting,
    /// Commit sent, waiting for acknowledgements.
    Committing,
}

#[derive(Clone, Debug)]
pub struct CoordTxn {
    /// The client to answer (`None` after recovery from the log).
    pub client: Option<NodeId>,
    /// Each participant and the key it writes.
    pub work: Vec<(NodeId, u64)>,
    pub phase: Phase,
    /// Yes votes, then acknowledgements of the current phase.
    pub heard: Vec<NodeId>,
    phase_tick: u64,
    sent_tick: u64,
}

impl CoordTxn {
    fn participants(&self) -> Vec<NodeId> {
        self.work.iter().map(|w| w.0).collect()
    }
}

#[derive(Clone, Debug)]
pub struct Coordinator {
    pub cfg: CoordCfg,
    /// Durable up to its flushed prefix (unused by `NoLog`).
    pub wal: Wal<CoordRec>,
    // Volatile.
    pub txns: BTreeMap<TxnId, CoordTxn>,
    pending: BTreeMap<u64, TxnId>,
    ticks: u64,
    /// Checkpoint once this many records were appended since the last one.
    pub checkpoint_every: usize,
    /// Log length after the last checkpoint.
    kept: usize,
    // For the views.
    pub recent: Vec<(TxnId, &'static str)>,
    pub commits: u64,
    pub aborts: u64,
}

impl Coordinator {
    pub fn new(cfg: CoordCfg) -> Coordinator {
        Coordinator {
            cfg,
            wal: Wal::new(),
            txns: BTreeMap::new(),
            pending: BTreeMap::new(),
            ticks: 0,
            checkpoint_every: CHECKPOINT_RECORDS,
            kept: 0,
            recent: Vec::new(),
            commits: 0,
            aborts: 0,
        }
    }

    /// Drops the records of every transaction whose end record is durable, up to that
    /// end record (a later record of the same id, were there one, would stay).
    pub fn checkpoint(&mut self) {
        let mut ended: BTreeMap<TxnId, usize> = BTreeMap::new();
        for (i, r) in self.wal.durable().iter().enumerate() {
            if let CoordRec::End { txn } = r {
                ended.insert(*txn, i);
            }
        }
        let mut i = 0;
        self.wal.checkpoint(|r| {
            let keep = ended.get(&r.txn()).is_none_or(|&end| i > end);
            i += 1;
            keep
        });
        self.kept = self.wal.len();
    }

    fn remember(&mut self, txn: TxnId, what: &'static str) {
        if self.recent.len() >= MAX_RECENT {
            self.recent.remove(0);
        }
        self.recent.push((txn, what));
    }

    fn to_all(&self, txn: TxnId, msg: &Msg, only_missing: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(t) = self.txns.get(&txn) {
            for p in t.participants() {
                if !(only_missing && t.heard.contains(&p)) {
                    ctx.send(p, msg.clone());
                }
            }
        }
    }

    fn on_begin(&mut self, from: NodeId, txn: TxnId, work: Vec<(NodeId, u64)>, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.txns.contains_key(&txn) || work.is_empty() {
            return;
        }
        let three_phase = self.cfg.mode == Mode::ThreePhase;
        for &(p, key) in &work {
            ctx.send(p, Msg::Prepare { txn, key, three_phase });
        }
        let t = CoordTxn {
            client: Some(from),
            work,
            phase: Phase::Collecting,
            heard: Vec::new(),
            phase_tick: self.ticks,
            sent_tick: self.ticks,
        };
        self.txns.insert(txn, t);
    }

    fn enter(&mut self, txn: TxnId, phase: Phase) {
        let ticks = self.ticks;
        if let Some(t) = self.txns.get_mut(&txn) {
            t.phase = phase;
            t.heard.clear();
            t.phase_tick = ticks;
            t.sent_tick = ticks;
        }
    }

    fn reply(&self, txn: TxnId, committed: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(client) = self.txns.get(&txn).and_then(|t| t.client) {
            ctx.send(client, Msg::Outcome { txn, committed });
        }
    }

    /// Presumed abort: tell everyone, answer the client, forget (nothing is logged).
    fn abort(&mut self, txn: TxnId, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.to_all(txn, &Msg::Abort { txn }, false, ctx);
        self.reply(txn, false, ctx);
        self.txns.remove(&txn);
        self.aborts += 1;
        ctx.metrics.add("aborts", 1);
        ctx.metrics.series.add("aborts", ctx.now(), 1.0);
        self.remember(txn, "aborted");
    }

    /// Sends the final commit and answers the client.
    fn commit(&mut self, txn: TxnId, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.enter(txn, Phase::Committing);
        self.to_all(txn, &Msg::Commit { txn }, false, ctx);
        self.reply(txn, true, ctx);
        self.commits += 1;
        ctx.metrics.add("commits", 1);
        ctx.metrics.series.add("commits", ctx.now(), 1.0);
    }

    fn on_vote(&mut self, from: NodeId, txn: TxnId, yes: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(t) = self.txns.get_mut(&txn) else {
            // Unknown: aborted and forgotten, or lost in a crash. Presumed abort.
            if yes {
                ctx.send(from, Msg::Abort { txn });
            }
            return;
        };
        if t.phase != Phase::Collecting {
            return;
        }
        if !yes {
            return self.abort(txn, ctx);
        }
        if !t.heard.contains(&from) {
            t.heard.push(from);
        }
        if t.heard.len() < t.work.len() {
            return;
        }
        let participants = t.participants();
        match self.cfg.mode {
            Mode::NoLog => self.commit(txn, ctx),
            Mode::Logged | Mode::ThreePhase => {
                self.enter(txn, Phase::Deciding);
                let rec = if self.cfg.mode == Mode::Logged {
                    CoordRec::Commit { txn, participants }
                } else {
                    CoordRec::PreCommit { txn, participants }
                };
                self.wal.append(rec);
                let ticket = self.wal.force();
                ctx.metrics.add("forced_writes", 1);
                self.pending.insert(ticket, txn);
                ctx.set_timer(SimDuration::from_ms(self.cfg.fsync_ms), (ticket << 4) | KIND_FSYNC);
            }
        }
    }

    /// The decision record is on disk.
    fn on_decided(&mut self, txn: TxnId, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.txns.get(&txn).map(|t| t.phase) != Some(Phase::Deciding) {
            return;
        }
        if self.cfg.mode == Mode::ThreePhase {
            self.enter(txn, Phase::PreCommitting);
            self.to_all(txn, &Msg::PreCommit { txn }, false, ctx);
        } else {
            self.commit(txn, ctx);
        }
    }

    fn on_ack(&mut self, from: NodeId, txn: TxnId, phase: Phase, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(t) = self.txns.get_mut(&txn).filter(|t| t.phase == phase) else { return };
        if !t.heard.contains(&from) {
            t.heard.push(from);
        }
        if t.heard.len() < t.work.len() {
            return;
        }
        match phase {
            Phase::PreCommitting => self.commit(txn, ctx),
            _ => {
                if self.cfg.mode != Mode::NoLog {
                    self.wal.append(CoordRec::End { txn });
                }
                self.txns.remove(&txn);
                self.remember(txn, "committed");
            }
        }
    }

    fn on_inquire(&mut self, from: NodeId, txn: TxnId, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self.txns.get(&txn).map(|t| t.phase) {
            // The decision is commit once its record is durable (2PC) or pre-commit sent (3PC).
            Some(Phase::Committing | Phase::PreCommitting) => ctx.send(from, Msg::Commit { txn }),
            Some(Phase::Collecting | Phase::Deciding) => {}
            None => {
                ctx.metrics.add("presumed_abort_answers", 1);
                ctx.send(from, Msg::Abort { txn });
            }
        }
    }

    fn on_tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.ticks += 1;
        if self.wal.len() >= self.kept.saturating_add(self.checkpoint_every) {
            self.checkpoint();
        }
        let vote_ticks = self.cfg.vote_timeout_ms.div_ceil(TICK_MS);
        let retry_ticks = RETRY_MS / TICK_MS;
        let txns: Vec<(TxnId, Phase, u64, u64)> =
            self.txns.iter().map(|(id, t)| (*id, t.phase, t.phase_tick, t.sent_tick)).collect();
        for (txn, phase, since, sent) in txns {
            match phase {
                Phase::Collecting if self.ticks - since >= vote_ticks => self.abort(txn, ctx),
                Phase::PreCommitting if self.ticks - since >= vote_ticks => self.commit(txn, ctx),
                Phase::Committing if self.ticks - sent >= retry_ticks => {
                    self.to_all(txn, &Msg::Commit { txn }, true, ctx);
                    let ticks = self.ticks;
                    if let Some(t) = self.txns.get_mut(&txn) {
                        t.sent_tick = ticks;
                    }
                }
                _ => {}
            }
        }
        ctx.set_timer(SimDuration::from_ms(TICK_MS), KIND_TICK);
    }

    /// Rebuilds the decided-but-unfinished transactions from the log and re-sends commit.
    fn recover(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let mut open: BTreeMap<TxnId, Vec<NodeId>> = BTreeMap::new();
        for rec in self.wal.durable() {
            match rec {
                CoordRec::Commit { txn, participants } | CoordRec::PreCommit { txn, participants } => {
                    open.insert(*txn, participants.clone());
                }
                CoordRec::End { txn } => {
                    open.remove(txn);
                }
            }
        }
        if !open.is_empty() {
            ctx.note(format!("recovered {} committed transactions from the log", open.len()));
        }
        for (txn, participants) in open {
            let work = participants.into_iter().map(|p| (p, 0)).collect();
            let t = CoordTxn {
                client: None,
                work,
                phase: Phase::Committing,
                heard: Vec::new(),
                phase_tick: 0,
                sent_tick: 0,
            };
            self.txns.insert(txn, t);
            self.to_all(txn, &Msg::Commit { txn }, false, ctx);
        }
    }
}

impl Actor for Coordinator {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(TICK_MS), KIND_TICK);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.kept = self.wal.len();
        if self.cfg.mode != Mode::NoLog {
            self.recover(ctx);
        }
        self.on_start(ctx);
    }

    fn on_crash(&mut self) {
        self.wal.crash();
        self.txns.clear();
        self.pending.clear();
        self.ticks = 0;
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag & 0xf {
            KIND_TICK => self.on_tick(ctx),
            KIND_FSYNC => {
                let ticket = tag >> 4;
                if self.wal.complete(ticket) {
                    if let Some(txn) = self.pending.remove(&ticket) {
                        self.on_decided(txn, ctx);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Begin { txn, work } => self.on_begin(from, txn, work, ctx),
            Msg::Vote { txn, yes } => self.on_vote(from, txn, yes, ctx),
            Msg::PreCommitAck { txn } => self.on_ack(from, txn, Phase::PreCommitting, ctx),
            Msg::Ack { txn } => self.on_ack(from, txn, Phase::Committing, ctx),
            Msg::Inquire { txn } => self.on_inquire(from, txn, ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let log = match self.cfg.mode {
            Mode::NoLog => "no log".to_string(),
            _ => format!("log {}/{}", self.wal.durable_len(), self.wal.len()),
        };
        format!("{} open · {} commits · {} aborts · {log}", self.txns.len(), self.commits, self.aborts)
    }
}
