//! Messages and observations of the object store. Three conversations: the client with
//! the front end's S3-like API (put, get, and their answers), the front end with the
//! storage nodes (store a replica or shard, fetch one, copy one elsewhere for repair), and
//! the storage nodes' heartbeats to the front end's failure detector.
//!
//! What the checks need travels as observations reported where the fact arises: the
//! client reports each put it issued (with its bytes) and each answer it got, in true
//! time; a storage node reports every replica or shard it wrote to its disk. No check
//! reads the front end's metadata: that is the code under test.

use crate::sim::node::Message;
use crate::sim::rng::mix64;
use crate::sim::NodeId;

pub type Key = u64;
pub type Version = u64;

/// A stable 64-bit digest of some bytes (for observations and views; not a security
/// hash).
pub fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(mix64(bytes.len() as u64), |h, &b| mix64(h ^ u64::from(b)))
}

/// The request id a client writes into the first 8 bytes of every object it puts, so a
/// read names the put whose bytes it returned.
pub fn req_of(data: &[u8]) -> Option<u64> {
    data.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Client → front end: store `data` as a new version of `key`.
    Put { req: u64, key: Key, data: Vec<u8> },
    /// Front end → client: the put is durable by the design's rule (W copies, all shards).
    PutAck { req: u64, key: Key, version: Version },
    /// Front end → client: the put was refused (no placement, too many writes pending).
    PutFail { req: u64 },
    /// Client → front end.
    Get { req: u64, key: Key },
    /// Front end → client: the newest version the read found, or `None` (no such key).
    GetReply { req: u64, key: Key, found: Option<(Version, Vec<u8>)> },
    /// Front end → client: not enough replicas or shards answered in time.
    GetFail { req: u64 },
    /// → storage: write replica or shard `slot` of (key, version). A primary that gets
    /// `forward` copies it there later (the lazy-replication design).
    Store { key: Key, version: Version, slot: u8, data: Vec<u8>, forward: Vec<NodeId> },
    /// Storage → front end: (key, version, slot) is on my disk.
    Stored { key: Key, version: Version, slot: u8 },
    /// Front end → storage: send me your replica or shard of `version` (or of the newest
    /// version you hold, for a replica read) for operation `op`.
    Fetch { op: u64, key: Key, version: Option<Version> },
    /// Storage → front end: the version, the slot it holds, and the bytes.
    FetchReply { op: u64, key: Key, found: Option<(Version, u8, Vec<u8>)> },
    /// Front end → a holder: copy your (key, version) to `to` as slot `slot` (repair).
    CopyTo { key: Key, version: Version, slot: u8, to: NodeId },
    /// Storage → front end, every heartbeat interval.
    Heartbeat,
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Put { req, key, data } => format!("put k{key} ({} B) #{req}", data.len()),
            Msg::PutAck { key, version, .. } => format!("ack k{key} v{version}"),
            Msg::PutFail { req } => format!("put #{req} failed"),
            Msg::Get { req, key } => format!("get k{key} #{req}"),
            Msg::GetReply { key, found: Some((v, _)), .. } => format!("k{key} = v{v}"),
            Msg::GetReply { key, found: None, .. } => format!("k{key} not found"),
            Msg::GetFail { req } => format!("get #{req} failed"),
            Msg::Store { key, version, slot, forward, .. } if forward.is_empty() => {
                format!("store k{key} v{version} #{slot}")
            }
            Msg::Store { key, version, slot, forward, .. } => {
                format!("store k{key} v{version} #{slot} (+{} later)", forward.len())
            }
            Msg::Stored { key, version, slot } => format!("stored k{key} v{version} #{slot}"),
            Msg::Fetch { key, version: Some(v), .. } => format!("fetch k{key} v{v}"),
            Msg::Fetch { key, version: None, .. } => format!("fetch k{key} newest"),
            Msg::FetchReply { key, found: Some((v, slot, _)), .. } => format!("k{key} v{v} #{slot}"),
            Msg::FetchReply { key, found: None, .. } => format!("k{key} none"),
            Msg::CopyTo { key, version, to, .. } => format!("copy k{key} v{version} → n{to}"),
            Msg::Heartbeat => "♥".into(),
        }
    }
}

/// What nodes report to the checks (the kernel stamps each with its true time).
#[derive(Clone, Debug)]
pub enum Obs {
    /// The client sent put `req` of these bytes for `key`.
    PutIssued { req: u64, key: Key, data: Vec<u8> },
    /// The client received the acknowledgement of put `req`: version `version` of `key`.
    PutAcked { req: u64, key: Key, version: Version },
    /// The client received a read of `key` it had sent at true time `sent_us`: the version
    /// and bytes' digest and embedded request id, or `None` for "not found".
    ReadDone { key: Key, sent_us: u64, found: Option<(Version, u64, Option<u64>)> },
    /// Storage node `node` wrote slot `slot` of (key, version), bytes with this digest.
    Stored { node: NodeId, key: Key, version: Version, slot: u8, digest: u64 },
}
