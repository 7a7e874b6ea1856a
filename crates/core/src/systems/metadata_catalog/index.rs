//! The search index: an inverted index from words (name parts, columns, tags, domains) to
//! datasets, built by following the catalog's change log. It pulls every `poll_ms`, so it
//! is always a little behind — more when its link to the catalog is slow or it has just
//! restarted and is replaying the log from the start (the index is derived data: a crash
//! loses it).
//!
//! It also follows role changes and answers a query only with datasets the asking user may
//! see *as far as the index knows*. That prefilter is fine as an optimisation; trusting it
//! as the access decision (the `index-acl` strategy) shows a revoked user what they may no
//! longer see until the index catches up.

use super::msg::{Change, DatasetId, Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

const POLL: u64 = 1;

#[derive(Clone, Debug)]
pub struct Index {
    pub catalog: NodeId,
    pub poll_ms: u64,
    /// Volatile (derived from the log).
    pub offset: u64,
    pub words: BTreeMap<String, BTreeSet<DatasetId>>,
    /// Dataset → (domain, its words), to unindex old words.
    pub datasets: BTreeMap<DatasetId, (u8, Vec<String>)>,
    pub grants: BTreeSet<(u32, u8)>,
    pub queries: u64,
}

impl Index {
    pub fn new(catalog: NodeId, poll_ms: u64) -> Index {
        Index {
            catalog,
            poll_ms,
            offset: 0,
            words: BTreeMap::new(),
            datasets: BTreeMap::new(),
            grants: BTreeSet::new(),
            queries: 0,
        }
    }

    fn apply(&mut self, c: Change) {
        match c {
            Change::Dataset { id, domain, terms } => {
                if let Some((_, old)) = self.datasets.get(&id) {
                    for w in old {
                        if let Some(set) = self.words.get_mut(w) {
                            set.remove(&id);
                        }
                    }
                }
                for w in &terms {
                    self.words.entry(w.clone()).or_default().insert(id);
                }
                self.datasets.insert(id, (domain, terms));
            }
            Change::Acl { user, domain, grant: true } => {
                self.grants.insert((user, domain));
            }
            Change::Acl { user, domain, grant: false } => {
                self.grants.remove(&(user, domain));
            }
        }
    }
}

impl Actor for Index {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.send(self.catalog, Msg::Pull { from: self.offset });
        ctx.set_timer(SimDuration::from_ms(self.poll_ms), POLL);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Changes { from, changes } if from == self.offset => {
                self.offset += changes.len() as u64;
                let full = changes.len() >= super::catalog::PULL_BATCH;
                for c in changes {
                    self.apply(c);
                }
                if full {
                    ctx.send(self.catalog, Msg::Pull { from: self.offset });
                }
            }
            Msg::IndexQuery { qid, term, user } => {
                self.queries += 1;
                let datasets = self
                    .words
                    .get(&term)
                    .map(|set| {
                        set.iter()
                            .copied()
                            .filter(|d| {
                                self.datasets.get(d).is_some_and(|(dom, _)| self.grants.contains(&(user, *dom)))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                ctx.send(self.catalog, Msg::IndexHits { qid, datasets });
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == POLL {
            ctx.send(self.catalog, Msg::Pull { from: self.offset });
            ctx.set_timer(SimDuration::from_ms(self.poll_ms), POLL);
        }
    }

    fn on_crash(&mut self) {
        let (catalog, poll_ms) = (self.catalog, self.poll_ms);
        *self = Index::new(catalog, poll_ms);
    }

    fn describe(&self) -> String {
        format!("at change {}, {} words, {} queries", self.offset, self.words.len(), self.queries)
    }
}
