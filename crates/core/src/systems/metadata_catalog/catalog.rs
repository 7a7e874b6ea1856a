//! The catalog server: tables (metadata files and the current pointer), the schema
//! registry, the role grants, the change log the search index follows, and the front door
//! users come through.
//!
//! Its durable state — tables, schemas, grants, change log — survives a crash; only
//! searches waiting on the index are lost (their users time out).
//!
//! Three rules, each switched off by one naive strategy:
//! - **compare-and-swap** of the pointer: a commit names the metadata version it was built
//!   on, and is refused with `Conflict` unless that is still current (Iceberg's optimistic
//!   concurrency). Without it the pointer is simply overwritten.
//! - **compatibility**: a proposed schema must be compatible, at the configured level and
//!   transitively, with every registered version, or the commit is `Rejected`.
//! - **access at query time**: search hits from the index are filtered with the grants as
//!   they are *now*, not as the index last heard of them.

use super::msg::{Change, DataFile, DatasetId, Msg, Obs, SnapshotId};
use super::table::{Meta, Table, MAX_METAS, MAX_SCHEMAS};
use crate::blocks::avro_schema::{compatible, Compatibility, Schema};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Searches waiting on the index at once; more are refused.
pub const MAX_PENDING: usize = 1_024;
/// Changes sent per pull.
pub const PULL_BATCH: usize = 256;
/// Data files a read returns (the newest).
pub const READ_FILES: usize = 4;
/// Lines of the commit log kept for the view.
const RECENT: usize = 40;

pub const DOMAINS: [&str; 4] = ["sales", "finance", "hr", "ops"];

#[derive(Clone, Debug)]
pub struct CatalogCfg {
    pub cas: bool,
    /// `None`: schemas are registered without any check.
    pub compat: Option<Compatibility>,
    /// Whether search hits are filtered with the current grants.
    pub recheck_acl: bool,
    pub index: NodeId,
    /// Node id of user 0 (users are consecutive).
    pub first_user: NodeId,
}

#[derive(Clone, Debug)]
pub struct Catalog {
    pub cfg: CatalogCfg,
    /// Durable.
    pub tables: Vec<Table>,
    pub grants: BTreeSet<(u32, u8)>,
    pub log: Vec<Change>,
    last_acl_seq: u64,
    /// Volatile: qid → (user node, request id).
    pending: BTreeMap<u64, (NodeId, u64)>,
    next_qid: u64,
    /// For the view.
    pub recent: VecDeque<(f64, String)>,
    pub commits: u64,
    pub conflicts: u64,
    pub rejected: u64,
}

impl Catalog {
    pub fn new(cfg: CatalogCfg, tables: Vec<Table>, grants: BTreeSet<(u32, u8)>) -> Catalog {
        let mut log: Vec<Change> = tables
            .iter()
            .enumerate()
            .map(|(i, t)| Change::Dataset {
                id: i as DatasetId,
                domain: t.domain,
                terms: t.terms(DOMAINS[t.domain as usize]),
            })
            .collect();
        log.extend(grants.iter().map(|&(user, domain)| Change::Acl { user, domain, grant: true }));
        Catalog {
            cfg,
            tables,
            grants,
            log,
            last_acl_seq: 0,
            pending: BTreeMap::new(),
            next_qid: 0,
            recent: VecDeque::new(),
            commits: 0,
            conflicts: 0,
            rejected: 0,
        }
    }

    fn user(&self, node: NodeId) -> u32 {
        node.saturating_sub(self.cfg.first_user)
    }

    fn may_see(&self, user: u32, dataset: DatasetId) -> bool {
        self.tables.get(dataset as usize).is_some_and(|t| self.grants.contains(&(user, t.domain)))
    }

    fn note(&mut self, at: f64, line: String) {
        self.recent.push_back((at, line));
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        from: NodeId,
        d: DatasetId,
        base: Option<u32>,
        snapshot: SnapshotId,
        mut file: DataFile,
        schema: Option<Schema>,
        ctx: &mut Ctx<'_, Msg, Obs>,
    ) {
        let at = ctx.now().as_ms();
        let name = super::msg::snapshot_name(snapshot);
        let Some(t) = self.tables.get(d as usize) else { return };
        if self.cfg.cas && t.on_chain.contains(&snapshot) {
            // A retry of a commit that landed: acknowledge it again, change nothing.
            let meta = t.current.unwrap_or(0);
            ctx.send(from, Msg::Committed { snapshot, meta });
            return;
        }
        if self.cfg.cas && t.current != base {
            self.conflicts += 1;
            let current = t.current;
            ctx.send(from, Msg::Conflict { snapshot, current });
            self.note(at, format!("ds{d}: {name} conflicts (built on m{}, now m{})", opt(base), opt(current)));
            return;
        }
        if t.metas.len() >= MAX_METAS {
            ctx.send(from, Msg::Rejected { snapshot, reason: "table full".into() });
            return;
        }
        if let Some(mut s) = schema {
            let why = if t.schemas.len() >= MAX_SCHEMAS {
                Some("too many schema versions".to_string())
            } else {
                self.cfg.compat.and_then(|level| compatible(level, true, &s, &t.schemas))
            };
            if let Some(reason) = why {
                self.rejected += 1;
                self.note(at, format!("ds{d}: {name} rejected: schema {reason}"));
                ctx.send(from, Msg::Rejected { snapshot, reason });
                return;
            }
            s.version = t.schemas.len() as u32 + 1;
            file.schema.version = s.version;
            ctx.observe(Obs::SchemaRegistered { dataset: d, schema: s.clone() });
            self.note(at, format!("ds{d}: schema v{} registered", s.version));
            let t = &mut self.tables[d as usize];
            t.schemas.push(s);
            let terms = t.terms(DOMAINS[t.domain as usize]);
            self.log.push(Change::Dataset { id: d, domain: t.domain, terms });
        }
        let inputs: Vec<(DatasetId, Option<u32>)> =
            self.tables[d as usize].upstream.iter().map(|&u| (u, self.tables[u as usize].current)).collect();
        let t = &mut self.tables[d as usize];
        let meta = t.metas.len() as u32;
        // The new metadata file's parent is the version the writer built on.
        t.metas.push(Meta { parent: base, snapshot, file: file.clone(), inputs, at_ms: at });
        let overwritten = t.current != base;
        t.current = Some(meta);
        if overwritten {
            t.on_chain = t.chain().iter().map(|&m| t.metas[m as usize].snapshot).collect();
        } else {
            t.on_chain.insert(snapshot);
        }
        self.commits += 1;
        ctx.observe(Obs::FileAdded { dataset: d, file });
        ctx.observe(Obs::Swapped { dataset: d, meta, parent: base, snapshot });
        ctx.send(from, Msg::Committed { snapshot, meta });
        let line = if overwritten {
            format!("ds{d}: {name} → m{meta}, pointer overwritten (built on m{})", opt(base))
        } else {
            format!("ds{d}: {name} → m{meta}")
        };
        self.note(at, line);
    }
}

fn opt(m: Option<u32>) -> i64 {
    m.map_or(-1, i64::from)
}

impl Actor for Catalog {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Load { dataset, probe } => {
                let Some(t) = self.tables.get(dataset as usize) else { return };
                let present = probe.is_some_and(|s| t.on_chain.contains(&s));
                let reply = Msg::Loaded { dataset, meta: t.current, schema: t.latest_schema().clone(), present };
                ctx.send(from, reply);
            }
            Msg::Commit { dataset, base, snapshot, file, schema } => {
                self.commit(from, dataset, base, snapshot, file, schema, ctx)
            }
            Msg::Get { req, dataset } => {
                let user = self.user(from);
                let reply = if self.may_see(user, dataset) {
                    Msg::Results { req, datasets: vec![dataset] }
                } else {
                    Msg::Denied { req }
                };
                ctx.send(from, reply);
            }
            Msg::Read { req, dataset } => {
                let user = self.user(from);
                if !self.may_see(user, dataset) {
                    ctx.send(from, Msg::Denied { req });
                    return;
                }
                let t = &self.tables[dataset as usize];
                let current = t.latest_schema().clone();
                ctx.send(from, Msg::Files { req, dataset, current, files: t.latest_files(READ_FILES) });
            }
            Msg::Search { req, term } => {
                if self.pending.len() >= MAX_PENDING {
                    return;
                }
                let qid = self.next_qid;
                self.next_qid += 1;
                self.pending.insert(qid, (from, req));
                let user = self.user(from);
                ctx.send(self.cfg.index, Msg::IndexQuery { qid, term, user });
            }
            Msg::IndexHits { qid, datasets } => {
                let Some((node, req)) = self.pending.remove(&qid) else { return };
                let user = self.user(node);
                let datasets = if self.cfg.recheck_acl {
                    datasets.into_iter().filter(|&d| self.may_see(user, d)).collect()
                } else {
                    datasets
                };
                ctx.send(node, Msg::Results { req, datasets });
            }
            Msg::Pull { from: offset } => {
                let start = (offset as usize).min(self.log.len());
                let end = (start + PULL_BATCH).min(self.log.len());
                ctx.send(from, Msg::Changes { from: start as u64, changes: self.log[start..end].to_vec() });
            }
            Msg::Acl { seq, user, domain, grant } => {
                // Role changes apply in the admin's order: a delayed duplicate of an older
                // change is acknowledged, never re-applied.
                if seq > self.last_acl_seq {
                    self.last_acl_seq = seq;
                    if grant {
                        self.grants.insert((user, domain));
                    } else {
                        self.grants.remove(&(user, domain));
                    }
                    self.log.push(Change::Acl { user, domain, grant });
                }
                ctx.send(from, Msg::AclAck { seq });
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.pending.clear();
    }

    fn describe(&self) -> String {
        format!("{} commits, {} conflicts, {} rejected", self.commits, self.conflicts, self.rejected)
    }
}
