//! What a Raft replica says to its peers, and what it asks its host actor to do. The block
//! never touches the kernel: each input returns a list of [`Effect`]s, and the actor turns
//! them into `ctx.send`, `ctx.set_timer`, state-machine updates and notes (the shape of
//! raft-rs's `Ready`).

use super::log::{Entry, Snapshot};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum RaftMsg<C, S> {
    /// RequestVote (Figure 2). With `pre`, a pre-vote (thesis §9.6): `term` is the term the
    /// sender *would* campaign in; nobody changes its own term for it.
    Vote {
        pre: bool,
        term: u64,
        last_index: u64,
        last_term: u64,
    },
    /// `term` is the voter's term, or for a granted pre-vote the term asked about.
    VoteReply {
        pre: bool,
        term: u64,
        granted: bool,
    },
    Append {
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<Entry<C>>,
        commit: u64,
    },
    /// On success `index` is the last index now known to match; on refusal it is a hint:
    /// the follower's log surely matches no further than `index` (fast back-off).
    AppendReply {
        term: u64,
        ok: bool,
        index: u64,
    },
    /// InstallSnapshot (§7), sent whole: the simulation has no chunking to model.
    Install {
        term: u64,
        snapshot: Snapshot<S>,
    },
    InstallReply {
        term: u64,
        index: u64,
    },
}

impl<C, S> RaftMsg<C, S> {
    /// A short label for event logs and sequence diagrams.
    pub fn label(&self) -> String {
        match self {
            RaftMsg::Vote { pre: true, term, .. } => format!("pre-vote? t{term}"),
            RaftMsg::Vote { term, .. } => format!("vote? t{term}"),
            RaftMsg::VoteReply { pre, term, granted } => {
                format!("{}vote {} t{term}", if *pre { "pre-" } else { "" }, if *granted { "yes" } else { "no" })
            }
            RaftMsg::Append { term, entries, commit, .. } => format!("append t{term} +{} c{commit}", entries.len()),
            RaftMsg::AppendReply { ok, index, .. } => format!("append {} m{index}", if *ok { "ok" } else { "no" }),
            RaftMsg::Install { snapshot, .. } => format!("snapshot ≤{}", snapshot.index),
            RaftMsg::InstallReply { index, .. } => format!("snapshot ok m{index}"),
        }
    }
}

/// What the host actor must do after an input.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect<C, S> {
    Send {
        to: NodeId,
        msg: RaftMsg<C, S>,
    },
    /// Call [`Raft::on_timer`](super::Raft::on_timer) with `tag` after `after` on the
    /// node's own clock.
    Timer {
        after: SimDuration,
        tag: u64,
    },
    /// Entry `index` is committed: apply it to the state machine (in index order, once per
    /// incarnation). Every payload is reported; most state machines act only on `Cmd`.
    Apply {
        index: u64,
        entry: Entry<C>,
    },
    /// Replace the state machine by this snapshot (after a crash, or one sent by the leader).
    Restore {
        snapshot: Snapshot<S>,
    },
    /// For the event log.
    Note(String),
}
