//! The wire: what app servers (clients), cache nodes and the database say to each other,
//! and what nodes report to the checks. Values are write ids (`wid`): every write carries
//! a fresh id, so a read's answer names exactly which write it saw (0 is the initial
//! value), which is what lets the staleness check order writes and reads.
//!
//! With `replicas` > 1 the client names a key's other owners (`copy_to`) in what it sends
//! the first owner; that node then copies every value it stores to them (`Copy`), fire and
//! forget, so replicas lag by one network hop — or by however long a clogged link holds
//! the copy.

use crate::sim::node::Message;
use crate::sim::time::SimTime;
use crate::sim::NodeId;

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Client → cache: read `key`; a read-through owner copies what it loads to `copy_to`.
    /// A `replica` serves what it holds but on a miss takes no lease and loads nothing:
    /// the client asks the first owner instead, so a key is loaded once, not once per copy.
    Get {
        req: u64,
        key: u64,
        copy_to: Vec<NodeId>,
        replica: bool,
    },
    /// Cache → client: the value; `refresh` is a lease token when the client should
    /// recompute the entry in the background (probabilistic early expiry).
    Hit {
        req: u64,
        key: u64,
        val: u64,
        refresh: Option<u64>,
    },
    /// Cache → client: not cached. With a token the client may fill the entry after
    /// reading the database; without one it must not.
    Miss {
        req: u64,
        key: u64,
        token: Option<u64>,
    },
    /// Cache → client: someone is already loading this key; the answer follows.
    Parked {
        req: u64,
    },
    /// Client → cache: store what the database said, under lease `token`, and copy it to
    /// `copy_to`.
    Fill {
        key: u64,
        val: u64,
        token: u64,
        copy_to: Vec<NodeId>,
    },
    /// Client → cache: drop `key` (a write happened).
    Invalidate {
        key: u64,
    },
    /// Client → cache: write through the cache (`back`: acknowledge first, flush later),
    /// then copy the new value to `copy_to`.
    Write {
        req: u64,
        key: u64,
        wid: u64,
        back: bool,
        copy_to: Vec<NodeId>,
    },
    /// First owner → replica: the value it just stored, which the primary serves until
    /// `expires` (its own clock), and when the copy left (true time, for reports only).
    Copy {
        key: u64,
        val: u64,
        expires: SimTime,
        sent: SimTime,
    },
    /// Cache → client: the write is acknowledged.
    Written {
        req: u64,
    },
    /// Cache → clients: I am up (a node joining or coming back).
    Hello,
    Ping,
    Pong,
    /// Anyone → database.
    DbRead {
        id: u64,
        key: u64,
    },
    DbVal {
        id: u64,
        key: u64,
        val: u64,
    },
    DbWrite {
        id: u64,
        key: u64,
        wid: u64,
    },
    DbAck {
        id: u64,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Get { key, .. } => format!("get k{key}"),
            Msg::Hit { key, refresh, .. } => {
                if refresh.is_some() {
                    format!("hit k{key} (refresh)")
                } else {
                    format!("hit k{key}")
                }
            }
            Msg::Miss { key, token, .. } => {
                if token.is_some() {
                    format!("miss k{key} +lease")
                } else {
                    format!("miss k{key}")
                }
            }
            Msg::Parked { .. } => "parked".into(),
            Msg::Fill { key, .. } => format!("fill k{key}"),
            Msg::Invalidate { key } => format!("invalidate k{key}"),
            Msg::Write { key, back, .. } => format!("{} k{key}", if *back { "write-back" } else { "write-through" }),
            Msg::Written { .. } => "written".into(),
            Msg::Copy { key, .. } => format!("copy k{key}"),
            Msg::Hello => "hello".into(),
            Msg::Ping => "ping".into(),
            Msg::Pong => "pong".into(),
            Msg::DbRead { key, .. } => format!("db read k{key}"),
            Msg::DbVal { key, .. } => format!("db value k{key}"),
            Msg::DbWrite { key, .. } => format!("db write k{key}"),
            Msg::DbAck { .. } => "db ack".into(),
        }
    }
}

/// What nodes report to the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A client's membership view changed from `before` to `after` members and `fraction`
    /// of the key universe changed owner.
    Moved {
        what: String,
        before: usize,
        after: usize,
        fraction: f64,
    },
    WriteStart {
        key: u64,
        wid: u64,
    },
    WriteAck {
        key: u64,
        wid: u64,
    },
    /// A read that began at `started` returned `val`, answered by cache member `node`
    /// (`None`: by the database), which was a replica rather than the key's first owner
    /// when `replica` is set.
    Read {
        key: u64,
        val: u64,
        started: SimTime,
        node: Option<u32>,
        replica: bool,
    },
    /// Cache member `node` stored a copy of `key` = `val` that its primary sent at `sent`.
    Copied {
        node: u32,
        key: u64,
        val: u64,
        sent: SimTime,
    },
    /// A query reached the database.
    DbArrival,
    /// The cache tier was disrupted (a timeout, a node back from a crash).
    Disrupted(String),
}
