//! Messages and observations of the metadata catalog.
//!
//! Writers load a table's current metadata, write a data file and commit a new metadata
//! version on top of the one they loaded; users search, get and read datasets; an admin
//! grants and revokes roles; the search index pulls the catalog's change log. Observations
//! are the records the checks judge by: pointer swaps as the catalog makes them, each
//! writer's own acknowledgements, decodes as readers ran them, results as users received
//! them, and the admin's own record of grants and revocations.

use crate::blocks::avro_schema::{Schema, Value};
use crate::sim::node::Message;
use crate::sim::time::SimTime;

pub type DatasetId = u32;
/// A snapshot's id: the writer's index in the high half, its own counter in the low half.
pub type SnapshotId = u64;
/// A metadata file: its index in the table's list of metadata files.
pub type MetaId = u32;

pub fn snapshot_name(s: SnapshotId) -> String {
    format!("w{}#{}", s >> 32, s & 0xffff_ffff)
}

/// A data file: the schema version it was written with, its partition (a day), and a few
/// records (one value per field of that schema).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct DataFile {
    pub schema: Schema,
    pub partition: u32,
    pub records: Vec<Vec<Value>>,
}

/// One entry of the catalog's change log, which the search index follows.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Change {
    /// A dataset's searchable terms (name parts, columns, tags) as of now.
    Dataset { id: DatasetId, domain: u8, terms: Vec<String> },
    /// A role granted (`grant`) or revoked.
    Acl { user: u32, domain: u8, grant: bool },
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Writer → catalog: the current metadata; `probe` asks whether a snapshot is in it.
    Load {
        dataset: DatasetId,
        probe: Option<SnapshotId>,
    },
    Loaded {
        dataset: DatasetId,
        meta: Option<MetaId>,
        schema: Schema,
        present: bool,
    },
    /// Writer → catalog: swap the pointer from `base` to a new metadata file holding `file`
    /// (and `schema`, a proposed new schema version).
    Commit {
        dataset: DatasetId,
        base: Option<MetaId>,
        snapshot: SnapshotId,
        file: DataFile,
        schema: Option<Schema>,
    },
    Committed {
        snapshot: SnapshotId,
        meta: MetaId,
    },
    Conflict {
        snapshot: SnapshotId,
        current: Option<MetaId>,
    },
    Rejected {
        snapshot: SnapshotId,
        reason: String,
    },
    /// User → catalog.
    Search {
        req: u64,
        term: String,
    },
    Get {
        req: u64,
        dataset: DatasetId,
    },
    Read {
        req: u64,
        dataset: DatasetId,
    },
    /// Catalog → user: datasets visible to the user.
    Results {
        req: u64,
        datasets: Vec<DatasetId>,
    },
    Denied {
        req: u64,
    },
    /// Catalog → user: the table's current schema and its latest data files.
    Files {
        req: u64,
        dataset: DatasetId,
        current: Schema,
        files: Vec<DataFile>,
    },
    /// Catalog ↔ search index.
    IndexQuery {
        qid: u64,
        term: String,
        user: u32,
    },
    IndexHits {
        qid: u64,
        datasets: Vec<DatasetId>,
    },
    Pull {
        from: u64,
    },
    Changes {
        from: u64,
        changes: Vec<Change>,
    },
    /// Admin → catalog: role change number `seq`.
    Acl {
        seq: u64,
        user: u32,
        domain: u8,
        grant: bool,
    },
    AclAck {
        seq: u64,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Load { dataset, probe: None } => format!("load ds{dataset}"),
            Msg::Load { dataset, probe: Some(s) } => format!("load ds{dataset}, has {}?", snapshot_name(*s)),
            Msg::Loaded { dataset, meta, present, .. } => {
                format!("ds{dataset} @ m{}{}", meta.map_or(-1, i64::from), if *present { " (has it)" } else { "" })
            }
            Msg::Commit { dataset, base, snapshot, schema, .. } => format!(
                "commit {} on ds{dataset} @ m{}{}",
                snapshot_name(*snapshot),
                base.map_or(-1, i64::from),
                if schema.is_some() { " + schema" } else { "" }
            ),
            Msg::Committed { snapshot, meta } => format!("{} → m{meta}", snapshot_name(*snapshot)),
            Msg::Conflict { snapshot, current } => {
                format!("conflict {} (now m{})", snapshot_name(*snapshot), current.map_or(-1, i64::from))
            }
            Msg::Rejected { snapshot, reason } => format!("rejected {}: {reason}", snapshot_name(*snapshot)),
            Msg::Search { req, term } => format!("search #{req} {term:?}"),
            Msg::Get { req, dataset } => format!("get #{req} ds{dataset}"),
            Msg::Read { req, dataset } => format!("read #{req} ds{dataset}"),
            Msg::Results { req, datasets } => format!("#{req}: {} datasets", datasets.len()),
            Msg::Denied { req } => format!("#{req}: denied"),
            Msg::Files { req, files, .. } => format!("#{req}: {} files", files.len()),
            Msg::IndexQuery { qid, term, .. } => format!("query q{qid} {term:?}"),
            Msg::IndexHits { qid, datasets } => format!("q{qid}: {} hits", datasets.len()),
            Msg::Pull { from } => format!("pull from {from}"),
            Msg::Changes { from, changes } => format!("changes {from}..{}", from + changes.len() as u64),
            Msg::Acl { seq, user, domain, grant } => {
                format!("acl #{seq} {} u{user} d{domain}", if *grant { "grant" } else { "revoke" })
            }
            Msg::AclAck { seq } => format!("acl #{seq} ok"),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Obs {
    /// The catalog moved a table's pointer to `meta`, whose parent is `parent` and which
    /// adds `snapshot`.
    Swapped {
        dataset: DatasetId,
        meta: MetaId,
        parent: Option<MetaId>,
        snapshot: SnapshotId,
    },
    /// A writer received the acknowledgement of its commit.
    Acked {
        dataset: DatasetId,
        snapshot: SnapshotId,
    },
    /// The catalog accepted a data file into a table (the check keeps the latest few).
    FileAdded {
        dataset: DatasetId,
        file: DataFile,
    },
    /// The catalog registered a new schema version for a table.
    SchemaRegistered {
        dataset: DatasetId,
        schema: Schema,
    },
    /// A reader decoded a data file written with `writer` using `reader`.
    Decoded {
        dataset: DatasetId,
        writer: u32,
        reader: u32,
        error: Option<String>,
    },
    /// A user received datasets in answer to a request it sent at `sent`.
    Seen {
        user: u32,
        sent: SimTime,
        datasets: Vec<DatasetId>,
    },
    /// The admin sent a role change (first attempt) / received its acknowledgement.
    AclSent {
        user: u32,
        domain: u8,
        grant: bool,
    },
    AclAcked {
        user: u32,
        domain: u8,
        grant: bool,
    },
}
