//! Messages between clients, gateways and the store, and what nodes report to the checks.
//! The store speaks a tiny Redis-like protocol: plain commands (`INCR`, `EXPIRE`, `GET`,
//! `SET`) for the naive strategies, one atomic script call (`EVAL`, a Lua script in real
//! Redis) for the robust ones, a quota lease for local-sync and a count exchange for
//! local-periodic-sync. Replies a gateway waits on say how long the command sat in the
//! store's queue, and a store whose queue is full answers `BUSY` at once.

use crate::sim::node::Message;
use crate::sim::NodeId;

/// What a gateway answers a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Passed the limiter (HTTP 200 from the API behind it).
    Allowed,
    /// Over the limit (HTTP 429).
    Limited,
    /// The limiter could not decide: store unreachable and failing closed (HTTP 503).
    Unavailable,
    /// The store refused the command because its queue was full, and the gateway fails
    /// closed (HTTP 503 too, but the store was up: it was busy with other callers' work).
    Busy,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Client → gateway: one API call on behalf of `key`.
    Req {
        id: u64,
        key: u32,
    },
    /// Gateway → client.
    Resp {
        id: u64,
        verdict: Verdict,
    },
    /// Gateway → store: `INCR key` (fixed window, naive).
    Incr {
        op: u64,
        key: u32,
    },
    IncrReply {
        op: u64,
        count: u64,
        queued_us: u64,
    },
    /// Gateway → store: `EXPIRE key ttl`, sent only when `INCR` returned 1.
    Expire {
        key: u32,
        ttl_ms: u64,
    },
    /// Gateway → store: `GET key:window` (get-then-set, naive).
    Get {
        op: u64,
        key: u32,
        window: u64,
    },
    GetReply {
        op: u64,
        value: u64,
        queued_us: u64,
    },
    /// Gateway → store: `SET key:window value` (no reply awaited).
    Set {
        key: u32,
        window: u64,
        value: u64,
    },
    /// Gateway → store: run the limiter script atomically for `key`.
    Eval {
        op: u64,
        key: u32,
    },
    /// `retry_us`: when refused, how long until the key could be admitted again — the
    /// gateway refuses it locally until then instead of asking again.
    EvalReply {
        op: u64,
        allowed: bool,
        retry_us: u64,
        queued_us: u64,
    },
    /// Gateway → store: lease up to `want` admissions of `key` in aligned `window`.
    Lease {
        op: u64,
        key: u32,
        window: u64,
        want: u64,
    },
    /// Store → gateway: `granted` admissions; `stale` when `window` is not the store's.
    Leased {
        op: u64,
        key: u32,
        window: u64,
        granted: u64,
        stale: bool,
    },
    /// Store → gateway: the queue was full; command `op` was not run.
    Busy {
        op: u64,
    },
    /// Gateway → store: this gateway's (`boot`-th life's) admission count per key in
    /// aligned `window`; the store keeps the highest count per writer and answers totals.
    Sync {
        boot: u32,
        window: u64,
        counts: Vec<(u32, u64)>,
    },
    /// Store → gateway: per key, this writer's entry and the window's total, read at once.
    Synced {
        boot: u32,
        window: u64,
        views: Vec<(u32, u64, u64)>,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Req { id, key } => format!("req #{id} k{key}"),
            Msg::Resp { id, verdict } => format!("resp #{id} {verdict:?}"),
            Msg::Incr { key, .. } => format!("INCR k{key}"),
            Msg::IncrReply { count, .. } => format!("= {count}"),
            Msg::Busy { .. } => "BUSY (queue full)".to_string(),
            Msg::Sync { window, counts, .. } => format!("SYNC #{window} {} keys", counts.len()),
            Msg::Synced { views, .. } => {
                let total: u64 = views.iter().map(|v| v.2).sum();
                format!("= {} keys, {total} counted", views.len())
            }
            Msg::Expire { key, ttl_ms } => format!("EXPIRE k{key} {ttl_ms}ms"),
            Msg::Get { key, window, .. } => format!("GET k{key}:{window}"),
            Msg::GetReply { value, .. } => format!("= {value}"),
            Msg::Set { key, window, value } => format!("SET k{key}:{window} {value}"),
            Msg::Eval { key, .. } => format!("EVAL limit k{key}"),
            Msg::EvalReply { allowed, .. } => (if *allowed { "= allow" } else { "= deny" }).to_string(),
            Msg::Lease { key, window, want, .. } => format!("LEASE k{key}:{window} {want}"),
            Msg::Leased { key, granted, stale, .. } => {
                format!("LEASED k{key} {granted}{}", if *stale { " (stale)" } else { "" })
            }
        }
    }
}

/// How one client request ended, as the client saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Answered(Verdict),
    /// No answer before the client's timeout (lost message, crashed gateway).
    Lost,
}

/// Observations for the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// The limiter admitted one request of `key` now, through gateway `by`. `bypass`:
    /// admitted without the limiter because the store was unreachable and the gateway
    /// fails open.
    Admit { key: u32, by: NodeId, bypass: bool },
    /// A client's request ended (`node` is the client's node id).
    Outcome { client: u32, node: NodeId, honest: bool, outcome: Outcome },
    /// The store finally answered a command the gateway had given up on for `client`
    /// (a node id) and answered 503, and the command alone had queued in the store for
    /// longer than the gateway's timeout: that 503 was the queue's doing, not a fault's.
    Late { client: NodeId, queued_us: u64 },
}
