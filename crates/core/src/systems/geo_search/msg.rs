//! Messages and observations of geo-search. Two conversations: fleets (the phones of the
//! drivers) stream position fixes to the index shards in batches, which the shards
//! acknowledge; clients ask the router for nearby entities, and the router scatters
//! searches to shards and gathers their hits.
//!
//! What the checks need travels as observations made where a fact arises: a fleet reports
//! each fix when the phone takes it (the truth), a shard reports what it holds after each
//! update it applies and what each update cost, and the router reports each query it
//! accepted and the answer it gave. The exactness check rebuilds the world from those and
//! scans it by brute force; it never asks the index.

use crate::blocks::geohash::Cell;
use crate::blocks::haversine::LatLon;
use crate::sim::node::Message;
use std::hash::{Hash, Hasher};

/// A position in a message: `LatLon` with a hash of its bits (floats are not `Hash`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pos(pub LatLon);

impl Hash for Pos {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.lat.to_bits().hash(h);
        self.0.lon.to_bits().hash(h);
    }
}

/// What a client asks.
#[derive(Clone, Copy, Debug, PartialEq, Hash)]
pub enum Ask {
    /// Everything within `radius_m` metres.
    Radius { radius_m: u32 },
    /// The `k` nearest within `max_m` metres.
    Nearest { k: u32, max_m: u32 },
}

/// One query: a point and what to find around it.
#[derive(Clone, Copy, Debug, PartialEq, Hash)]
pub struct Query {
    pub at: Pos,
    pub ask: Ask,
}

impl Query {
    /// The farthest a hit may be, km.
    pub fn reach_km(&self) -> f64 {
        match self.ask {
            Ask::Radius { radius_m } => f64::from(radius_m) / 1_000.0,
            Ask::Nearest { max_m, .. } => f64::from(max_m) / 1_000.0,
        }
    }

    /// How many hits at most (`None`: all within reach).
    pub fn limit(&self) -> Option<usize> {
        match self.ask {
            Ask::Radius { .. } => None,
            Ask::Nearest { k, .. } => Some(k as usize),
        }
    }
}

/// One change to an entity's index entry, stamped with the fix's version.
#[derive(Clone, Copy, Debug, PartialEq, Hash)]
pub enum Op {
    /// The entity is at `Pos` as of this version (this shard owns its cell).
    Put(u64, Pos),
    /// The entity left this shard's cells as of this version.
    Drop(u64),
}

impl Op {
    pub fn version(&self) -> u64 {
        match *self {
            Op::Put(v, _) | Op::Drop(v) => v,
        }
    }
}

/// Where a shard should look.
#[derive(Clone, Debug, PartialEq, Hash)]
pub enum Area {
    /// Everything it holds (linear scan).
    All,
    /// These geohash cells (range scans of its sorted geohash keys).
    Cells(Vec<Cell>),
    /// Its quadtree, pruned by distance.
    Tree,
}

/// A hit from one shard: entity, distance in km, and the fix version it was indexed at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub id: u32,
    pub km: f64,
    pub version: u64,
}

impl Hash for Hit {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.id.hash(h);
        self.km.to_bits().hash(h);
        self.version.hash(h);
    }
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Fleet → shard: changes since the shard last acknowledged them (resent until it does).
    Batch { ops: Vec<(u32, Op)> },
    /// Shard → fleet: these (entity, version) changes are applied.
    BatchAck { applied: Vec<(u32, u64)> },
    /// Client → router.
    Find { id: u64, query: Query },
    /// Router → client: the hits, nearest first; `None` if the router could not answer.
    Found { id: u64, hits: Option<Vec<Hit>> },
    /// Router → shard: one round of a query (`radius_km` may be below the query's reach
    /// while a geohash k-nearest search widens).
    Search { qid: u64, round: u32, at: Pos, radius_km_bits: u64, limit: Option<u32>, area: Area },
    /// Shard → router.
    Hits { qid: u64, round: u32, hits: Vec<Hit> },
    /// Shard → router: the shard's queue is full.
    Busy { qid: u64, round: u32 },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Batch { ops } => format!("{} fixes", ops.len()),
            Msg::BatchAck { applied } => format!("ack {}", applied.len()),
            Msg::Find { id, query } => match query.ask {
                Ask::Radius { radius_m } => format!("q{id} within {radius_m} m"),
                Ask::Nearest { k, .. } => format!("q{id} {k} nearest"),
            },
            Msg::Found { id, hits: Some(h) } => format!("q{id}: {} hits", h.len()),
            Msg::Found { id, hits: None } => format!("q{id}: failed"),
            Msg::Search { qid, round, radius_km_bits, area, .. } => {
                let r = f64::from_bits(*radius_km_bits);
                match area {
                    Area::All => format!("q{qid}.{round} scan {r:.2} km"),
                    Area::Tree => format!("q{qid}.{round} tree {r:.2} km"),
                    Area::Cells(c) => format!("q{qid}.{round} {} cells {r:.2} km", c.len()),
                }
            }
            Msg::Hits { qid, round, hits } => format!("q{qid}.{round}: {} hits", hits.len()),
            Msg::Busy { qid, .. } => format!("q{qid}: busy"),
        }
    }
}

/// What nodes report to the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A phone took fix `version` of entity `id` at `at`: where it truly is now.
    Fix { id: u32, version: u64, at: LatLon },
    /// After applying an update, shard `shard` holds entity `id` at fix `version`
    /// (`live: false`: it holds no entry for it, remembering only the version).
    Held { shard: u16, id: u32, version: u64, live: bool },
    /// Shard `shard` restarted with an empty index (its memory was lost in a crash).
    Wiped { shard: u16 },
    /// Shard `shard` applied `ops` updates at a cost of `steps` index steps.
    UpdateCost { shard: u16, ops: u64, steps: u64 },
    /// The router accepted query `qid`.
    Issued { qid: u64, query: Query },
    /// The router answered query `qid` with these (entity, km) hits, nearest first.
    Answered { qid: u64, hits: Vec<(u32, f64)> },
    /// The router gave up on query `qid` (a shard timed out or was busy).
    GaveUp { qid: u64 },
}
