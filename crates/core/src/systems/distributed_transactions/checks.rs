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

use super::msg::{Obs, TxnId};
use super::outages::{longest_clear, Windows};
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

fn name(names: &[String], id: NodeId) -> String {
    names.get(id as usize).cloned().unwrap_or_else(|| format!("#{id}"))
}

/// First commit and first abort seen for one transaction.
#[derive(Clone, Default)]
struct Verdicts {
    commit: Option<(NodeId, SimTime)>,
    abort: Option<(NodeId, SimTime)>,
}

#[derive(Clone, Default)]
pub struct Atomicity {
    seen: BTreeMap<TxnId, Verdicts>,
    decisions: u64,
    names: Vec<String>,
}

impl Atomicity {
    pub fn new(names: Vec<String>) -> Atomicity {
        Atomicity { names, ..Atomicity::default() }
    }
}

impl Property<Obs> for Atomicity {
    fn name(&self) -> &'static str {
        "atomicity"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Decided { txn, participant, commit } = *obs else { return None };
        self.decisions += 1;
        let v = self.seen.entry(txn).or_default();
        let slot = if commit { &mut v.commit } else { &mut v.abort };
        let fresh = slot.is_none();
        slot.get_or_insert((participant, at));
        match (fresh, v.commit, v.abort) {
            (true, Some((c, ct)), Some((a, abt))) => Some(format!(
                "{txn}: {} committed at {ct} but {} aborted at {abt}",
                name(&self.names, c),
                name(&self.names, a)
            )),
            _ => None,
        }
    }
    fn samples(&self) -> u64 {
        self.decisions
    }
    fn summary(&self) -> String {
        format!("{} participant decisions over {} transactions, all agreeing", self.decisions, self.seen.len())
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

#[derive(Clone)]
pub struct Durability {
    touched: BTreeMap<TxnId, Vec<NodeId>>,
    /// Told committed: when.
    acked: BTreeMap<TxnId, SimTime>,
    committed_at: BTreeMap<TxnId, BTreeSet<NodeId>>,
    aborted_by: BTreeMap<TxnId, (NodeId, SimTime)>,
    /// Whether the plan repairs every fault (else unfinished commits are not judged).
    repaired: bool,
    names: Vec<String>,
}

impl Durability {
    pub fn new(repaired: bool, names: Vec<String>) -> Durability {
        Durability {
            touched: BTreeMap::new(),
            acked: BTreeMap::new(),
            committed_at: BTreeMap::new(),
            aborted_by: BTreeMap::new(),
            repaired,
            names,
        }
    }

    fn lost(&self, txn: TxnId) -> Option<String> {
        let told = self.acked.get(&txn)?;
        let &(p, at) = self.aborted_by.get(&txn)?;
        Some(format!(
            "{txn}: the client was told it committed at {told}, but {} aborted it at {at}",
            name(&self.names, p)
        ))
    }
}

impl Property<Obs> for Durability {
    fn name(&self) -> &'static str {
        "durability"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Submitted { txn, participants } => {
                self.touched.insert(*txn, participants.clone());
                None
            }
            Obs::Acked { txn, committed: true } => {
                self.acked.entry(*txn).or_insert(at);
                self.lost(*txn)
            }
            Obs::Decided { txn, participant, commit: true } => {
                self.committed_at.entry(*txn).or_default().insert(*participant);
                None
            }
            Obs::Decided { txn, participant, commit: false } => {
                self.aborted_by.entry(*txn).or_insert((*participant, at));
                self.lost(*txn)
            }
            _ => None,
        }
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        if !self.repaired {
            return None;
        }
        for (txn, told) in &self.acked {
            let done = self.committed_at.get(txn);
            let missing: Vec<String> = self
                .touched
                .get(txn)
                .into_iter()
                .flatten()
                .filter(|p| !done.is_some_and(|d| d.contains(p)))
                .map(|&p| name(&self.names, p))
                .collect();
            if !missing.is_empty() {
                return Some(format!(
                    "{txn}: the client was told it committed at {told}, but {} had not committed it by the end",
                    missing.join(", ")
                ));
            }
        }
        None
    }
    fn samples(&self) -> u64 {
        self.acked.len() as u64
    }
    fn summary(&self) -> String {
        let tail = if self.repaired { "" } else { " (unfinished ones not judged: a fault is never repaired)" };
        format!("{} acknowledged commits, each committed at every participant it touched{tail}", self.acked.len())
    }
}
