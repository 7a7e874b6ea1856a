//! Event-driven microservices (SYSTEMS.md entry 27): an order, inventory, billing and
//! shipping service, each with its own database, talk only through events on a
//! partitioned log. An order is a saga — reserve stock, charge, ship — compensated
//! (refund, release) when a step fails, run either by choreography (each service reacts
//! to the others' events) or by orchestration (the order service sends commands).
//!
//! Four designs: a dual write (commit, then publish from memory: a crash in between loses
//! the event), a transactional outbox with a relay but consumers that apply every
//! delivery (at-least-once delivery turns into double charges), the outbox with
//! idempotent consumers (a processed-event-id table written in the same local
//! transaction as the effect), and that robust design without a schema registry, so a
//! breaking schema change ships and a consumer cannot read what it receives. See
//! `explainer.md`.

pub mod bus;
pub mod checks;
pub mod msg;
pub mod node;
pub mod registry;
pub mod relay;
pub mod saga;
pub mod schema;
pub mod service;
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
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use msg::{Obs, Svc};
use node::Node;
use schema::Change;
use service::{Service, SvcCfg};

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    DualWrite,
    OutboxNoDedup,
    OutboxIdempotent,
    IncompatibleSchema,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "dual-write" => Strategy::DualWrite,
            "outbox-no-dedup" => Strategy::OutboxNoDedup,
            "outbox-idempotent" => Strategy::OutboxIdempotent,
            "incompatible-schema" => Strategy::IncompatibleSchema,
            _ => return None,
        })
    }

    pub fn outbox(self) -> bool {
        self != Strategy::DualWrite
    }

    pub fn dedup(self) -> bool {
        self != Strategy::OutboxNoDedup
    }

    pub fn registry(self) -> bool {
        self != Strategy::IncompatibleSchema
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "dual-write",
        title: "Dual write: commit, then publish",
        robust: false,
        summary: "Each service commits its row, then hands the event to an in-memory producer that sends it a few milliseconds later. A crash in between leaves the database saying the order exists while nobody downstream ever hears of it.",
    },
    StrategyDef {
        id: "outbox-no-dedup",
        title: "Outbox, consumers without dedup",
        robust: false,
        summary: "Events go into an outbox table in the same transaction as the row, and a relay publishes them: nothing is lost. But delivery is at-least-once — a relay crash republishes, a consumer crash re-reads past its committed offset — and every copy charges again.",
    },
    StrategyDef {
        id: "outbox-idempotent",
        title: "Outbox + idempotent consumers",
        robust: true,
        summary: "The outbox, plus a processed-event-id table written in the same local transaction as each effect: a redelivered event is recognised and skipped. A schema registry refuses breaking changes before any producer writes them.",
    },
    StrategyDef {
        id: "incompatible-schema",
        title: "No schema registry",
        robust: false,
        summary: "The robust pipeline, but schema changes are deployed without a compatibility check: a changed type or a removed field ships, and events written before the deploy (or after it) reach a reader that cannot decode them.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::choice(
        "saga",
        "Saga coordination",
        &["choreography", "orchestration"],
        "choreography",
        "Choreography: services react to each other's events. Orchestration: the order service sends commands and compensations.",
    ),
    ParamSpec::int("orders_per_s", "Orders", "orders/s", 1, 200, 40, "New orders per second for the first 8 s."),
    ParamSpec::int("partitions", "Partitions", "per topic", 1, 8, 3, "Partitions of each topic (orders are keyed by id)."),
    ParamSpec::int("poll_ms", "Poll interval", "ms", 5, 200, 20, "How often consumers fetch and the relay polls outboxes."),
    ParamSpec::int(
        "commit_ms",
        "Offset commit interval",
        "ms",
        10,
        2_000,
        200,
        "How often a consumer commits its offsets; a crash re-reads everything since the last commit.",
    ),
    ParamSpec::int(
        "linger_ms",
        "Producer linger",
        "ms",
        1,
        500,
        50,
        "Dual write: how long an event waits in the producer's memory buffer before it is sent.",
    ),
    ParamSpec::int(
        "relay_flush_ms",
        "Relay offset flush",
        "ms",
        10,
        5_000,
        500,
        "How often the relay tells services which outbox rows are published (and may be deleted); a relay crash republishes since the last flush.",
    ),
    ParamSpec::int(
        "rebalance_pct",
        "Rebalance redeliveries",
        "% of fetches",
        0,
        20,
        2,
        "Chance a fetch is answered from the committed offset, as after a consumer-group rebalance: duplicate delivery.",
    ),
    ParamSpec::int("fail_pct", "Step failure rate", "%", 0, 50, 10, "Chance a reservation, charge or shipment fails, triggering compensation."),
    ParamSpec::choice(
        "schema_change",
        "Schema change at deploy",
        &["none", "add-optional", "add-required", "change-type", "remove-field"],
        "change-type",
        "What version 2 of the order event changes. Only add-optional is compatible.",
    ),
    ParamSpec::int("deploy_at_ms", "Deploy at", "ms", 0, 8_000, 2_500, "When the schema change is deployed."),
    ParamSpec::flag(
        "dead_letter",
        "Dead-letter queue",
        true,
        "An event a consumer cannot decode goes to the dead-letter topic. Off, the consumer retries it forever and its partition stalls.",
    ),
    ParamSpec::int(
        "dedup_retain_ms",
        "Dedup retention",
        "ms",
        100,
        120_000,
        60_000,
        "How long a processed event id is kept; a duplicate arriving later is applied again.",
    ),
    ParamSpec::int("down_ms", "Crash outage", "ms", 50, 2_000, 300, "How long each crashed process stays down in the default scenario."),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "events-exactly-once",
        kind: CheckKind::Safety,
        description: "Every committed order gets each downstream step exactly once in effect, judged from the services' database rows against the order database (none twice, none for an unknown order, none missing at the end of a quiet run).",
    },
    CheckDef {
        name: "no-old-schema-crash",
        kind: CheckKind::Safety,
        description: "No consumer fails to decode an event it received, whatever schema version wrote it.",
    },
    CheckDef {
        name: "saga-consistent",
        kind: CheckKind::Safety,
        description: "At the end of a quiet run every order is fully done (stock, one charge, shipped) or fully compensated (nothing held, nothing kept, cancelled).",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

/// Time every in-flight saga gets after the last fault before missing steps count.
pub const SETTLE_MS: u64 = 2_500;

pub const DEF: SystemDef = SystemDef {
    id: "event-driven",
    number: 27,
    title: "Event-driven microservices",
    theme: "Messaging",
    question: "How do services that share no database keep an order consistent through events, when processes crash between writing and publishing, events arrive twice and schemas change?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 4_000,
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
        rate_per_s: p.int("orders_per_s") as f64,
        think_ms: 0,
        duration_ms: 8_000,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// Four crashes, one per moment the designs differ: the order service (a dual write
/// loses its buffer), the relay (republishes since its last flush), billing (re-reads
/// since its last offset commit, with effects already written), inventory.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let down = p.int("down_ms").max(1) as u64;
    let mut out = Vec::new();
    for (at, node) in [(1_500, "order"), (3_000, "relay"), (4_500, "billing"), (6_000, "inventory")] {
        out.push(TimedFault { at_ms: at, fault: Fault::Crash { node: node.into() } });
        out.push(TimedFault { at_ms: at + down, fault: Fault::Restart { node: node.into() } });
    }
    out
}

fn swarm_targets(_p: &Params) -> Vec<String> {
    let mut t: Vec<String> = Svc::ALL.iter().map(|s| s.name().to_string()).collect();
    t.extend(["bus", "relay", "registry"].map(String::from));
    t
}

/// When the last fault of a plan is over (a crash never restarted: never).
pub fn quiet_from(faults: &[TimedFault]) -> SimTime {
    crate::sim::fault::quiet_from(faults, false).unwrap_or(SimTime::MAX)
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

/// The order database's write capacity: a workload asking for more is served at this rate
/// (it also keeps the heaviest scenario's databases and check ledgers bounded).
pub const MAX_ORDERS_PER_S: f64 = 200.0;

/// Node ids: the four services 0–3 (in `Svc` order), then bus, relay, registry.
pub const BUS: u32 = 4;
pub const RELAY: u32 = 5;
pub const REGISTRY: u32 = 6;

fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("event-driven has no strategy {:?}", scenario.strategy.id)))?;
    let change = Change::from_id(p.choice("schema_change"))
        .ok_or_else(|| BuildError(format!("unknown schema change {:?}", p.choice("schema_change"))))?;
    let orchestrated = p.choice("saga") == "orchestration";
    let partitions = p.int("partitions") as u32;
    let poll_ms = p.int("poll_ms") as u64;
    let mut specs = Vec::new();
    for svc in Svc::ALL {
        let cfg = SvcCfg {
            svc,
            outbox: strategy.outbox(),
            dedup: strategy.dedup(),
            orchestrated,
            dlq: p.flag("dead_letter"),
            registry: strategy.registry().then_some(REGISTRY),
            bus: BUS,
            billing: Svc::Billing.index(),
            partitions,
            poll_ms,
            commit_ms: p.int("commit_ms") as u64,
            linger_ms: p.int("linger_ms") as u64,
            dedup_retain_ms: p.int("dedup_retain_ms") as u64,
            fail_pct: p.int("fail_pct") as u64,
            change,
            deploy_at_ms: p.int("deploy_at_ms") as u64,
            orders_per_s: scenario.workload.rate_per_s.min(MAX_ORDERS_PER_S),
            workload_ms: scenario.workload.duration_ms,
        };
        specs.push(NodeSpec::new(svc.name(), "service", Node::Service(Box::new(Service::new(cfg)))));
    }
    specs.push(NodeSpec::new("bus", "bus", Node::Bus(bus::Bus::new(partitions, p.int("rebalance_pct") as u64))));
    let services: Vec<u32> = Svc::ALL.iter().map(|s| s.index()).collect();
    let relay = relay::Relay::new(BUS, &services, poll_ms, p.int("relay_flush_ms") as u64);
    specs.push(NodeSpec::new("relay", "relay", Node::Relay(relay)));
    specs.push(NodeSpec::new("registry", "registry", Node::Registry(registry::Registry::new())));
    let judge_from = match quiet_from(&scenario.faults) {
        SimTime::MAX => SimTime::MAX,
        t => SimTime::from_ms(t.as_ms() as u64 + SETTLE_MS + 10 * poll_ms),
    };
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::ExactlyOnce::new(judge_from)),
        Box::new(checks::NoParseFailure::default()),
        Box::new(checks::SagaConsistent::new(judge_from)),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let rate = p.int("orders_per_s") as f64;
    let orchestrated = p.choice("saga") == "orchestration";
    // Happy path: placed, reserved, charged, shipped (+ 3 commands when orchestrated).
    let per_order = if orchestrated { 7.0 } else { 4.0 };
    let events = rate * per_order;
    let poll = p.int("poll_ms") as f64;
    let hops = if orchestrated { 7.0 } else { 4.0 };
    let retain_s = p.int("dedup_retain_ms") as f64 / 1_000.0;
    let flush_s = p.int("relay_flush_ms") as f64 / 1_000.0;
    let commit_s = p.int("commit_ms") as f64 / 1_000.0;
    vec![
        Estimate::new(
            "Events on the bus",
            format!("{} /s", estimate::si(events)),
            "orders/s × events per happy-path order",
        ),
        Estimate::new(
            "Saga latency",
            format!("≈ {} ms", estimate::si(hops * 1.5 * poll)),
            "each hop waits ~½ poll at the relay and ~½–1 poll at the consumer",
        ),
        Estimate::new(
            "Dedup table",
            format!("≤ {} ids per service", estimate::si(events * retain_s)),
            "events/s × retention: the price of idempotence",
        ),
        Estimate::new(
            "Duplicates per relay crash",
            format!("≤ {}", estimate::si(events * flush_s)),
            "everything published since the last offset flush is published again",
        ),
        Estimate::new(
            "Redelivered per consumer crash",
            format!("≤ {}", estimate::si(events * commit_s / 2.0)),
            "records since the last offset commit, on the topics one service reads",
        ),
        Estimate::new(
            "Lost per crash (dual write)",
            format!("≈ {}", estimate::si(events / 4.0 * p.int("linger_ms") as f64 / 1_000.0)),
            "events a service emits per second × the linger window",
        ),
    ]
}
