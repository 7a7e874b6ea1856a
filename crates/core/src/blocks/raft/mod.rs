//! Raft as a reusable block (Ongaro & Ousterhout, "In Search of an Understandable
//! Consensus Algorithm", USENIX ATC 2014; Ongaro's thesis "Consensus: Bridging Theory and
//! Practice", Stanford 2014, for pre-vote and membership changes). A system's actor embeds
//! one [`Raft`] per replica, feeds it its inputs (start, crash, timers, messages,
//! proposals) and carries out the [`Effect`]s it returns: sends, timers, entries to apply,
//! snapshots to restore. The block never touches the kernel, so the same code runs under
//! the simulator and under the tests' hand-rolled network.
//!
//! What it does, file by file:
//! - `election`: randomized election timeouts, the up-to-date vote rule, pre-vote;
//! - `replication`: AppendEntries with the consistency check and fast back-off, the
//!   current-term commit rule, InstallSnapshot for followers behind the compacted prefix;
//! - `membership`: single-server changes (thesis §4.1), effective when appended;
//! - `compaction`: the state machine hands in a snapshot, the log is cut before it;
//! - `log`: the log after a snapshot; `msg`: messages and effects;
//! - `invariants`: Figure 3's four safety properties, checked over all replicas each step.
//!
//! Durable state — term, vote, log, snapshot — survives [`Raft::crash`]; role, leader,
//! commit and applied indices, votes and replication progress do not. (Every write is
//! treated as on disk before the handler's messages leave, as Figure 2 requires.)

mod compaction;
mod election;
pub mod invariants;
pub mod log;
mod membership;
pub mod msg;
mod node;
mod replication;

#[cfg(test)]
mod tests;

pub use invariants::{Breach, Invariant, RaftInvariants};
pub use log::{Entry, Log, Payload, Snapshot};
pub use msg::{Effect, RaftMsg};
#[cfg(test)]
pub use node::Bug;
pub use node::{Data, Io, Raft, RaftConfig, Role};
