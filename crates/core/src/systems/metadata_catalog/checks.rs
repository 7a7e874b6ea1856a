//! The three properties, each judged against a record the code under test cannot edit.
//!
//! - `no-lost-update`: every commit a writer was told succeeded is in its table's history.
//!   The writers' own acknowledgements are the record; the history is rebuilt here from the
//!   pointer swaps as the catalog made them (each new metadata file and its parent), by
//!   walking parents back from the pointer — not by asking the catalog whether it used
//!   compare-and-swap. Judged at every swap and every acknowledgement.
//! - `incompatible-schema-rejected`: no data becomes unreadable. Judged by decoding, with
//!   Avro's resolution rules, (a) every file a reader fetched, with the schema that reader
//!   actually used, and (b) when a schema version is registered, the table's latest files
//!   (kept here as they were added) with the new version — readers of a table read old files
//!   with the current schema. The registry's compatibility rule is never consulted.
//! - `no-unauthorized-view`: a user is never shown a dataset whose domain they had no role
//!   for at any moment between sending the request and receiving the answer. The admin's
//!   record is the truth: a grant counts from the instant it was first sent, a revocation
//!   from the instant it was acknowledged (in between, either answer is fair).

use super::msg::{DataFile, DatasetId, MetaId, Obs, SnapshotId};
use crate::blocks::avro_schema::decode;
use crate::check::Property;
use crate::sim::time::SimTime;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Clone, Default)]
struct History {
    /// Metadata file → (parent, snapshot).
    metas: BTreeMap<MetaId, (Option<MetaId>, SnapshotId)>,
    current: Option<MetaId>,
    /// Snapshots on the chain from `current`.
    chain: BTreeSet<SnapshotId>,
    acked: BTreeSet<SnapshotId>,
}

impl History {
    fn rebuild(&mut self) {
        self.chain.clear();
        let mut at = self.current;
        while let Some(m) = at {
            let Some(&(parent, snap)) = self.metas.get(&m) else { break };
            self.chain.insert(snap);
            at = parent;
        }
    }
}

#[derive(Clone, Default)]
pub struct NoLostUpdate {
    tables: BTreeMap<DatasetId, History>,
    samples: u64,
}

impl Property<Obs> for NoLostUpdate {
    fn name(&self) -> &'static str {
        "no-lost-update"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Swapped { dataset, meta, parent, snapshot } => {
                let h = self.tables.entry(dataset).or_default();
                h.metas.insert(meta, (parent, snapshot));
                let extends = parent == h.current;
                h.current = Some(meta);
                if extends {
                    h.chain.insert(snapshot);
                } else {
                    h.rebuild();
                }
                let lost: Vec<String> =
                    h.acked.iter().filter(|s| !h.chain.contains(s)).map(|&s| super::msg::snapshot_name(s)).collect();
                (!lost.is_empty()).then(|| {
                    format!(
                        "ds{dataset}: the pointer moved to m{meta} (built on m{}), and acknowledged commit {} is no longer in the history",
                        parent.map_or(-1, i64::from),
                        lost.join(", ")
                    )
                })
            }
            Obs::Acked { dataset, snapshot } => {
                self.samples += 1;
                let h = self.tables.entry(dataset).or_default();
                h.acked.insert(snapshot);
                (!h.chain.contains(&snapshot)).then(|| {
                    format!(
                        "ds{dataset}: commit {} was acknowledged but is not in the history from m{}",
                        super::msg::snapshot_name(snapshot),
                        h.current.map_or(-1, i64::from)
                    )
                })
            }
            _ => None,
        }
    }

    fn samples(&self) -> u64 {
        self.samples
    }

    fn summary(&self) -> String {
        let chain: usize = self.tables.values().map(|h| h.chain.len()).sum();
        format!("{} acknowledged commits, all in their tables' histories ({chain} snapshots)", self.samples)
    }
}

/// Files kept per table to decode against each new schema version.
pub const FILES_KEPT: usize = 8;

#[derive(Clone, Default)]
pub struct SchemaRejected {
    files: BTreeMap<DatasetId, VecDeque<DataFile>>,
    samples: u64,
}

impl Property<Obs> for SchemaRejected {
    fn name(&self) -> &'static str {
        "incompatible-schema-rejected"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::FileAdded { dataset, file } => {
                let q = self.files.entry(*dataset).or_default();
                q.push_back(file.clone());
                if q.len() > FILES_KEPT {
                    q.pop_front();
                }
                None
            }
            Obs::SchemaRegistered { dataset, schema } => {
                let q = self.files.get(dataset)?;
                for f in q {
                    self.samples += 1;
                    if let Some(e) = f.records.iter().find_map(|r| decode(schema, &f.schema, r).err()) {
                        return Some(format!(
                            "ds{dataset}: schema v{} was registered, and a file written with v{} no longer decodes with it: {e}",
                            schema.version, f.schema.version
                        ));
                    }
                }
                None
            }
            Obs::Decoded { dataset, writer, reader, error } => {
                self.samples += 1;
                error.as_ref().map(|e| {
                    format!("ds{dataset}: a reader using schema v{reader} could not decode a file written with v{writer}: {e}")
                })
            }
            _ => None,
        }
    }

    fn samples(&self) -> u64 {
        self.samples
    }

    fn summary(&self) -> String {
        format!("{} data files decoded with newer or older schemas, all readable", self.samples)
    }
}

#[derive(Clone)]
pub struct NoUnauthorizedView {
    domain_of: Vec<u8>,
    /// (user, domain) → intervals in which the user may hold the role: [from, until).
    access: BTreeMap<(u32, u8), Vec<(SimTime, SimTime)>>,
    samples: u64,
}

impl NoUnauthorizedView {
    pub fn new(domain_of: Vec<u8>, initial: &BTreeSet<(u32, u8)>) -> NoUnauthorizedView {
        let access = initial.iter().map(|&k| (k, vec![(SimTime::ZERO, SimTime::MAX)])).collect();
        NoUnauthorizedView { domain_of, access, samples: 0 }
    }

    fn allowed(&self, user: u32, domain: u8, from: SimTime, to: SimTime) -> bool {
        self.access.get(&(user, domain)).is_some_and(|v| v.iter().any(|&(a, b)| a <= to && b > from))
    }
}

impl Property<Obs> for NoUnauthorizedView {
    fn name(&self) -> &'static str {
        "no-unauthorized-view"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::AclSent { user, domain, grant: true } => {
                let v = self.access.entry((*user, *domain)).or_default();
                if v.last().is_none_or(|l| l.1 != SimTime::MAX) {
                    v.push((at, SimTime::MAX));
                }
                None
            }
            Obs::AclAcked { user, domain, grant: false } => {
                if let Some(l) = self.access.get_mut(&(*user, *domain)).and_then(|v| v.last_mut()) {
                    if l.1 == SimTime::MAX {
                        l.1 = at;
                    }
                }
                None
            }
            Obs::Seen { user, sent, datasets } => {
                for &d in datasets {
                    self.samples += 1;
                    let Some(&domain) = self.domain_of.get(d as usize) else { continue };
                    if !self.allowed(*user, domain, *sent, at) {
                        return Some(format!(
                            "user {user} was shown ds{d} (domain {}) in answer to a request sent at {:.1} ms, holding no role for that domain from then on",
                            super::catalog::DOMAINS[domain as usize],
                            sent.as_ms()
                        ));
                    }
                }
                None
            }
            _ => None,
        }
    }

    fn samples(&self) -> u64 {
        self.samples
    }

    fn summary(&self) -> String {
        format!("{} datasets shown to users, each within a role the admin had granted", self.samples)
    }
}
