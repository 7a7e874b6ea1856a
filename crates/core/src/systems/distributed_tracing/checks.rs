//! The checks, each judged against the true call record rather than against what the
//! spans claim.
//!
//! [`Record`] rebuilds, from the observations, the call tree of every user request as the
//! calls were made (who called whom, reported by the caller at the instant of the call),
//! which span each served call produced, and which spans storage holds under which trace.
//! A trace id, a parent id or a sampled flag is the design's opinion; the call tree is the
//! fact the trace is supposed to describe.
//!
//! - `complete-traces`: every stored trace holds exactly the spans of one request's true
//!   call tree — each served call, none missing — with every parent id naming the span of
//!   the true caller.
//! - `error-traces-kept`: for every request that failed with an injected error, storage
//!   holds one trace with the failing span and the spans of all its callers.
//! - `collector-memory`: the spans in the collector's buffer, tallied from what it took in
//!   and released, never exceed the configured cap.

use super::msg::Obs;
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

/// Requests whose call trees the record keeps (the rest of a very long run is not judged:
/// it keeps the checks' memory bounded).
pub const MAX_ROOTS: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct ServedRec {
    service: NodeId,
    span: u64,
    injected: bool,
}

/// The true call trees, the span each call produced, and what storage holds.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// Call → the call it was made for (none: a user's request).
    parent: BTreeMap<u64, Option<u64>>,
    /// Call → its request (the root of its tree).
    root_of: BTreeMap<u64, u64>,
    /// Request → when it was sent.
    root_at: BTreeMap<u64, SimTime>,
    served: BTreeMap<u64, ServedRec>,
    span_rpc: BTreeMap<u64, u64>,
    /// Trace → (span, parent) as stored.
    stored: BTreeMap<u128, Vec<(u64, Option<u64>)>>,
    capped: bool,
    /// Spans storage holds that no service recorded.
    pub foreign: Vec<u64>,
}

impl Record {
    pub fn observe(&mut self, at: SimTime, obs: &Obs) {
        match *obs {
            Obs::Call { rpc, parent: None } => {
                if self.root_at.len() >= MAX_ROOTS {
                    self.capped = true;
                    return;
                }
                self.parent.insert(rpc, None);
                self.root_of.insert(rpc, rpc);
                self.root_at.insert(rpc, at);
            }
            Obs::Call { rpc, parent: Some(p) } => {
                if let Some(&r) = self.root_of.get(&p) {
                    self.parent.insert(rpc, Some(p));
                    self.root_of.insert(rpc, r);
                }
            }
            Obs::Served { rpc, service, span, injected, .. }
                if self.root_of.contains_key(&rpc) && !self.served.contains_key(&rpc) =>
            {
                self.served.insert(rpc, ServedRec { service, span, injected });
                self.span_rpc.insert(span, rpc);
            }
            Obs::Stored { trace, span, parent } => {
                if self.span_rpc.contains_key(&span) {
                    self.stored.entry(trace).or_default().push((span, parent));
                } else if !self.capped && self.foreign.len() < 16 {
                    self.foreign.push(span);
                }
            }
            _ => {}
        }
    }

    fn children(&self) -> BTreeMap<u64, Vec<u64>> {
        let mut out: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for (&c, &p) in &self.parent {
            if let Some(p) = p {
                out.entry(p).or_default().push(c);
            }
        }
        out
    }

    /// Every call of request `root`'s tree that was served.
    fn served_tree(&self, root: u64, children: &BTreeMap<u64, Vec<u64>>) -> BTreeSet<u64> {
        let mut out = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(r) = stack.pop() {
            if self.served.contains_key(&r) {
                out.insert(r);
            }
            stack.extend(children.get(&r).into_iter().flatten().copied());
        }
        out
    }

    fn judged(&self, root: u64, until: SimTime) -> bool {
        self.root_at.get(&root).is_some_and(|&t| t <= until)
    }
}

fn name(names: &[String], id: NodeId) -> &str {
    names.get(id as usize).map(String::as_str).unwrap_or("?")
}

/// `complete-traces`: see the module docs.
#[derive(Clone, Debug)]
pub struct CompleteTraces {
    rec: Record,
    names: Vec<String>,
    /// Requests sent after this are not judged (their spans may still be on the way).
    until: SimTime,
    samples: u64,
}

impl CompleteTraces {
    pub fn new(names: Vec<String>, until: SimTime) -> CompleteTraces {
        CompleteTraces { rec: Record::default(), names, until, samples: 0 }
    }

    fn judge(&mut self) -> Option<String> {
        let rec = &self.rec;
        if let Some(span) = rec.foreign.first() {
            return Some(format!("storage holds span {span:016x}, which no service recorded"));
        }
        let children = rec.children();
        let mut samples = 0;
        let mut first = None;
        for (trace, spans) in &rec.stored {
            let rpcs: Vec<u64> = spans.iter().map(|(s, _)| rec.span_rpc[s]).collect();
            let roots: BTreeSet<u64> = rpcs.iter().map(|r| rec.root_of[r]).collect();
            let root = *roots.iter().next().expect("a stored trace has a span");
            if !roots.iter().all(|&r| rec.judged(r, self.until)) {
                continue;
            }
            samples += 1;
            if first.is_some() {
                continue;
            }
            if roots.len() > 1 {
                first =
                    Some(format!("trace {:08x} mixes the spans of {} different requests", *trace as u32, roots.len()));
                continue;
            }
            let want = rec.served_tree(root, &children);
            let got: BTreeSet<u64> = rpcs.iter().copied().collect();
            let missing: Vec<&str> = want.difference(&got).map(|r| name(&self.names, rec.served[r].service)).collect();
            if !missing.is_empty() {
                first = Some(format!(
                    "trace {:08x} holds {} of the {} spans of its request: missing {}",
                    *trace as u32,
                    got.len(),
                    want.len(),
                    missing.join(", ")
                ));
                continue;
            }
            for (&(span, parent), r) in spans.iter().zip(&rpcs) {
                let me = name(&self.names, rec.served[r].service);
                let truth = rec.parent[r].map(|p| rec.served.get(&p).map(|s| s.span));
                let fine = match truth {
                    None => parent.is_none(),
                    Some(Some(caller_span)) => parent == Some(caller_span),
                    // The caller never finished (it crashed): its span does not exist, and
                    // the orphan must not name another span of the trace as its parent.
                    Some(None) => parent.is_none_or(|p| !spans.iter().any(|(s, _)| *s == p)),
                };
                if !fine {
                    first = Some(format!(
                        "trace {:08x}: the span of {me} ({span:016x}) names parent {} but its true caller's span is {}",
                        *trace as u32,
                        parent.map(|p| format!("{p:016x}")).unwrap_or_else(|| "none".into()),
                        match truth {
                            None => "none (it is the request's root)".to_string(),
                            Some(Some(s)) => format!("{s:016x}"),
                            Some(None) => "unrecorded".to_string(),
                        }
                    ));
                    break;
                }
            }
        }
        self.samples = samples;
        first
    }
}

impl Property<Obs> for CompleteTraces {
    fn name(&self) -> &'static str {
        "complete-traces"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        self.rec.observe(at, obs);
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        self.judge()
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        format!("{} stored traces, each exactly its request's true call tree", self.samples)
    }
}

/// `error-traces-kept`: see the module docs.
#[derive(Clone, Debug)]
pub struct ErrorTracesKept {
    rec: Record,
    names: Vec<String>,
    until: SimTime,
    samples: u64,
    kept: u64,
}

impl ErrorTracesKept {
    pub fn new(names: Vec<String>, until: SimTime) -> ErrorTracesKept {
        ErrorTracesKept { rec: Record::default(), names, until, samples: 0, kept: 0 }
    }

    fn judge(&mut self) -> Option<String> {
        let rec = &self.rec;
        let mut span_trace: BTreeMap<u64, u128> = BTreeMap::new();
        for (trace, spans) in &rec.stored {
            for (s, _) in spans {
                span_trace.insert(*s, *trace);
            }
        }
        let (mut samples, mut kept, mut lost) = (0, 0, Vec::new());
        let mut first = None;
        for (&rpc, s) in rec.served.iter().filter(|(_, s)| s.injected) {
            if !rec.judged(rec.root_of[&rpc], self.until) {
                continue;
            }
            samples += 1;
            // The failing call and every caller above it that finished.
            let mut chain = vec![s.span];
            let mut at = rec.parent[&rpc];
            while let Some(p) = at {
                if let Some(ps) = rec.served.get(&p) {
                    chain.push(ps.span);
                }
                at = rec.parent[&p];
            }
            let traces: BTreeSet<Option<&u128>> = chain.iter().map(|sp| span_trace.get(sp)).collect();
            let whole = traces.len() == 1 && !traces.contains(&None);
            if whole {
                kept += 1;
                continue;
            }
            lost.push(rpc);
            if first.is_none() {
                let stored = chain.iter().filter(|sp| span_trace.contains_key(sp)).count();
                first = Some(if stored == 0 {
                    format!(
                        "a request failed at {} (injected error) and storage holds none of the {} spans from the failure up to the root",
                        name(&self.names, s.service),
                        chain.len()
                    )
                } else {
                    format!(
                        "a request failed at {} (injected error) but no one stored trace holds the failure and all its callers ({} of {} spans stored, in {} traces)",
                        name(&self.names, s.service),
                        stored,
                        chain.len(),
                        traces.iter().flatten().count()
                    )
                });
            }
        }
        self.samples = samples;
        self.kept = kept;
        first.map(|f| format!("{f}; {} of {samples} failed requests lost", lost.len()))
    }
}

impl Property<Obs> for ErrorTracesKept {
    fn name(&self) -> &'static str {
        "error-traces-kept"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        self.rec.observe(at, obs);
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        self.judge()
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        format!("{} of {} requests with an injected error stored as a whole trace", self.kept, self.samples)
    }
}

/// `collector-memory`: see the module docs.
#[derive(Clone, Debug)]
pub struct CollectorMemory {
    cap: u64,
    held: u64,
    peak: u64,
    samples: u64,
}

impl CollectorMemory {
    pub fn new(cap: u64) -> CollectorMemory {
        CollectorMemory { cap, held: 0, peak: 0, samples: 0 }
    }
}

impl Property<Obs> for CollectorMemory {
    fn name(&self) -> &'static str {
        "collector-memory"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Buffered { n } => {
                self.samples += u64::from(n);
                self.held += u64::from(n);
                self.peak = self.peak.max(self.held);
                (self.held > self.cap)
                    .then(|| format!("the collector holds {} spans, over its cap of {}", self.held, self.cap))
            }
            Obs::Released { n } => {
                self.held = self.held.saturating_sub(u64::from(n));
                None
            }
            Obs::Reset => {
                self.held = 0;
                None
            }
            _ => None,
        }
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        format!("peak {} buffered spans ≤ cap {} ({} spans buffered in all)", self.peak, self.cap, self.samples)
    }
}
