//! Messages and observations of the distributed-lock model. One message enum covers the
//! three conversations: workers with lock servers (acquire, release, grant), workers with
//! the protected storage (read, write, both carrying the fencing token), and the Raft-style
//! replication among consensus lock replicas. `Lease` names one acquisition attempt.
//!
//! Messages carry only what the modelled algorithms use. What the checks need beyond that
//! travels as observations (`Obs`), reported where the fact arises — the lock service at
//! the instant it grants, the worker when it starts and ends a critical section, the
//! storage when it serves an access — so a check builds its own record of the run instead
//! of trusting a field the design itself computed.

use crate::blocks::raft::RaftMsg;
use crate::sim::node::Message;
use crate::sim::time::SimTime;
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
    Acquire(Lease),
    Release(Lease),
    /// The leader saw the holder's lease run out on its clock.
    Expire(Lease),
}

/// The replicated state machine, as a snapshot carries it: who holds the lock under which
/// token, and how many grants the log has made so far.
#[derive(Clone, Copy, Debug, Default, Hash, PartialEq, Eq)]
pub struct LockState {
    pub holder: Option<(Lease, u64)>,
    pub grants: u64,
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
    /// Lock server → worker. `token` is 0 when the strategy issues none.
    Granted {
        lease: Lease,
        token: u64,
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
    },
    Write {
        lease: Lease,
        token: u64,
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
    /// Raft among consensus replicas (the `blocks::raft` block).
    Raft(RaftMsg<Cmd, LockState>),
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
            Msg::Raft(m) => m.label(),
        }
    }
}

/// What nodes report to the checks. Times are the kernel's true time (when the
/// observation is made, or `expires` below), never a node's skewed clock.
#[derive(Clone, Debug)]
pub enum Obs {
    /// The lock service granted `lease` (with `token`, 0 if none). A single server or the
    /// Raft leader reports it when it hands the lock out; in Redlock no one server decides,
    /// so the client reports it when it has assembled its majority.
    Grant { lease: Lease, token: u64 },
    /// A worker learned it holds the lock under `lease` and starts its critical section.
    /// `expires` is when the lease runs out in true time: the instant the acquire request
    /// left plus the TTL, the bound every strategy's lease promises at best.
    Holding { lease: Lease, token: u64, expires: SimTime },
    /// The worker's critical section under `lease` is over (written, refused, abandoned or
    /// timed out); it releases the lock.
    Done { lease: Lease },
    /// The storage served or refused an access made under `lease`. `value` is the value
    /// written (for a write) or returned (for an accepted read).
    Access { lease: Lease, token: u64, write: bool, accepted: bool, value: u64 },
}
