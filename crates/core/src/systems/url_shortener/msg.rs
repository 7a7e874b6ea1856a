//! Messages between clients, API servers, the ticket service and KV shards, and the
//! observations clients report to the checks. URLs are numbers (client in the high 32
//! bits, its create count below) so every create names a distinct URL.

use crate::blocks::base62;
use crate::sim::node::Message;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

/// How a redirect ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Resolution {
    Found(u64),
    /// The store answered: no such id.
    Missing,
    /// No answer (shard down, timeout, overload).
    Unavailable,
}

/// How a create ended at an API server.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Created {
    Id(u64),
    /// This server cannot issue ids right now (its clock went back); try another.
    Refused,
    Failed,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Client → API: make a short id for `url`.
    Shorten {
        req: u64,
        url: u64,
    },
    Shortened {
        req: u64,
        result: Created,
    },
    /// Client → API: where does `id` point?
    Resolve {
        req: u64,
        id: u64,
    },
    Resolved {
        req: u64,
        result: Resolution,
    },
    /// API → shard.
    Get {
        op: u64,
        id: u64,
    },
    Put {
        op: u64,
        id: u64,
        url: u64,
    },
    /// Shard → API (`url` is `None` when the id is absent).
    GetReply {
        op: u64,
        url: Option<u64>,
    },
    PutAck {
        op: u64,
    },
    /// Shard → API: the queue is full, the op was not run.
    Busy {
        op: u64,
    },
    /// API → ticket service: hand me a block of ids.
    RangeReq {
        op: u64,
    },
    RangeGrant {
        op: u64,
        start: u64,
        len: u64,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Shorten { url, .. } => format!("shorten u{}.{}", url >> 32, url & 0xffff_ffff),
            Msg::Shortened { result: Created::Id(id), .. } => format!("shortened {}", base62::encode(*id)),
            Msg::Shortened { result, .. } => format!("shortened {result:?}"),
            Msg::Resolve { id, .. } => format!("resolve {}", base62::encode(*id)),
            Msg::Resolved { result, .. } => format!("resolved {result:?}"),
            Msg::Get { id, .. } => format!("GET {}", base62::encode(*id)),
            Msg::Put { id, .. } => format!("PUT {}", base62::encode(*id)),
            Msg::GetReply { url: Some(_), .. } => "GET hit".into(),
            Msg::GetReply { url: None, .. } => "GET miss".into(),
            Msg::PutAck { .. } => "PUT ok".into(),
            Msg::Busy { .. } => "busy".into(),
            Msg::RangeReq { .. } => "range?".into(),
            Msg::RangeGrant { start, len, .. } => format!("range {start}+{len}"),
        }
    }
}

/// What clients tell the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A create succeeded: `api` handed `id` out for `url`.
    Issued { id: u64, url: u64, api: NodeId },
    /// A redirect of an id this client created answered.
    Redirect { id: u64, want: u64, got: Resolution },
    /// A redirect ended (answered, or given up at the client's timeout): when it was sent
    /// and how long it took, both in true time.
    RedirectTimed { sent: SimTime, latency: SimDuration },
}
