//! The four safety properties of Raft's Figure 3 (Ongaro & Ousterhout, "In Search of an
//! Understandable Consensus Algorithm", USENIX ATC 2014), judged over every replica of a
//! cluster after every step. A system whose actors embed [`Raft`] calls
//! [`RaftInvariants::check`] with all its replicas (crashed ones included: their durable
//! state still counts) after each kernel event, and [`RaftInvariants::applied`] for every
//! `Effect::Apply` it executes.
//!
//! Each property is judged against a record the checker keeps itself, never by re-running
//! a rule the replicas enforce:
//! - **Election Safety** (§5.2): at most one leader per term. The record is every
//!   leadership claim ever seen (term → node), so a leader that has since stepped down or
//!   crashed still counts.
//! - **Log Matching** (§5.3): if two logs hold an entry with the same index and term, they
//!   are identical up to it. Judged pairwise on the logs as they are now.
//! - **Leader Completeness** (§5.4): an entry committed in some term is in the log of every
//!   leader of a later term. The record is every entry any replica ever declared committed
//!   (with the term that replica was in), kept after the replicas compact or crash.
//! - **State Machine Safety** (§5.4.3): no two replicas apply different entries at one
//!   index. The record is the full applied history: the first entry applied at each index,
//!   by any replica in any incarnation; every later application must match it. Commits
//!   are held to the same record (two replicas committing different entries at one index
//!   is the same failure one step earlier).

use super::log::Entry;
use super::node::{Data, Raft, Role};
use crate::sim::NodeId;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invariant {
    ElectionSafety,
    LogMatching,
    LeaderCompleteness,
    StateMachineSafety,
}

impl Invariant {
    /// The property's name and section in the 2014 paper.
    pub fn title(self) -> &'static str {
        match self {
            Invariant::ElectionSafety => "Election Safety (§5.2)",
            Invariant::LogMatching => "Log Matching (§5.3)",
            Invariant::LeaderCompleteness => "Leader Completeness (§5.4)",
            Invariant::StateMachineSafety => "State Machine Safety (§5.4.3)",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    pub invariant: Invariant,
    pub detail: String,
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.invariant.title(), self.detail)
    }
}

fn breach(invariant: Invariant, detail: String) -> Result<(), Breach> {
    Err(Breach { invariant, detail })
}

#[derive(Clone, Debug)]
pub struct RaftInvariants<C> {
    /// Every leadership claim seen: term → node.
    leaders: BTreeMap<u64, NodeId>,
    /// Every entry declared committed: index → (entry, node, that node's term then).
    committed: BTreeMap<u64, (Entry<C>, NodeId, u64)>,
    /// The first entry applied at each index, and by whom.
    applied: BTreeMap<u64, (Entry<C>, NodeId)>,
    /// Each node's commit index at the last check.
    seen_commit: BTreeMap<NodeId, u64>,
    pub checks: u64,
    pub applies: u64,
}

impl<C> Default for RaftInvariants<C> {
    fn default() -> Self {
        RaftInvariants {
            leaders: BTreeMap::new(),
            committed: BTreeMap::new(),
            applied: BTreeMap::new(),
            seen_commit: BTreeMap::new(),
            checks: 0,
            applies: 0,
        }
    }
}

impl<C: Data + PartialEq> RaftInvariants<C> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Terms that had a leader so far.
    pub fn terms_with_leader(&self) -> usize {
        self.leaders.len()
    }

    /// How many indices some replica has applied.
    pub fn applied_indices(&self) -> usize {
        self.applied.len()
    }

    /// The first entry any replica applied at `index` (the applied history).
    pub fn applied_entry(&self, index: u64) -> Option<&Entry<C>> {
        self.applied.get(&index).map(|(e, _)| e)
    }

    /// `node` applied `entry` at `index` (from an `Effect::Apply`).
    pub fn applied(&mut self, node: NodeId, index: u64, entry: &Entry<C>) -> Result<(), Breach> {
        self.applies += 1;
        match self.applied.get(&index) {
            Some((first, by)) if first != entry => breach(
                Invariant::StateMachineSafety,
                format!("node {node} applied {entry:?} at index {index}, node {by} applied {first:?} there"),
            ),
            Some(_) => Ok(()),
            None => {
                self.applied.insert(index, (entry.clone(), node));
                Ok(())
            }
        }
    }

    /// Judges all four properties on the replicas as they are now, after recording what
    /// they claim.
    pub fn check<S: Data>(&mut self, nodes: &[&Raft<C, S>]) -> Result<(), Breach> {
        self.checks += 1;
        for n in nodes {
            self.record(n)?;
        }
        for (i, a) in nodes.iter().enumerate() {
            for b in &nodes[i + 1..] {
                log_matching(a, b)?;
            }
            if a.role == Role::Leader {
                self.leader_complete(a)?;
            }
        }
        Ok(())
    }

    fn record<S: Data>(&mut self, n: &Raft<C, S>) -> Result<(), Breach> {
        if n.role == Role::Leader {
            match self.leaders.get(&n.term) {
                Some(&other) if other != n.id => {
                    return breach(
                        Invariant::ElectionSafety,
                        format!("nodes {other} and {} both led term {}", n.id, n.term),
                    )
                }
                _ => {
                    self.leaders.insert(n.term, n.id);
                }
            }
        }
        let seen = self.seen_commit.get(&n.id).copied().unwrap_or(0);
        let from = seen.max(n.log.start()) + 1;
        for index in from..=n.commit {
            let Some(e) = n.log.get(index) else { break };
            match self.committed.get(&index) {
                Some((first, by, _)) if first != e => {
                    return breach(
                        Invariant::StateMachineSafety,
                        format!("node {} committed {e:?} at index {index}, node {by} committed {first:?}", n.id),
                    )
                }
                Some(_) => {}
                None => {
                    self.committed.insert(index, (e.clone(), n.id, n.term));
                }
            }
        }
        self.seen_commit.insert(n.id, n.commit);
        Ok(())
    }

    fn leader_complete<S: Data>(&self, leader: &Raft<C, S>) -> Result<(), Breach> {
        let start = leader.log.start();
        for (&index, (e, by, term)) in self.committed.range(start..) {
            if *term >= leader.term {
                continue;
            }
            let has = if index == start {
                leader.log.term_at(start) == Some(e.term)
            } else {
                leader.log.get(index) == Some(e)
            };
            if !has {
                return breach(
                    Invariant::LeaderCompleteness,
                    format!(
                        "leader {} of term {} lacks {e:?} at index {index}, committed by node {by} in term {term}",
                        leader.id, leader.term
                    ),
                );
            }
        }
        Ok(())
    }
}

/// Log Matching between two replicas: at the highest index where both hold an entry of
/// the same term, every entry both hold up to there must be equal.
fn log_matching<C: Data + PartialEq, S: Data>(a: &Raft<C, S>, b: &Raft<C, S>) -> Result<(), Breach> {
    let lo = a.log.start().max(b.log.start()) + 1;
    let hi = a.log.last_index().min(b.log.last_index());
    let Some(top) = (lo..=hi).rev().find(|&i| a.log.term_at(i) == b.log.term_at(i)) else {
        return Ok(());
    };
    for i in lo..=top {
        if a.log.get(i) != b.log.get(i) {
            return breach(
                Invariant::LogMatching,
                format!(
                    "nodes {} and {} agree on index {top} (term {:?}) but differ at {i}: {:?} vs {:?}",
                    a.id,
                    b.id,
                    a.log.term_at(top),
                    a.log.get(i),
                    b.log.get(i)
                ),
            );
        }
    }
    Ok(())
}
