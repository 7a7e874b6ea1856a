//! Messages between tenant clients, the router (auth, quotas, placement, moves), the
//! shards (the databases) and the meter, and the observations the checks judge.
//!
//! A row carries the tenant that wrote it as the store recorded it at write time; the
//! reader's tenant comes from its token. The checks compare the two, never trusting the
//! query path that produced the answer.

use super::auth::Token;
use crate::sim::node::Message;
use crate::sim::time::{SimDuration, SimTime};

pub type TenantId = u32;

/// One stored row: its id (unique across the whole system) and the tenant whose
/// authenticated session wrote it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Row {
    pub id: u64,
    pub writer: TenantId,
}

/// What a tenant's user asks for: the rows of resource `resource` ("invoice 17"; every
/// tenant has its own resource 17), or a new row for it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Op {
    Read { resource: u32 },
    Write { resource: u32 },
}

/// How a request ended, as the client sees it.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Outcome {
    Rows(Vec<Row>),
    Written(u64),
    /// Over the tenant's quota (HTTP 429).
    Throttled,
    /// The database queue was full, or no answer in time.
    Unavailable,
    /// The token did not verify.
    Denied,
}

/// A shard's answer to one query.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Answer {
    Rows(Vec<Row>),
    Written(u64),
    Busy,
    /// The tenant is not served here (moved away, or frozen for writes during a move).
    NotHere,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Client → router.
    Req {
        req: u64,
        token: Token,
        op: Op,
    },
    /// Router → client.
    Resp {
        req: u64,
        outcome: Outcome,
    },
    /// Router → shard: run `op` in a session bound to `tenant` (from the verified token).
    Query {
        qid: u64,
        tenant: TenantId,
        op: Op,
    },
    /// Shard → router.
    Answered {
        qid: u64,
        answer: Answer,
    },
    /// Router → source shard: copy the tenant's rows to `dst`.
    Snapshot {
        tenant: TenantId,
        dst: u32,
    },
    /// Source → destination: the tenant's rows as of change-log position `upto`.
    CopyRows {
        tenant: TenantId,
        rows: Vec<(u32, Row)>,
        upto: u64,
    },
    /// Destination → router: the copy is in.
    Copied {
        tenant: TenantId,
        upto: u64,
    },
    /// Router → source: refuse the tenant's writes from now on and send `dst` every change
    /// after `from`.
    Freeze {
        tenant: TenantId,
        dst: u32,
        from: u64,
    },
    /// Source → destination: the changes the copy missed, as (log position, resource, row).
    CatchUp {
        tenant: TenantId,
        changes: Vec<(u64, u32, Row)>,
    },
    /// Destination → router: caught up; the destination now serves the tenant.
    CaughtUp {
        tenant: TenantId,
    },
    /// Router → source: the cut-over happened; drop the tenant.
    Release {
        tenant: TenantId,
    },
    Released {
        tenant: TenantId,
    },
    /// Shard → meter: usage events `from..from + tenants.len()` of this shard's outbox.
    Usage {
        shard: u32,
        from: u64,
        tenants: Vec<TenantId>,
    },
    /// Meter → shard: every event below `upto` is counted.
    UsageAck {
        upto: u64,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Req { token, op, .. } => format!("t{} {}", token.tenant, op_label(op)),
            Msg::Resp { outcome, .. } => match outcome {
                Outcome::Rows(r) => format!("{} rows", r.len()),
                Outcome::Written(_) => "written".into(),
                o => format!("{o:?}").to_lowercase(),
            },
            Msg::Query { tenant, op, .. } => format!("t{tenant} {}", op_label(op)),
            Msg::Answered { answer, .. } => match answer {
                Answer::Rows(r) => format!("{} rows", r.len()),
                Answer::Written(_) => "written".into(),
                a => format!("{a:?}").to_lowercase(),
            },
            Msg::Snapshot { tenant, .. } => format!("snapshot t{tenant}"),
            Msg::CopyRows { tenant, rows, .. } => format!("copy t{tenant} ({} rows)", rows.len()),
            Msg::Copied { tenant, .. } => format!("copied t{tenant}"),
            Msg::Freeze { tenant, .. } => format!("freeze t{tenant}"),
            Msg::CatchUp { tenant, changes } => format!("catch up t{tenant} ({})", changes.len()),
            Msg::CaughtUp { tenant } => format!("caught up t{tenant}"),
            Msg::Release { tenant } => format!("release t{tenant}"),
            Msg::Released { tenant } => format!("released t{tenant}"),
            Msg::Usage { from, tenants, .. } => format!("usage {from}+{}", tenants.len()),
            Msg::UsageAck { upto } => format!("usage ack {upto}"),
        }
    }
}

fn op_label(op: &Op) -> String {
    match op {
        Op::Read { resource } => format!("read r{resource}"),
        Op::Write { resource } => format!("write r{resource}"),
    }
}

/// What nodes tell the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A shard stored row `id`, written in a session of tenant `writer` (the store's own
    /// write record).
    Wrote { id: u64, writer: TenantId },
    /// A client of tenant `reader` (its token's tenant) received these row ids.
    Read { reader: TenantId, rows: Vec<u64> },
    /// A shard served one request of `tenant` (the independent count the meter must match).
    Served { tenant: TenantId, shard: u32 },
    /// The meter's invoice line for `tenant`: `units` requests so far.
    Invoice { tenant: TenantId, units: u64 },
    /// A request ended at its client: sent at `sent` (true time), after `latency`.
    Done { tenant: TenantId, sent: SimTime, latency: SimDuration, ok: bool },
}
