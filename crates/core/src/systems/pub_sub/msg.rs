//! Messages between producers, brokers, the controller, consumers and the sink, and the
//! observations the checks record. A record on the wire carries its offset and the leader
//! epoch that wrote it (what a follower needs to find where it diverged).

use crate::blocks::log::Record;
use crate::sim::node::Message;

/// One produced message: a unique id, its key, and who sent it with which per-partition
/// sequence number (what an idempotent broker deduplicates on).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Rec {
    pub id: u64,
    pub key: u32,
    pub producer: u32,
    pub seq: u32,
}

/// A stored record as a follower or consumer receives it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Wire {
    pub offset: u64,
    pub epoch: u32,
    pub time_ms: u64,
    pub rec: Rec,
}

impl Wire {
    pub fn from_record(r: &Record<Rec>) -> Wire {
        Wire { offset: r.offset, epoch: r.epoch, time_ms: r.time_ms, rec: r.value }
    }

    pub fn to_record(self) -> Record<Rec> {
        Record { offset: self.offset, epoch: self.epoch, time_ms: self.time_ms, size: 1, value: self.rec }
    }
}

/// What the controller says about one partition: its leader (a broker index), the leader
/// epoch, and the in-sync replicas.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Default)]
pub struct PartMeta {
    pub leader: Option<u32>,
    pub epoch: u32,
    pub isr: Vec<u32>,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum ProduceError {
    NotLeader,
    /// acks=all refused up front: fewer in-sync replicas than `min_isr`.
    NotEnoughReplicas,
    /// Idempotent producer: a sequence number arrived before the one before it.
    OutOfOrderSequence,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Msg {
    // brokers ↔ controller
    BrokerHeartbeat {
        broker: u32,
    },
    /// A broker announcing it (re)started: the controller treats it as a failure followed
    /// by a return, so partitions it led get a new epoch.
    Register {
        broker: u32,
    },
    Metadata {
        parts: Vec<PartMeta>,
    },
    /// The leader asks the controller to change a partition's ISR (Kafka's AlterPartition).
    AlterIsr {
        p: u32,
        epoch: u32,
        isr: Vec<u32>,
    },
    // producer ↔ leader
    Produce {
        p: u32,
        rec: Rec,
    },
    ProduceAck {
        p: u32,
        id: u64,
        offset: u64,
    },
    ProduceErr {
        p: u32,
        id: u64,
        err: ProduceError,
    },
    // follower ↔ leader
    ReplicaFetch {
        p: u32,
        broker: u32,
        offset: u64,
        last_epoch: Option<u32>,
    },
    ReplicaData {
        p: u32,
        epoch: u32,
        records: Vec<Wire>,
        hw: u64,
    },
    ReplicaDiverged {
        p: u32,
        truncate_to: u64,
    },
    ReplicaReset {
        p: u32,
        log_start: u64,
    },
    // consumer ↔ broker
    Fetch {
        p: u32,
        offset: u64,
        max: u32,
        req: u64,
    },
    Records {
        p: u32,
        req: u64,
        records: Vec<Wire>,
    },
    FetchNotLeader {
        p: u32,
        req: u64,
    },
    FetchOutOfRange {
        p: u32,
        req: u64,
        log_start: u64,
    },
    // consumer ↔ group coordinator (the controller)
    Join {
        member: u32,
    },
    GroupHeartbeat {
        member: u32,
    },
    Assign {
        generation: u32,
        partitions: Vec<u32>,
    },
    OffsetFetch {
        p: u32,
        req: u64,
    },
    OffsetIs {
        p: u32,
        req: u64,
        offset: u64,
    },
    Commit {
        member: u32,
        generation: u32,
        p: u32,
        offset: u64,
    },
    // consumer ↔ sink
    Effect {
        p: u32,
        offset: u64,
        id: u64,
    },
    SinkOffsetFetch {
        p: u32,
        req: u64,
    },
    /// Apply these effects and move the partition's stored offset from `expected` to
    /// `to`, atomically — or nothing, if the stored offset is not `expected`.
    TxnApply {
        p: u32,
        expected: u64,
        to: u64,
        effects: Vec<(u64, u64)>,
        req: u64,
    },
    TxnResult {
        p: u32,
        req: u64,
        ok: bool,
        stored: u64,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Produce { p, rec } => format!("produce p{p} k{} #{}", rec.key, rec.id & 0xffff_ffff),
            Msg::ProduceAck { p, offset, .. } => format!("ack p{p}@{offset}"),
            Msg::ProduceErr { p, err, .. } => format!("p{p} {err:?}"),
            Msg::ReplicaFetch { p, offset, .. } => format!("replica fetch p{p}@{offset}"),
            Msg::ReplicaData { p, records, hw, .. } => format!("p{p}: {} records, hw {hw}", records.len()),
            Msg::Fetch { p, offset, .. } => format!("fetch p{p}@{offset}"),
            Msg::Records { p, records, .. } => format!("p{p}: {} records", records.len()),
            Msg::Commit { p, offset, generation, .. } => format!("commit p{p}={offset} (gen {generation})"),
            Msg::Effect { p, offset, .. } => format!("effect p{p}@{offset}"),
            Msg::TxnApply { p, expected, to, .. } => format!("txn p{p} {expected}→{to}"),
            Msg::Metadata { .. } => "metadata".into(),
            other => {
                let s = format!("{other:?}");
                s.chars().take(60).collect()
            }
        }
    }
}

/// Where a committed offset is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// The group coordinator's offset store (commit-before, commit-after).
    Coordinator,
    /// The sink, next to the effects (transactional).
    Sink,
}

/// What the history recorder (the checks) sees, from the edges of the system: what
/// producers were told, what consumers read, what the sink applied, what got committed.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A producer was told its message is at `p`@`offset`.
    Acked { p: u32, offset: u64, id: u64 },
    /// A consumer read a record. `session` counts the consumer's repositionings of `p`.
    Polled { consumer: u32, session: u64, p: u32, offset: u64, rec: Rec },
    /// The sink applied a message's effect.
    Applied { p: u32, offset: u64, id: u64 },
    /// A store accepted a committed offset for `p`.
    Committed { p: u32, offset: u64, store: Store },
}
