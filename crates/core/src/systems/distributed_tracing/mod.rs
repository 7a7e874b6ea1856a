//! Distributed tracing (SYSTEMS.md entry 29): a small microservice graph — a frontend
//! calling auth, then cart (→ pricing) and search (→ a fan-out to shards) in parallel —
//! instrumented with spans, the W3C `traceparent` header (`blocks::traceparent`), an
//! exporter per service, a collector that samples, and trace storage. Pricing fails a rare
//! share of calls: the traces everyone wants to keep.
//!
//! Three designs: no context propagation (every service starts its own trace: the pieces
//! never join), head sampling (the frontend flips the coin before anything happened, so
//! most error traces are dropped), and tail sampling (record everything, buffer per trace
//! at the collector, decide when the trace is whole: keep every error trace and a share of
//! the rest). The checks judge stored traces against the true call tree recorded as calls
//! were made. See `explainer.md`.

pub mod checks;
pub mod client;
pub mod collector;
pub mod exporter;
pub mod msg;
pub mod node;
pub mod service;
pub mod storage;
pub mod views;

#[cfg(test)]
mod tests;

use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use collector::{Collector, Mode, WhenFull};
use msg::Obs;
use node::Node;
use service::{Service, SvcCfg};

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    NoPropagation,
    HeadSampling,
    TailSampling,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "no-propagation" => Strategy::NoPropagation,
            "head-sampling" => Strategy::HeadSampling,
            "tail-sampling" => Strategy::TailSampling,
            _ => return None,
        })
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "no-propagation",
        title: "No context propagation",
        robust: false,
        summary: "Every service records spans, but calls carry no traceparent: each service starts a trace of its own (sampled at the configured rate). Storage fills with one-span fragments that no query can join into a request.",
    },
    StrategyDef {
        id: "head-sampling",
        title: "Propagated context, head sampling",
        robust: false,
        summary: "The frontend decides at the start of each request whether to sample it and the traceparent's sampled flag carries the decision to every service. Traces are whole, but the coin is flipped before anyone knows the request will fail: most error traces are never recorded.",
    },
    StrategyDef {
        id: "tail-sampling",
        title: "Propagated context, tail sampling",
        robust: true,
        summary: "Every service records every span; the collector buffers spans per trace until the trace is whole (or a decision wait passes), then keeps every trace with an error and a hashed share of the rest. Exporters resend until storage or the collector's drop acknowledges.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("requests_per_s", "Requests", "req/s", 1, 200, 100, "User requests per second for the first 8 s."),
    ParamSpec::int("shards", "Search shards", "shards", 1, 6, 3, "How many shards search fans out to (in parallel)."),
    ParamSpec::int(
        "error_permille",
        "Injected errors",
        "‰ of pricing calls",
        0,
        100,
        10,
        "Share of pricing calls that fail on purpose: the rare errors tracing must not lose.",
    ),
    ParamSpec::int(
        "sample_pct",
        "Sampling rate",
        "%",
        1,
        100,
        10,
        "Head sampling: chance a request is traced. Tail sampling: share of error-free traces kept.",
    ),
    ParamSpec::int(
        "decision_wait_ms",
        "Decision wait",
        "ms",
        200,
        10_000,
        2_000,
        "Tail sampling: how long the collector waits for an incomplete trace before deciding on what it has.",
    ),
    ParamSpec::int(
        "buffer_spans",
        "Collector buffer",
        "spans",
        100,
        20_000,
        4_000,
        "Tail sampling: the most spans the collector holds while traces wait for a decision.",
    ),
    ParamSpec::choice(
        "when_full",
        "When the buffer is full",
        &["decide-early", "evict", "grow"],
        "decide-early",
        "Decide the oldest trace now on what has arrived; evict it undecided (its spans are lost); or let memory grow.",
    ),
    ParamSpec::int(
        "shard_ms",
        "Shard work",
        "ms (mean)",
        1,
        200,
        8,
        "Mean work of one search shard: the fan-out's tail.",
    ),
    ParamSpec::int("timeout_ms", "RPC timeout", "ms", 20, 2_000, 300, "A call unanswered this long fails its caller."),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "complete-traces",
        kind: CheckKind::Safety,
        description: "Every stored trace is exactly one request's true call tree: a span for each call that was served, none missing, each parent id naming the true caller's span.",
    },
    CheckDef {
        name: "error-traces-kept",
        kind: CheckKind::Safety,
        description: "Every request that failed with an injected error is stored as one trace holding the failing span and all its callers' spans.",
    },
    CheckDef {
        name: "collector-memory",
        kind: CheckKind::Safety,
        description: "The spans in the collector's buffer, tallied from what it took in and released, never exceed the buffer cap.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

/// How long user requests are sent.
pub const WORKLOAD_MS: u64 = 8_000;
/// Requests per second the frontend's users send at most (keeps the heaviest run bounded).
pub const MAX_REQUESTS_PER_S: f64 = 200.0;
/// Time after the decision wait for a request's last spans to be decided and stored.
pub const SETTLE_MS: u64 = 1_500;

pub const DEF: SystemDef = SystemDef {
    id: "distributed-tracing",
    number: 29,
    title: "Distributed tracing",
    theme: "Observability",
    question: "How do you follow one request through dozens of services, and keep the traces that matter without storing them all?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 5_000,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

fn default_workload(p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: p.int("requests_per_s") as f64,
        think_ms: 0,
        duration_ms: WORKLOAD_MS,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// Two faults every design meets: search crashes for 300 ms (its in-flight calls die, the
/// shards it called still report spans whose parent will never exist, the frontend times
/// out), and the frontend is cut off from the collector for 800 ms (its spans wait in its
/// exporter and arrive late).
fn default_faults(_p: &Params) -> Vec<TimedFault> {
    vec![
        TimedFault { at_ms: 3_000, fault: Fault::Crash { node: "search".into() } },
        TimedFault { at_ms: 3_300, fault: Fault::Restart { node: "search".into() } },
        TimedFault {
            at_ms: 5_000,
            fault: Fault::Partition { a: vec!["frontend".into()], b: vec!["collector".into()], one_way: false },
        },
        TimedFault { at_ms: 5_800, fault: Fault::Heal },
    ]
}

/// The services' node names, in node-id order (after the client, node 0).
pub fn service_names(shards: u32) -> Vec<String> {
    let mut v: Vec<String> = ["frontend", "auth", "cart", "pricing", "search"].map(String::from).to_vec();
    v.extend((0..shards).map(|i| format!("shard-{i}")));
    v
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t = service_names(p.int("shards") as u32);
    t.push("collector".into());
    t.push("storage".into());
    t
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let (specs, props) = parts(scenario)?;
    system::assemble(scenario, opts, specs, props, views::views)
}

pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let (specs, props) = parts(scenario)?;
    system::world(scenario, opts, specs, props)
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// Node ids: client 0, frontend 1, auth 2, cart 3, pricing 4, search 5, shards 6…,
/// then collector and storage.
pub const FRONTEND: NodeId = 1;
const AUTH: NodeId = 2;
const CART: NodeId = 3;
const PRICING: NodeId = 4;
const SEARCH: NodeId = 5;
const SHARD0: NodeId = 6;

fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("distributed-tracing has no strategy {:?}", scenario.strategy.id)))?;
    let when_full = WhenFull::from_id(p.choice("when_full"))
        .ok_or_else(|| BuildError(format!("unknown when_full {:?}", p.choice("when_full"))))?;
    let shards = p.int("shards") as u32;
    let collector_id = SHARD0 + shards;
    let storage_id = collector_id + 1;
    let sample = p.int("sample_pct") as f64 / 100.0;
    let wait_ms = p.int("decision_wait_ms") as u64;
    let (propagate, root_sample) = match strategy {
        Strategy::NoPropagation => (false, sample),
        Strategy::HeadSampling => (true, sample),
        Strategy::TailSampling => (true, 1.0),
    };
    let workload = scenario.workload.capped(MAX_REQUESTS_PER_S, scenario.workload.duration_ms);
    let mut specs = vec![NodeSpec::new("client", "client", Node::Client(client::Client::new(workload, FRONTEND)))];
    let shard_ids: Vec<NodeId> = (0..shards).map(|i| SHARD0 + i).collect();
    let svc = |stages: Vec<Vec<NodeId>>, work_ms: f64, error_permille: u64| SvcCfg {
        stages,
        work_ms,
        error_permille,
        timeout_ms: p.int("timeout_ms") as u64,
        collector: collector_id,
        propagate,
        root_sample,
    };
    let plan = [
        svc(vec![vec![AUTH], vec![CART, SEARCH]], 1.0, 0),
        svc(vec![], 2.0, 0),
        svc(vec![vec![PRICING]], 2.0, 0),
        svc(vec![], 3.0, p.int("error_permille") as u64),
        svc(vec![shard_ids], 1.0, 0),
    ];
    let names = service_names(shards);
    let shard_cfgs = (0..shards).map(|_| svc(vec![], p.int("shard_ms") as f64, 0));
    for (name, cfg) in names.iter().zip(plan.into_iter().chain(shard_cfgs)) {
        specs.push(NodeSpec::new(name.clone(), "service", Node::Service(Box::new(Service::new(cfg)))));
    }
    let mode = match strategy {
        Strategy::TailSampling => {
            Mode::Tail { wait_ms, keep_pct: p.int("sample_pct") as u64, cap: p.int("buffer_spans") as usize, when_full }
        }
        _ => Mode::PassThrough,
    };
    specs.push(NodeSpec::new("collector", "collector", Node::Collector(Box::new(Collector::new(mode, storage_id)))));
    specs.push(NodeSpec::new("storage", "storage", Node::Storage(storage::Storage::default())));
    let node_names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    // Requests sent after this are not judged: their last spans may still be waiting for
    // a decision when the run ends.
    let horizon = scenario.horizon_ms();
    let until = SimTime::from_ms(scenario.workload.duration_ms.min(horizon.saturating_sub(wait_ms + SETTLE_MS)));
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::CompleteTraces::new(node_names.clone(), until)),
        Box::new(checks::ErrorTracesKept::new(node_names, until)),
        Box::new(checks::CollectorMemory::new(p.int("buffer_spans") as u64)),
    ];
    Ok((specs, props))
}

/// Expected maximum of `n` exponentials of mean 1: the harmonic number H(n).
fn harmonic(n: u32) -> f64 {
    (1..=n).map(|k| 1.0 / f64::from(k)).sum()
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let rate = (p.int("requests_per_s") as f64).min(MAX_REQUESTS_PER_S);
    let shards = p.int("shards") as u32;
    let per_request = 5.0 + f64::from(shards);
    let spans = rate * per_request;
    let err = p.int("error_permille") as f64 / 1_000.0;
    let share = p.int("sample_pct") as f64 / 100.0;
    let wait_s = p.int("decision_wait_ms") as f64 / 1_000.0;
    const SPAN_BYTES: f64 = 500.0;
    // Critical path: own work (0.2 ms floor + mean) of frontend and auth, then the slower
    // of cart → pricing and search → the slowest shard, plus ~1 ms per network round trip.
    let work = |mean: f64| 0.2 + mean;
    let shard_ms = p.int("shard_ms") as f64;
    let slowest_shard = 0.2 + shard_ms * harmonic(shards);
    let branch = (work(2.0) + work(3.0) + 1.4).max(work(1.0) + slowest_shard + 1.4);
    let critical = work(1.0) + work(2.0) + 1.4 + branch + 1.4;
    vec![
        Estimate::new(
            "Spans per request",
            format!("{}", 5 + shards),
            "frontend, auth, cart, pricing, search + one per shard",
        ),
        Estimate::new("Spans produced", format!("{} /s", estimate::si(spans)), "requests/s × spans per request"),
        Estimate::new(
            "Error traces",
            format!("{} /s", estimate::si(rate * err)),
            "requests/s × injected error rate at pricing",
        ),
        Estimate::new(
            "Error traces head sampling keeps",
            format!("{} %", estimate::si(100.0 * share)),
            "the coin is flipped before the error happens: the sampling rate",
        ),
        Estimate::new(
            "Storage per day (tail)",
            estimate::bytes(spans * (share + err * (1.0 - share)) * 86_400.0 * SPAN_BYTES),
            "spans/s × (keep share + errors) × 86,400 s × ~500 B per span",
        ),
        Estimate::new(
            "Collector buffer (worst case)",
            format!("{} spans", estimate::si(spans * wait_s)),
            "spans/s × decision wait, if no trace ever completes early",
        ),
        Estimate::new(
            "Critical path",
            format!("≈ {} ms", estimate::si(critical)),
            "frontend + auth + the slower branch; n shards in parallel wait for the slowest: shard mean × H(n)",
        ),
    ]
}
