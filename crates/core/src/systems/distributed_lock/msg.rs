//! Messages and observations of the distributed-lock model. One message enum covers the
//! three conversations: workers with lock servers (acquire, release, grant), workers with
//! the protected storage (read, write, both carrying the fencing token), and the Raft-style
//! replication among consensus lock replicas. `Lease` names one acquisition attempt; the
//! `order` fields are ghost data (never read by the modelled algorithms) that let the
//! checks say which of two leases came later.

use crate::sim::node::Message;
use crate::sim::NodeId;

/// One acquisition attempt: the worker and a random nonce (the value a Redis client would
/// store under the lock key).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lease {
    pub worker: NodeId,
    pub nonce: u64,
}

/// A command in the replicated lock log.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Cmd {
    /// Written by a new leader so entries of earlier terms can commit (Raft §5.4.2).
    Noop,
    Acquire(Lease),
    Release(Lease),
    /// The leader saw the holder's lease run out on its clock.
    Expire(Lease),
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Entry {
    pub term: u64,
    pub cmd: Cmd,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Worker → lock server: set the key to `lease` if free, with a TTL.
    Acquire {
        lease: Lease,
        ttl_ms: u64,
    },
    /// Worker → lock server: delete the key (blindly or only if it still holds `lease`).
    Release {
        lease: Lease,
    },
    /// Lock server → worker. `token` is 0 when the strategy issues none; `order` is ghost.
    Granted {
        lease: Lease,
        token: u64,
        order: u64,
    },
    Busy {
        lease: Lease,
    },
    /// Replica → worker: ask `hint` instead (the leader it knows of, if any).
    NotLeader {
        lease: Lease,
        hint: Option<NodeId>,
    },
    /// Worker → storage.
    Read {
        lease: Lease,
        token: u64,
        order: u64,
    },
    Write {
        lease: Lease,
        token: u64,
        order: u64,
        value: u64,
    },
    /// Storage → worker.
    ReadOk {
        lease: Lease,
        value: u64,
    },
    WriteOk {
        lease: Lease,
    },
    Rejected {
        lease: Lease,
        max_token: u64,
    },
    /// Raft among consensus replicas (Ongaro & Ousterhout, USENIX ATC 2014).
    Vote {
        term: u64,
        last_index: u64,
        last_term: u64,
    },
    VoteReply {
        term: u64,
        granted: bool,
    },
    Append {
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<Entry>,
        commit: u64,
    },
    AppendReply {
        term: u64,
        ok: bool,
        match_index: u64,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Acquire { lease, .. } => format!("acquire #{:04x}", lease.nonce & 0xffff),
            Msg::Release { lease } => format!("release #{:04x}", lease.nonce & 0xffff),
            Msg::Granted { token: 0, .. } => "granted".into(),
            Msg::Granted { token, .. } => format!("granted token {token}"),
            Msg::Busy { .. } => "busy".into(),
            Msg::NotLeader { hint, .. } => format!("not leader (hint {hint:?})"),
            Msg::Read { token, .. } => format!("read token {token}"),
            Msg::Write { token, value, .. } => format!("write {value} token {token}"),
            Msg::ReadOk { value, .. } => format!("value {value}"),
            Msg::WriteOk { .. } => "write ok".into(),
            Msg::Rejected { max_token, .. } => format!("rejected (seen {max_token})"),
            Msg::Vote { term, .. } => format!("vote? t{term}"),
            Msg::VoteReply { term, granted } => {
                format!("vote {} t{term}", if *granted { "yes" } else { "no" })
            }
            Msg::Append { term, entries, commit, .. } => format!("append t{term} +{} c{commit}", entries.len()),
            Msg::AppendReply { ok, match_index, .. } => {
                format!("append {} m{match_index}", if *ok { "ok" } else { "no" })
            }
        }
    }
}

/// What nodes report to the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A worker learned it holds the lock under `lease` (with `token`, 0 if none).
    Granted { lease: Lease, token: u64 },
    /// The storage served or refused an access made under `lease`.
    Access { lease: Lease, order: u64, token: u64, write: bool, accepted: bool },
}
