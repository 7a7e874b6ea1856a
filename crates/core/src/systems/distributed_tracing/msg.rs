//! Messages and observations of the tracing world. Three conversations: RPCs between
//! services (each call carrying a `traceparent` header when the design propagates
//! context), span export from each service's exporter to the collector, and kept spans
//! from the collector to storage, whose acknowledgement goes back to the exporters.
//!
//! The checks need what no span can be trusted to say: which call truly caused which.
//! Every RPC has an id the transport uses to match answers to calls (as an HTTP/2 stream
//! or a gRPC call id would); the caller reports each call it makes with the call it was
//! serving (`Obs::Call`), the callee reports which span it recorded for the call it served
//! (`Obs::Served`) and storage reports each span it persisted (`Obs::Stored`). The checks
//! rebuild the true call tree from the first and judge the stored traces against it.

use crate::sim::node::Message;
use crate::sim::NodeId;

/// One recorded span, as an exporter ships it (the fields of an OpenTelemetry span the
/// model needs). Times are the service's own clock, in microseconds.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct SpanRec {
    pub trace: u128,
    pub span: u64,
    pub parent: Option<u64>,
    /// The node that served the call.
    pub service: NodeId,
    pub start_us: u64,
    pub end_us: u64,
    pub error: bool,
    /// How many calls this span made: the collector knows a trace is complete when every
    /// span's children have arrived.
    pub children: u16,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Caller → callee. `traceparent` is the W3C header, when the design sends one.
    Call { rpc: u64, traceparent: Option<String> },
    /// Callee → caller.
    Reply { rpc: u64, ok: bool },
    /// Exporter → collector: a batch of finished spans.
    Export { spans: Vec<SpanRec> },
    /// Collector → storage: spans to persist; `from` names each span's exporter, which
    /// storage acknowledges once the span is durable.
    Store { spans: Vec<(SpanRec, NodeId)> },
    /// Collector or storage → exporter: these spans need no resending.
    Ack { spans: Vec<u64> },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Call { rpc, traceparent: Some(tp) } => {
                format!("call #{:04x} tp {}…", rpc & 0xffff, &tp[..12.min(tp.len())])
            }
            Msg::Call { rpc, traceparent: None } => format!("call #{:04x} (no context)", rpc & 0xffff),
            Msg::Reply { rpc, ok } => format!("reply #{:04x} {}", rpc & 0xffff, if *ok { "ok" } else { "error" }),
            Msg::Export { spans } => format!("export {} spans", spans.len()),
            Msg::Store { spans } => format!("store {} spans", spans.len()),
            Msg::Ack { spans } => format!("ack {} spans", spans.len()),
        }
    }
}

/// What nodes report to the checks (at true time).
#[derive(Clone, Debug)]
pub enum Obs {
    /// A call was sent: `parent` is the call the caller was serving (none for a client's
    /// request: the root of a true call tree).
    Call {
        rpc: u64,
        parent: Option<u64>,
    },
    /// The callee finished serving `rpc` and recorded span `span` of trace `trace` for it
    /// (`exported`: the span goes to the collector; unsampled spans are not recorded).
    /// `injected`: it failed on purpose (the rare error the run injects).
    Served {
        rpc: u64,
        service: NodeId,
        trace: u128,
        span: u64,
        parent: Option<u64>,
        exported: bool,
        injected: bool,
    },
    /// Storage persisted a span it did not hold.
    Stored {
        trace: u128,
        span: u64,
        parent: Option<u64>,
    },
    /// The collector took `n` spans into its buffer / freed `n` spans from it.
    Buffered {
        n: u32,
    },
    Released {
        n: u32,
    },
    /// The collector restarted with an empty buffer.
    Reset,
}
