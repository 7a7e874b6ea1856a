//! Trace storage (Jaeger's or Tempo's backend, reduced to what a query needs): spans
//! indexed by trace id, assembled into a trace when read. It is durable (a crash loses
//! nothing written), idempotent (a span sent twice is stored once), and acknowledges each
//! persisted span to the exporter that sent it — the end of the pipeline is what releases
//! a span from the service's queue. Retention is by size: past `MAX_SPANS` the oldest
//! traces go.

use super::msg::{Msg, Obs, SpanRec};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

type Cx<'a, 'b> = &'a mut Ctx<'b, Msg, Obs>;

/// Spans kept at most (retention).
pub const MAX_SPANS: usize = 300_000;

#[derive(Clone, Debug, Default)]
pub struct Storage {
    pub traces: BTreeMap<u128, Vec<SpanRec>>,
    /// Trace ids in the order their first span arrived.
    pub order: VecDeque<u128>,
    pub spans: usize,
    pub evicted: u64,
}

impl Storage {
    fn store(&mut self, batch: Vec<(SpanRec, NodeId)>, ctx: Cx) {
        let mut acks: BTreeMap<NodeId, Vec<u64>> = BTreeMap::new();
        for (s, from) in batch {
            acks.entry(from).or_default().push(s.span);
            let spans = self.traces.entry(s.trace).or_default();
            if spans.iter().any(|x| x.span == s.span) {
                continue;
            }
            if spans.is_empty() {
                self.order.push_back(s.trace);
            }
            spans.push(s);
            self.spans += 1;
            ctx.metrics.add("spans_stored", 1);
            ctx.observe(Obs::Stored { trace: s.trace, span: s.span, parent: s.parent });
        }
        while self.spans > MAX_SPANS {
            let Some(old) = self.order.pop_front() else { break };
            if let Some(v) = self.traces.remove(&old) {
                self.spans -= v.len();
                self.evicted += 1;
            }
        }
        for (to, spans) in acks {
            ctx.send(to, Msg::Ack { spans });
        }
    }
}

impl Actor for Storage {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: Cx) {
        if let Msg::Store { spans } = msg {
            self.store(spans, ctx);
        }
    }

    fn describe(&self) -> String {
        format!("{} traces, {} spans", self.traces.len(), self.spans)
    }
}
