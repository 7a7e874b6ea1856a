//! The trace of a run: every delivery, timer, drop, fault, note and violation, in kernel
//! order. Each event is folded into a running 64-bit hash as it happens (cheap: no
//! formatting), so two runs agree exactly when their hashes agree. The last `keep` events
//! are also kept as typed values for the UI (event log, sequence diagram) and for golden
//! tests that render a short trace as text, one line per event.

pub mod hash;

use crate::sim::net::DropReason;
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use hash::StableHasher;
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::hash::Hasher;

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceKind {
    /// A message from `from` was handled by the event's node; `sent_at` is when it left.
    Deliver {
        from: NodeId,
        sent_at: SimTime,
        label: String,
    },
    /// A timer set by the node fired.
    Timer { tag: u64 },
    /// A message never arrived.
    Drop {
        from: NodeId,
        to: NodeId,
        label: String,
        reason: DropReason,
    },
    /// A fault was applied.
    Fault { text: String },
    /// A node wrote something worth showing (leader elected, lease granted, ...).
    Note { text: String },
    /// A check failed at this event.
    Violation { check: String, detail: String },
}

/// One line of the trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEvent {
    /// Index among the events the kernel handled (the `events` counter).
    pub seq: u64,
    pub at: SimTime,
    pub node: NodeId,
    #[serde(flatten)]
    pub kind: TraceKind,
}

/// Running hash plus a bounded window of recent events.
#[derive(Clone)]
pub struct Trace {
    hasher: StableHasher,
    recent: VecDeque<TraceEvent>,
    keep: usize,
    recorded: u64,
}

impl Trace {
    pub fn new(keep: usize) -> Trace {
        Trace {
            hasher: StableHasher::default(),
            recent: VecDeque::new(),
            keep,
            recorded: 0,
        }
    }

    /// Whether typed events are being kept (labels are only formatted then).
    #[inline]
    pub fn keeping(&self) -> bool {
        self.keep > 0
    }

    /// Folds the identity of an event into the hash: the fast path every event takes.
    #[inline]
    pub fn fold(&mut self, seq: u64, at: SimTime, node: NodeId, code: u64, detail: u64) {
        self.hasher.word(seq);
        self.hasher.word(at.0);
        self.hasher.word(u64::from(node) | (code << 32));
        self.hasher.word(detail);
        self.recorded += 1;
    }

    /// Keeps a typed event for display (call after [`fold`](Self::fold)).
    pub fn keep_event(&mut self, ev: TraceEvent) {
        if self.keep == 0 {
            return;
        }
        if self.recent.len() == self.keep {
            self.recent.pop_front();
        }
        self.recent.push_back(ev);
    }

    /// The hash of everything folded so far.
    pub fn hash(&self) -> u64 {
        self.hasher.finish()
    }

    pub fn recent(&self) -> &VecDeque<TraceEvent> {
        &self.recent
    }
}

/// Renders events as text, one per line, naming nodes: the golden-test format.
pub fn render(events: &[TraceEvent], names: &[String]) -> String {
    let name = |id: NodeId| names.get(id as usize).map(String::as_str).unwrap_or("?");
    let mut out = String::new();
    for e in events {
        let _ = write!(
            out,
            "{:>6} {:>12} {:<10} ",
            e.seq,
            e.at.to_string(),
            name(e.node)
        );
        let _ = match &e.kind {
            TraceKind::Deliver { from, label, .. } => writeln!(out, "<- {} {label}", name(*from)),
            TraceKind::Timer { tag } => writeln!(out, "timer {tag}"),
            TraceKind::Drop {
                from,
                to,
                label,
                reason,
            } => {
                writeln!(
                    out,
                    "drop {}->{} {label} ({reason:?})",
                    name(*from),
                    name(*to)
                )
            }
            TraceKind::Fault { text } => writeln!(out, "FAULT {text}"),
            TraceKind::Note { text } => writeln!(out, "note {text}"),
            TraceKind::Violation { check, detail } => writeln!(out, "VIOLATION {check}: {detail}"),
        };
    }
    out
}
