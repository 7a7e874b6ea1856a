//! Messages, log records and observations of the distributed-transactions model.
//!
//! A transaction is a bank transfer generalised: it writes one key at each of a few
//! participants (debit here, credit there), and must happen everywhere or nowhere.
//! Clients name their transactions (`TxnId`), so an id stays unique however often the
//! coordinator crashes.
//!
//! Messages carry what the protocols use. What the checks need beyond that travels as
//! observations, reported where the fact arises: the client when it submits and when it
//! hears the outcome, each participant when its vote is durable and when it acts on a
//! decision. The checks build their own record of the run from those, never from what
//! the coordinator believes.

use crate::sim::node::Message;
use crate::sim::NodeId;
use std::fmt;

/// A transaction: the client that submitted it and that client's sequence number.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct TxnId {
    pub client: u32,
    pub seq: u32,
}

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}.{}", self.client, self.seq)
    }
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Client → coordinator: run `txn`, writing one key at each listed participant.
    Begin {
        txn: TxnId,
        work: Vec<(NodeId, u64)>,
    },
    /// Coordinator → client: the decision.
    Outcome {
        txn: TxnId,
        committed: bool,
    },
    /// Coordinator → participant: phase one (3PC calls it CanCommit).
    Prepare {
        txn: TxnId,
        key: u64,
        three_phase: bool,
    },
    /// Participant → coordinator.
    Vote {
        txn: TxnId,
        yes: bool,
    },
    /// 3PC only: everybody voted yes, the decision will be commit.
    PreCommit {
        txn: TxnId,
    },
    PreCommitAck {
        txn: TxnId,
    },
    /// Coordinator → participant (3PC calls it DoCommit).
    Commit {
        txn: TxnId,
    },
    Abort {
        txn: TxnId,
    },
    /// Participant → coordinator: the commit is durable here.
    Ack {
        txn: TxnId,
    },
    /// An in-doubt participant asks the coordinator for the decision.
    Inquire {
        txn: TxnId,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Begin { txn, work } => format!("begin {txn} ({} parts)", work.len()),
            Msg::Outcome { txn, committed: true } => format!("{txn} committed"),
            Msg::Outcome { txn, committed: false } => format!("{txn} aborted"),
            Msg::Prepare { txn, three_phase: false, .. } => format!("prepare {txn}"),
            Msg::Prepare { txn, three_phase: true, .. } => format!("can-commit? {txn}"),
            Msg::Vote { txn, yes: true } => format!("vote yes {txn}"),
            Msg::Vote { txn, yes: false } => format!("vote no {txn}"),
            Msg::PreCommit { txn } => format!("pre-commit {txn}"),
            Msg::PreCommitAck { txn } => format!("pre-commit ack {txn}"),
            Msg::Commit { txn } => format!("commit {txn}"),
            Msg::Abort { txn } => format!("abort {txn}"),
            Msg::Ack { txn } => format!("ack {txn}"),
            Msg::Inquire { txn } => format!("inquire {txn}?"),
        }
    }
}

/// A participant's log record.
#[derive(Clone, Debug, PartialEq)]
pub enum PartRec {
    /// Voted yes: `key` stays locked until the decision. `at_ms` (true time) feeds only
    /// the time-in-doubt metric after a restart.
    Prepared {
        txn: TxnId,
        key: u64,
        at_ms: f64,
    },
    /// 3PC: the coordinator said every vote was yes.
    PreCommitted {
        txn: TxnId,
    },
    Committed {
        txn: TxnId,
    },
    Aborted {
        txn: TxnId,
    },
}

impl PartRec {
    pub fn txn(&self) -> TxnId {
        match *self {
            PartRec::Prepared { txn, .. }
            | PartRec::PreCommitted { txn }
            | PartRec::Committed { txn }
            | PartRec::Aborted { txn } => txn,
        }
    }
}

/// The coordinator's log record.
#[derive(Clone, Debug, PartialEq)]
pub enum CoordRec {
    /// 2PC: the decision is commit (forced before anyone hears it).
    Commit { txn: TxnId, participants: Vec<NodeId> },
    /// 3PC: the decision is commit, to be announced by pre-commit.
    PreCommit { txn: TxnId, participants: Vec<NodeId> },
    /// Every participant acknowledged; the transaction can be forgotten (lazy).
    End { txn: TxnId },
}

impl CoordRec {
    pub fn txn(&self) -> TxnId {
        match *self {
            CoordRec::Commit { txn, .. } | CoordRec::PreCommit { txn, .. } | CoordRec::End { txn } => txn,
        }
    }
}

/// What nodes report to the checks (the kernel stamps each with the true time).
#[derive(Clone, Debug)]
pub enum Obs {
    /// A client submitted `txn`, touching these participants.
    Submitted { txn: TxnId, participants: Vec<NodeId> },
    /// The client heard the outcome.
    Acked { txn: TxnId, committed: bool },
    /// `participant`'s yes vote is durable and sent: it is in doubt from now on.
    Prepared { txn: TxnId, participant: NodeId },
    /// `participant` acted on an outcome for `txn` (a commit once its record is durable).
    Decided { txn: TxnId, participant: NodeId, commit: bool },
}
