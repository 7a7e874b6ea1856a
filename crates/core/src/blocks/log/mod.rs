//! A partitioned, replicated, append-only log: the data model under pub-sub, the event
//! bus, IoT ingestion and the analytics pipeline. Plain data with methods that a system's
//! actors call with explicit times (milliseconds); no actors, no clock of its own.
//!
//! - [`segmented::Log`] is one replica's copy of one partition: records in segments that
//!   roll at a size or a record count, offsets handed out in order and never reused,
//!   reads from an offset with a maximum count, and retention by size or age that deletes
//!   whole segments from the head and moves the log-start offset (a read below it is
//!   [`LogError::OffsetOutOfRange`], as Kafka's fetch returns).
//! - [`replication::Partition`] is one partition across its replicas: the leader, the
//!   in-sync replica set (a follower falls out after lagging longer than
//!   `replica_lag_ms`, rejoins once it has caught up to the high watermark), the high
//!   watermark (the lowest log end over the ISR: consumers read only below it), produce
//!   with acks=1 or acks=all under `min_insync_replicas`, and leader election — clean
//!   (ISR only) or unclean — after which followers truncate to where their log agrees
//!   with the new leader's.
//!
//! The rules follow Apache Kafka's log layer and replica manager (the `UnifiedLog`,
//! `Partition` and `Replica` classes, and KIP-101 for truncation by leader epoch); where
//! this model simplifies, the doc comment on the method says how. Tested against
//! brute-force twins in `tests.rs`: the log against a flat `Vec` of every record ever
//! appended with segments and retention recomputed by scan, the high watermark against a
//! direct minimum over the replicas' log ends.

pub mod replication;
pub mod segmented;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use replication::{
    AckOutcome, Acks, ElectError, Election, Partition, PartitionError, ReplicaId, ReplicationConfig,
};
pub use segmented::{Log, LogConfig, LogError, Offset, Record};
