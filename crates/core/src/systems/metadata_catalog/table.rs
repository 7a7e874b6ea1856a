//! One table as the catalog stores it, the way Apache Iceberg lays a table out: an
//! immutable *metadata file* per version (its parent, the snapshot it adds, the data file
//! that snapshot appends, the schema it was written with, the upstream versions it read),
//! and one mutable thing, the pointer to the current metadata file. A commit writes a new
//! metadata file and swaps the pointer; the table's history is the chain of parents from
//! the pointer back. A swap that ignores what the pointer moved to since the writer loaded
//! it leaves the commits in between off the chain: they are still on disk, but no reader
//! will ever find them.
//!
//! The schema registry is kept per table (one subject per table), versions 1, 2, ….

use super::msg::{DataFile, DatasetId, MetaId, SnapshotId};
use crate::blocks::avro_schema::Schema;
use std::collections::BTreeSet;

/// Metadata files kept per table; a commit past this is refused (bounds the heaviest run).
pub const MAX_METAS: usize = 4_096;
/// Schema versions kept per table; a change past this is refused.
pub const MAX_SCHEMAS: usize = 64;

#[derive(Clone, Debug)]
pub struct Meta {
    pub parent: Option<MetaId>,
    pub snapshot: SnapshotId,
    pub file: DataFile,
    /// The upstream tables' current metadata when this version was committed (lineage).
    pub inputs: Vec<(DatasetId, Option<MetaId>)>,
    pub at_ms: f64,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub domain: u8,
    pub tags: Vec<&'static str>,
    pub upstream: Vec<DatasetId>,
    pub metas: Vec<Meta>,
    pub current: Option<MetaId>,
    pub schemas: Vec<Schema>,
    /// The snapshots on the current chain, kept when commits only extend the chain.
    pub on_chain: BTreeSet<SnapshotId>,
}

impl Table {
    pub fn latest_schema(&self) -> &Schema {
        self.schemas.last().expect("a table starts with schema v1")
    }

    pub fn schema(&self, version: u32) -> Option<&Schema> {
        self.schemas.get(version.checked_sub(1)? as usize)
    }

    /// The metadata files from the pointer back to the first (newest first).
    pub fn chain(&self) -> Vec<MetaId> {
        let mut out = Vec::new();
        let mut at = self.current;
        while let Some(m) = at {
            out.push(m);
            at = self.metas[m as usize].parent;
        }
        out
    }

    /// Whether `snapshot` is in the table's history (walks the chain).
    pub fn has(&self, snapshot: SnapshotId) -> bool {
        self.chain().iter().any(|&m| self.metas[m as usize].snapshot == snapshot)
    }

    /// The newest `n` data files a reader of the current version sees.
    pub fn latest_files(&self, n: usize) -> Vec<DataFile> {
        let mut out = Vec::new();
        let mut at = self.current;
        while let Some(m) = at.filter(|_| out.len() < n) {
            out.push(self.metas[m as usize].file.clone());
            at = self.metas[m as usize].parent;
        }
        out
    }

    /// Distinct partitions (days) in the current version.
    pub fn partitions(&self) -> BTreeSet<u32> {
        self.chain().iter().map(|&m| self.metas[m as usize].file.partition).collect()
    }

    /// What the search index should know: name parts, columns (of every schema version,
    /// so old names still find the table), tags, domain.
    pub fn terms(&self, domain_name: &str) -> Vec<String> {
        let mut t: BTreeSet<String> = self.name.split(['.', '_']).map(String::from).collect();
        t.insert(domain_name.to_string());
        for s in &self.schemas {
            for f in &s.fields {
                t.insert(f.name.clone());
            }
        }
        for tag in &self.tags {
            t.insert((*tag).to_string());
        }
        t.into_iter().collect()
    }
}
