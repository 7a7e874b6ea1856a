//! A service's span exporter (OpenTelemetry's batch span processor in front of an exporter
//! with a persistent sending queue): finished spans wait in a local queue, go to the
//! collector in batches every `EXPORT_MS`, and stay queued until someone acknowledges them
//! — the collector when it drops a trace, storage when it has persisted a kept span. A
//! batch lost on the way, or dropped by a collector that crashed with it in its buffer, is
//! sent again after `RETRY_MS`.
//!
//! The queue is on local disk (OTel's `file_storage`-backed queue), so a process crash does
//! not lose the spans of calls it already answered; it is bounded, and when full drops the
//! oldest span (counted), as every real exporter must rather than grow without limit.

use super::msg::{Msg, SpanRec};
use crate::sim::node::Ctx;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// How often the exporter ships a batch.
pub const EXPORT_MS: u64 = 100;
/// How long an unacknowledged span waits before it is sent again.
pub const RETRY_MS: u64 = 500;
/// Spans per export message.
pub const BATCH: usize = 256;
/// Spans the queue holds at most.
pub const QUEUE_CAP: usize = 20_000;

#[derive(Clone, Debug)]
struct Queued {
    rec: SpanRec,
    /// Local time of the last send, if any.
    sent: Option<SimTime>,
}

#[derive(Clone, Debug, Default)]
pub struct Exporter {
    /// In arrival order (the key is a sequence number).
    queue: BTreeMap<u64, Queued>,
    /// Span id → its sequence number, for acknowledgements.
    index: BTreeMap<u64, u64>,
    seq: u64,
    pub dropped: u64,
}

impl Exporter {
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queues a finished span (dropping the oldest when the queue is full).
    pub fn push(&mut self, rec: SpanRec) {
        if self.queue.len() >= QUEUE_CAP {
            if let Some((_, old)) = self.queue.pop_first() {
                self.index.remove(&old.rec.span);
                self.dropped += 1;
            }
        }
        self.seq += 1;
        self.index.insert(rec.span, self.seq);
        self.queue.insert(self.seq, Queued { rec, sent: None });
    }

    /// Forgets acknowledged spans.
    pub fn ack(&mut self, spans: &[u64]) {
        for s in spans {
            if let Some(seq) = self.index.remove(s) {
                self.queue.remove(&seq);
            }
        }
    }

    /// Sends what is due: never-sent spans, and spans unacknowledged for `RETRY_MS`.
    pub fn flush<O>(&mut self, collector: NodeId, ctx: &mut Ctx<'_, Msg, O>) {
        let now = ctx.local_time();
        let retry = SimDuration::from_ms(RETRY_MS);
        let mut batch = Vec::new();
        for q in self.queue.values_mut() {
            let due = match q.sent {
                None => true,
                Some(at) => now.since(at) >= retry,
            };
            if due {
                q.sent = Some(now);
                batch.push(q.rec);
                if batch.len() == BATCH {
                    ctx.send(collector, Msg::Export { spans: std::mem::take(&mut batch) });
                }
            }
        }
        if !batch.is_empty() {
            ctx.send(collector, Msg::Export { spans: batch });
        }
    }
}
