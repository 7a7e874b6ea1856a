//! Messages, log commands and observations of the config service.
//!
//! Keys are small numbers: `0..keys` are configuration keys (`cfg/k0`, …), the registers
//! clients read, write and compare-and-set; `EPHEMERAL + c` is client `c`'s ephemeral key
//! (`sess/c`), alive while its session is. Values are unique per write (client id in the
//! high bits, a counter in the low), so a read names exactly the write it saw.
//!
//! What the checks need travels as observations made where the fact arises: a client when
//! it calls and when an answer comes back (true simulated time, never a node's clock), a
//! replica when it applies a committed revision, a watcher when it accepts an event.

use super::store::Event;
use crate::blocks::raft::RaftMsg;
use crate::sim::node::Message;
use crate::sim::NodeId;

pub use super::store::KvState;

/// Ephemeral keys start here; below are configuration keys.
pub const EPHEMERAL: u32 = 1 << 16;

/// `cfg/k1`, `sess/3`.
pub fn key_name(key: u32) -> String {
    if key >= EPHEMERAL {
        format!("sess/{}", key - EPHEMERAL)
    } else {
        format!("cfg/k{key}")
    }
}

/// A key prefix a watcher follows.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Prefix {
    Config,
    Sessions,
}

impl Prefix {
    pub fn holds(self, key: u32) -> bool {
        match self {
            Prefix::Config => key < EPHEMERAL,
            Prefix::Sessions => key >= EPHEMERAL,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Prefix::Config => "cfg/",
            Prefix::Sessions => "sess/",
        }
    }
}

/// A command in the replicated log. `client` and `req` route the answer back.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Cmd {
    Put {
        client: NodeId,
        req: u64,
        key: u32,
        value: u64,
        session: Option<u64>,
    },
    Cas {
        client: NodeId,
        req: u64,
        key: u32,
        from: u64,
        to: u64,
    },
    /// Opens session `session` for `client` (etcd's LeaseGrant).
    Open {
        client: NodeId,
        req: u64,
        session: u64,
    },
    /// The leader saw the session's keepalives stop: close it and delete its keys.
    Expire {
        session: u64,
    },
}

/// What a client asks.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Request {
    Get { key: u32 },
    Put { key: u32, value: u64, session: Option<u64> },
    Cas { key: u32, from: u64, to: u64 },
    Open { session: u64 },
    KeepAlive { session: u64 },
}

/// What a replica answers.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Reply {
    /// A read: the value (none if never written) and the revision it was read at.
    Value {
        value: Option<u64>,
        rev: u64,
    },
    /// A write committed at `rev` (0 when acknowledged before commit).
    Written {
        rev: u64,
    },
    Swapped {
        ok: bool,
        rev: u64,
    },
    Opened,
    Alive,
    /// The session is gone (expired, or never opened).
    NoSession,
    /// Ask `hint` instead (the leader this replica knows of).
    NotLeader {
        hint: Option<NodeId>,
    },
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    Req {
        req: u64,
        op: Request,
    },
    Resp {
        req: u64,
        reply: Reply,
    },
    /// Watcher → replica: stream the prefix's events after revision `after` (`None`: from
    /// the replica's current revision on).
    Watch {
        prefix: Prefix,
        after: Option<u64>,
    },
    /// Replica → watcher: every event of the prefix in revisions `after+1 ..= upto`.
    Events {
        after: u64,
        upto: u64,
        events: Vec<Event>,
    },
    /// Replica → watcher: revisions up to `oldest` are compacted away; re-read and resume.
    Compacted {
        oldest: u64,
    },
    /// Watcher → replica: the prefix's current contents (the SDK rebuilds its cache after
    /// its revision was compacted away).
    Range {
        prefix: Prefix,
    },
    /// Replica → watcher: every key of the prefix and its value, as of revision `rev`.
    RangeIs {
        rev: u64,
        items: Vec<(u32, u64)>,
    },
    /// Leader → peers: are you still in my term? (read index / lease round)
    Probe {
        term: u64,
        round: u64,
    },
    ProbeAck {
        term: u64,
        round: u64,
        ok: bool,
    },
    Raft(RaftMsg<Cmd, KvState>),
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Req { op, .. } => match op {
                Request::Get { key } => format!("get {}", key_name(*key)),
                Request::Put { key, value, .. } => format!("put {}={value}", key_name(*key)),
                Request::Cas { key, from, to } => format!("cas {} {from}→{to}", key_name(*key)),
                Request::Open { .. } => "open session".into(),
                Request::KeepAlive { .. } => "keepalive".into(),
            },
            Msg::Resp { reply, .. } => match reply {
                Reply::Value { value: Some(v), rev } => format!("= {v} @r{rev}"),
                Reply::Value { value: None, rev } => format!("= nil @r{rev}"),
                Reply::Written { rev } => format!("ok r{rev}"),
                Reply::Swapped { ok, rev } => format!("cas {} r{rev}", if *ok { "ok" } else { "failed" }),
                Reply::Opened => "session open".into(),
                Reply::Alive => "alive".into(),
                Reply::NoSession => "no session".into(),
                Reply::NotLeader { hint } => format!("not leader (hint {hint:?})"),
            },
            Msg::Watch { prefix, after: Some(a) } => format!("watch {} after r{a}", prefix.name()),
            Msg::Watch { prefix, after: None } => format!("watch {} from now", prefix.name()),
            Msg::Events { after, upto, events } => format!("events r{after}..r{upto} ({})", events.len()),
            Msg::Compacted { oldest } => format!("compacted ≤ r{oldest}"),
            Msg::Range { prefix } => format!("range {}", prefix.name()),
            Msg::RangeIs { rev, items } => format!("{} keys @r{rev}", items.len()),
            Msg::Probe { term, .. } => format!("leader? t{term}"),
            Msg::ProbeAck { ok, .. } => format!("probe {}", if *ok { "ok" } else { "no" }),
            Msg::Raft(m) => m.label(),
        }
    }
}

/// A client call as the history records it (the lincheck register's input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Get,
    Put(u64),
    Cas { from: u64, to: u64 },
}

/// What nodes report to the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A client called `call` on configuration key `key` (op `op` of that client).
    Invoke { client: NodeId, op: u64, key: u32, call: Call },
    /// The answer came back: a read's value, a write's ack, a cas verdict.
    Complete { client: NodeId, op: u64, answer: Answer },
    /// The client gave up waiting (timeout, refused): the op may or may not have happened.
    Abandon { client: NodeId, op: u64 },
    /// Replica `replica` applied committed revision `rev`: `key` now holds `value`
    /// (`None`: deleted).
    Applied { replica: NodeId, rev: u64, key: u32, value: Option<u64> },
    /// A watcher accepted the event of revision `rev`.
    Watched { watcher: NodeId, prefix: Prefix, rev: u64, key: u32, value: Option<u64> },
    /// A watcher was told its revision was compacted and resumes after `from` (it re-read
    /// the prefix there): events up to `from` are knowingly skipped.
    Resynced { watcher: NodeId, from: u64 },
    /// A watcher's SDK cache after it applied a batch (or rebuilt itself from a range
    /// read): every key of its prefix it holds, as of revision `rev`.
    Cached { watcher: NodeId, prefix: Prefix, rev: u64, items: Vec<(u32, u64)> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Value(Option<u64>),
    Written,
    Swapped(bool),
}
