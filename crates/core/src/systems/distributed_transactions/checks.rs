//! The three properties of an atomic commitment protocol, each judged from a record the
//! check keeps itself — what every participant did and what every client was told — and
//! never from the coordinator's memory or log, which is exactly what the naive design
//! loses.
//!
//! - `atomicity` (safety): for every transaction, the participants' decisions agree. A
//!   participant's decision is what it acted on: a commit once its commit record is
//!   durable, an abort when it releases the locks. One commit and one abort of the same
//!   transaction, by any two participants (or one participant twice), break it.
//! - `no-blocking-after-recovery` (liveness): a participant that voted yes leaves doubt
//!   soon once it can hear the coordinator. Time in doubt is measured in true time from
//!   its durable yes vote to its decision (or the end of the run), minus every window in
//!   which the fault plan had the coordinator down or paused, the participant itself down
//!   or paused, or the network partitioned, lossy or clogged (`outages`). Any remaining
//!   stretch longer than the bound is a participant left blocked although nothing stopped
//!   it from learning the outcome.
//! - `durability` (safety, finished at the end): a transaction a client was told had
//!   committed is committed at every participant it touched — the participants as the
//!   client listed them. A participant that aborts it fails at once; one that has not
//!   committed it by the end fails when the plan's faults were all repaired.
//!
//! Every check judges with bounded state: full detail (who decided, when) is kept per
//! transaction only until every participant the client named has decided it, then a
//! byte of flags per transaction remains ([`TxnBits`]), enough to catch a later
//! contradiction — a participant deciding the other way after a crash, or a client told
//! "committed" about a transaction some participant aborted.

use super::msg::{Obs, TxnId};
use super::outages::{longest_clear, Windows};
use super::txn_bits::TxnBits;
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use std::collections::BTreeMap;

fn name(names: &[String], id: NodeId) -> String {
    names.get(id as usize).cloned().unwrap_or_else(|| format!("#{id}"))
}

const COMMITTED: u8 = 1;
const ABORTED: u8 = 2;
const TOLD: u8 = 4;

/// What a check still holds about an open transaction.
#[derive(Clone, Default)]
struct Open {
    /// Participants that have not decided yet (`None`: unknown, never closes).
    waiting: Option<Vec<NodeId>>,
    /// First commit and first abort seen.
    commit: Option<(NodeId, SimTime)>,
    abort: Option<(NodeId, SimTime)>,
}

#[derive(Clone, Default)]
pub struct Atomicity {
    open: BTreeMap<TxnId, Open>,
    bits: TxnBits,
    decisions: u64,
    txns: u64,
    names: Vec<String>,
}

impl Atomicity {
    pub fn new(names: Vec<String>) -> Atomicity {
        Atomicity { names, ..Atomicity::default() }
    }

    fn split(&self, txn: TxnId, v: Option<&Open>, now: (NodeId, SimTime), commit: bool) -> String {
        let (c, a) = match v {
            Some(v) => (v.commit, v.abort),
            None if commit => (Some(now), None),
            None => (None, Some(now)),
        };
        let who = |x: Option<(NodeId, SimTime)>, verb: &str| match x {
            Some((p, at)) => format!("{} {verb} at {at}", name(&self.names, p)),
            None => format!("a participant had {verb} it earlier"),
        };
        format!("{txn}: {} but {}", who(c, "committed"), who(a, "aborted"))
    }
}

impl Property<Obs> for Atomicity {
    fn name(&self) -> &'static str {
        "atomicity"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Submitted { txn, participants } => {
                self.open.entry(*txn).or_default().waiting = Some(participants.clone());
                return None;
            }
            Obs::Decided { .. } => {}
            _ => return None,
        }
        let Obs::Decided { txn, participant, commit } = *obs else { return None };
        self.decisions += 1;
        let flag = if commit { COMMITTED } else { ABORTED };
        let before = self.bits.set(txn, flag);
        if before & (COMMITTED | ABORTED) == 0 {
            self.txns += 1;
        }
        // A transaction closed earlier stays closed; its flags judge the late decision.
        if before & (COMMITTED | ABORTED) == 0 || self.open.contains_key(&txn) {
            let v = self.open.entry(txn).or_default();
            let slot = if commit { &mut v.commit } else { &mut v.abort };
            slot.get_or_insert((participant, at));
        }
        let split = (before & flag == 0 && (before | flag) & (COMMITTED | ABORTED) == COMMITTED | ABORTED)
            .then(|| self.split(txn, self.open.get(&txn), (participant, at), commit));
        if let Some(v) = self.open.get_mut(&txn) {
            if let Some(w) = &mut v.waiting {
                w.retain(|&p| p != participant);
                if w.is_empty() {
                    self.open.remove(&txn);
                }
            }
        }
        split
    }
    fn samples(&self) -> u64 {
        self.decisions
    }
    fn summary(&self) -> String {
        format!("{} participant decisions over {} transactions, all agreeing", self.decisions, self.txns)
    }
}

#[derive(Clone)]
pub struct NoBlocking {
    bound_ms: u64,
    /// Excused windows per participant slot.
    outages: Vec<Windows>,
    /// Participant node id → slot.
    slot: BTreeMap<NodeId, usize>,
    open: BTreeMap<(TxnId, NodeId), SimTime>,
    episodes: u64,
    /// Longest clear wait seen: ms.
    worst_ms: f64,
    names: Vec<String>,
}

impl NoBlocking {
    /// `participants[i]` is the node whose excused windows are `outages[i]`.
    pub fn new(bound_ms: u64, participants: Vec<NodeId>, outages: Vec<Windows>, names: Vec<String>) -> NoBlocking {
        let slot = participants.into_iter().enumerate().map(|(i, p)| (p, i)).collect();
        NoBlocking { bound_ms, outages, slot, open: BTreeMap::new(), episodes: 0, worst_ms: 0.0, names }
    }

    fn judge(&mut self, txn: TxnId, p: NodeId, from: SimTime, to: SimTime) -> Option<String> {
        let windows = self.slot.get(&p).and_then(|&i| self.outages.get(i)).map_or(&[][..], |w| &w[..]);
        let (a, b) = longest_clear(from, to, windows);
        let clear_ms = b.since(a).as_ms();
        self.worst_ms = self.worst_ms.max(clear_ms);
        (clear_ms > self.bound_ms as f64).then(|| {
            format!(
                "{} in doubt about {txn} from {from}: {clear_ms:.0} ms of it ({a} to {b}) with the coordinator up and the network whole (bound {} ms)",
                name(&self.names, p),
                self.bound_ms
            )
        })
    }
}

impl Property<Obs> for NoBlocking {
    fn name(&self) -> &'static str {
        "no-blocking-after-recovery"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Prepared { txn, participant } => {
                self.episodes += 1;
                self.open.entry((txn, participant)).or_insert(at);
                None
            }
            Obs::Decided { txn, participant, .. } => {
                let from = self.open.remove(&(txn, participant))?;
                self.judge(txn, participant, from, at)
            }
            _ => None,
        }
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        let open: Vec<((TxnId, NodeId), SimTime)> = std::mem::take(&mut self.open).into_iter().collect();
        let mut first = None;
        for ((txn, p), from) in open {
            if let Some(bad) = self.judge(txn, p, from, end.now) {
                first.get_or_insert(format!("{bad}, and still at the end"));
            }
        }
        first
    }
    fn samples(&self) -> u64 {
        self.episodes
    }
    fn summary(&self) -> String {
        format!(
            "{} in-doubt stretches; the longest with the coordinator reachable lasted {:.0} ms (bound {} ms)",
            self.episodes, self.worst_ms, self.bound_ms
        )
    }
}

/// What durability still holds about an open transaction.
#[derive(Clone)]
struct Touched {
    /// Participants the client named that have not committed it yet.
    waiting: Vec<NodeId>,
    told: Option<SimTime>,
    aborted: Option<(NodeId, SimTime)>,
}

#[derive(Clone)]
pub struct Durability {
    /// Transactions neither committed everywhere nor aborted anywhere yet.
    open: BTreeMap<TxnId, Touched>,
    /// Told committed / aborted somewhere, for every transaction.
    bits: TxnBits,
    acked: u64,
    /// Whether the plan repairs every fault (else unfinished commits are not judged).
    repaired: bool,
    names: Vec<String>,
}

impl Durability {
    pub fn new(repaired: bool, names: Vec<String>) -> Durability {
        Durability { open: BTreeMap::new(), bits: TxnBits::default(), acked: 0, repaired, names }
    }

    fn lost(&self, txn: TxnId, now: SimTime) -> Option<String> {
        if self.bits.get(txn) & (TOLD | ABORTED) != TOLD | ABORTED {
            return None;
        }
        let t = self.open.get(&txn);
        let told = t.and_then(|t| t.told).unwrap_or(now);
        Some(match t.and_then(|t| t.aborted) {
            Some((p, at)) => format!(
                "{txn}: the client was told it committed at {told}, but {} aborted it at {at}",
                name(&self.names, p)
            ),
            None => format!("{txn}: the client was told it committed at {told}, but a participant had aborted it"),
        })
    }
}

impl Property<Obs> for Durability {
    fn name(&self) -> &'static str {
        "durability"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Submitted { txn, ref participants } => {
                let t = Touched { waiting: participants.clone(), told: None, aborted: None };
                self.open.insert(txn, t);
                None
            }
            Obs::Acked { txn, committed: true } => {
                if self.bits.set(txn, TOLD) & TOLD == 0 {
                    self.acked += 1;
                }
                if let Some(t) = self.open.get_mut(&txn) {
                    t.told.get_or_insert(at);
                }
                self.lost(txn, at)
            }
            Obs::Decided { txn, participant, commit: true } => {
                if let Some(t) = self.open.get_mut(&txn) {
                    t.waiting.retain(|&p| p != participant);
                    if t.waiting.is_empty() {
                        // Committed everywhere: only a later abort could still hurt, and
                        // the flags catch that.
                        self.open.remove(&txn);
                    }
                }
                None
            }
            Obs::Decided { txn, participant, commit: false } => {
                self.bits.set(txn, ABORTED);
                if let Some(t) = self.open.get_mut(&txn) {
                    t.aborted.get_or_insert((participant, at));
                }
                let lost = self.lost(txn, at);
                // Aborted: if the client is (or will be) told "committed", that fails now
                // or when it is told, from the flags.
                self.open.remove(&txn);
                lost
            }
            _ => None,
        }
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        if !self.repaired {
            return None;
        }
        let (txn, t) = self.open.iter().find(|(_, t)| t.told.is_some() && !t.waiting.is_empty())?;
        let missing: Vec<String> = t.waiting.iter().map(|&p| name(&self.names, p)).collect();
        Some(format!(
            "{txn}: the client was told it committed at {}, but {} had not committed it by the end",
            t.told.unwrap_or_default(),
            missing.join(", ")
        ))
    }
    fn samples(&self) -> u64 {
        self.acked
    }
    fn summary(&self) -> String {
        let tail = if self.repaired { "" } else { " (unfinished ones not judged: a fault is never repaired)" };
        format!("{} acknowledged commits, each committed at every participant it touched{tail}", self.acked)
    }
}
