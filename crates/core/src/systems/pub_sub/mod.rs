//! Pub-sub (SYSTEMS.md entry 11): a Kafka-like partitioned, replicated log. Producers send
//! keyed messages to partition leaders; brokers replicate each partition to its followers
//! and move the high watermark over the in-sync replicas; a controller elects leaders and
//! coordinates one consumer group, which rebalances with a chosen assignor; consumers poll,
//! process into a sink, and commit offsets. Three designs differ in when the offset is
//! committed — before processing (at-most-once), after (at-least-once), or atomically with
//! the effects, with an idempotent producer (effectively-once) — and the `acks` parameter
//! decides whether an acknowledged write survives its leader's crash. The lesson: delivery
//! guarantees are decided at both ends, by where the offset moves relative to the effect,
//! and by how many replicas hold a write before anyone is told it is safe.

pub mod broker;
pub mod checks;
pub mod consumer;
pub mod controller;
pub mod msg;
pub mod node;
pub mod producer;
pub mod sink;
pub mod views;

#[cfg(test)]
mod tests;

use crate::blocks::log::{Acks, LogConfig};
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::rng::Prng;
use crate::sim::swarm::FaultKind;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use consumer::Mode;
use controller::AssignorKind;
use msg::Obs;
use node::Node;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Follower fetch interval and broker tick.
pub const FETCH_MS: u64 = 20;
/// A follower that has not caught up for this long leaves the ISR (`replica.lag.time.max.ms`).
pub const REPLICA_LAG_MS: u64 = 300;
/// The controller declares a silent broker dead after this long.
pub const BROKER_SESSION_MS: u64 = 300;
/// The coordinator drops a silent consumer after this long (`session.timeout.ms`).
pub const GROUP_SESSION_MS: u64 = 400;
pub const PRODUCE_TIMEOUT_MS: u64 = 300;
pub const POLL_MS: u64 = 20;
/// Records per segment: retention deletes whole segments.
pub const SEGMENT_RECORDS: u64 = 50;
/// Retention by size, in records per replica (each record counts one byte): never reached
/// at the rates the parameters allow, it bounds a broker's memory when a workload is
/// pushed far past them.
pub const RETENTION_RECORDS: u64 = 20_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    CommitBefore,
    CommitAfter,
    Transactional,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "commit-before" => Strategy::CommitBefore,
            "commit-after" => Strategy::CommitAfter,
            "transactional" => Strategy::Transactional,
            _ => return None,
        })
    }

    fn mode(self) -> Mode {
        match self {
            Strategy::CommitBefore => Mode::CommitBefore,
            Strategy::CommitAfter => Mode::CommitAfter,
            Strategy::Transactional => Mode::Transactional,
        }
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "commit-before",
        title: "Commit, then process (at-most-once)",
        robust: false,
        summary: "The consumer commits the batch's end offset as soon as it has the batch, then processes it. A crash mid-batch leaves the rest of the batch committed but never processed: lost.",
    },
    StrategyDef {
        id: "commit-after",
        title: "Process, then commit (at-least-once)",
        robust: false,
        summary: "The consumer applies each record's effect, then commits. A crash mid-batch makes the next owner process the batch's head again: duplicates. A plain producer's retries add duplicates of their own.",
    },
    StrategyDef {
        id: "transactional",
        title: "Idempotent producer + atomic offset commit",
        robust: true,
        summary: "Brokers drop a producer's repeated sequence numbers; the consumer writes a batch's effects and its new offset to the sink in one compare-and-set, which refuses a batch not starting where the stored offset is. Effectively once.",
    },
];

const ACKS: &[&str] = &["all", "1"];
const ASSIGNORS: &[&str] = &["range", "round-robin", "sticky"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("partitions", "Partitions", "partitions", 1, 8, 4, "Partitions of the one topic."),
    ParamSpec::int("brokers", "Brokers", "nodes", 1, 5, 3, "Brokers hosting partition replicas."),
    ParamSpec::int(
        "replication",
        "Replication factor",
        "replicas",
        1,
        3,
        3,
        "Replicas per partition (at most the broker count).",
    ),
    ParamSpec::int(
        "min_isr",
        "min.insync.replicas",
        "replicas",
        1,
        3,
        2,
        "acks=all: writes are refused while fewer replicas are in sync (at most the replication factor).",
    ),
    ParamSpec::choice(
        "acks",
        "Producer acks",
        ACKS,
        "all",
        "all: acknowledged once every in-sync replica has it. 1: once the leader has it.",
    ),
    ParamSpec::int("producers", "Producers", "clients", 1, 4, 2, "Producers sending keyed messages."),
    ParamSpec::int("consumers", "Consumers", "members", 1, 6, 2, "Members of the consumer group."),
    ParamSpec::int("rate", "Message rate", "msg/s", 10, 800, 150, "Messages per second over all producers."),
    ParamSpec::int(
        "keys",
        "Keys",
        "keys",
        1,
        1_000,
        40,
        "Distinct message keys (a key always lands on one partition).",
    ),
    ParamSpec::choice(
        "assignor",
        "Assignor",
        ASSIGNORS,
        "range",
        "How the coordinator shares partitions among members.",
    ),
    ParamSpec::int("batch", "Batch size", "records", 1, 50, 10, "Records a consumer fetches and processes per poll."),
    ParamSpec::int("process_ms", "Processing time", "ms", 1, 40, 6, "Time to process one record."),
    ParamSpec::int(
        "retention_ms",
        "Retention",
        "ms",
        2_000,
        60_000,
        8_000,
        "Segments whose newest record is older than this are deleted.",
    ),
    ParamSpec::flag(
        "fence",
        "Generation fencing",
        true,
        "The coordinator refuses commits from an older generation or for a partition the member no longer owns.",
    ),
    ParamSpec::int(
        "outage_ms",
        "Broker outage",
        "ms",
        0,
        5_000,
        2_000,
        "How long each of the default plan's two broker crashes lasts.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "no-lost-ack",
        kind: CheckKind::Safety,
        description: "Every write acknowledged to a producer is read at the offset it was acknowledged at: no consumer reads another message there, or reads past it without it.",
    },
    CheckDef {
        name: "partition-order",
        kind: CheckKind::Safety,
        description: "Each consumer reads each partition in increasing offsets, and each producer's messages to a partition sit in the log in the order it sent them.",
    },
    CheckDef {
        name: "no-gap",
        kind: CheckKind::Safety,
        description: "Every offset below a partition's final committed offset had its effect applied in the sink.",
    },
    CheckDef {
        name: "effectively-once",
        kind: CheckKind::Safety,
        description: "No message's effect is applied twice, and every acknowledged message below the committed offset was applied.",
    },
    CheckDef {
        name: "monotonic-commits",
        kind: CheckKind::Safety,
        description: "A partition's committed offset never moves back.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "pub-sub",
    number: 11,
    title: "Pub-sub (Kafka-like log)",
    theme: "Messaging",
    question: "How do you build a publish/subscribe system that keeps order, survives broker and consumer crashes, and delivers each message's effect once?",
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
        rate_per_s: p.int("rate") as f64,
        think_ms: 0,
        duration_ms: 10_000,
        keys: p.int("keys").max(1) as u64,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// Two broker crashes of `outage_ms` (broker-0 at 3 s, the next broker at 7.5 s — each
/// leads partitions, so leadership moves), and consumer-0 crashing at 5.2 s for a second:
/// it leaves the group mid-batch and rejoins, two rebalances.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let outage = p.int("outage_ms").max(0) as u64;
    let brokers = p.int("brokers").max(1);
    let mut out = Vec::new();
    let crash = |out: &mut Vec<TimedFault>, node: String, at_ms: u64, for_ms: u64| {
        out.push(TimedFault { at_ms, fault: Fault::Crash { node: node.clone() } });
        out.push(TimedFault { at_ms: at_ms + for_ms, fault: Fault::Restart { node } });
    };
    if outage > 0 {
        crash(&mut out, "broker-0".into(), 3_000, outage);
    }
    crash(&mut out, "consumer-0".into(), 5_200, 1_000);
    if outage > 0 {
        crash(&mut out, format!("broker-{}", 1 % brokers), (3_000 + outage + 500).max(7_500), outage);
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t: Vec<String> = (0..p.int("brokers")).map(|i| format!("broker-{i}")).collect();
    t.extend((0..p.int("consumers")).map(|i| format!("consumer-{i}")));
    t.extend((0..p.int("producers")).map(|i| format!("producer-{i}")));
    t
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let (specs, props) = parts(scenario)?;
    crate::system::assemble(scenario, opts, specs, props, views::views)
}

/// The world itself, for tests that read node state.
pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let (specs, props) = parts(scenario)?;
    crate::system::world(scenario, opts, specs, props)
}

/// The replication factor and `min.insync.replicas` the parameters allow together.
fn replication(p: &Params) -> (usize, usize) {
    let rf = p.int("replication").clamp(1, p.int("brokers").max(1)) as usize;
    (rf, (p.int("min_isr").max(1) as usize).min(rf))
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// Nodes in order: producers, brokers, the controller, consumers, the sink.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("pub-sub has no strategy {:?}", scenario.strategy.id)))?;
    let assignor = AssignorKind::from_id(p.choice("assignor"))
        .ok_or_else(|| BuildError(format!("pub-sub has no assignor {:?}", p.choice("assignor"))))?;
    let acks = if p.choice("acks") == "1" { Acks::Leader } else { Acks::All };
    let (n_prod, n_brokers, n_cons) = (p.int("producers") as u32, p.int("brokers") as u32, p.int("consumers") as u32);
    let partitions = p.int("partitions") as u32;
    let (rf, min_isr) = replication(p);
    let brokers: Vec<NodeId> = (0..n_brokers).map(|i| n_prod + i).collect();
    let controller: NodeId = n_prod + n_brokers;
    let consumers: Vec<NodeId> = (0..n_cons).map(|i| controller + 1 + i).collect();
    let sink: NodeId = controller + 1 + n_cons;
    let replicas: Vec<Vec<u32>> =
        (0..partitions).map(|q| (0..rf as u32).map(|j| (q + j) % n_brokers).collect()).collect();
    let log = LogConfig {
        segment_max_bytes: SEGMENT_RECORDS,
        segment_max_records: SEGMENT_RECORDS,
        retention_bytes: Some(RETENTION_RECORDS),
        retention_ms: Some(p.int("retention_ms") as u64),
    };
    let w = &scenario.workload;
    let root = Prng::new(scenario.seed);
    let mut specs = Vec::new();
    for i in 0..n_prod {
        let cfg = producer::ProducerCfg {
            index: i,
            brokers: brokers.clone(),
            partitions,
            rate_per_s: w.rate_per_s / f64::from(n_prod),
            duration_ms: w.duration_ms,
            keys: w.keys,
            timeout_ms: PRODUCE_TIMEOUT_MS,
        };
        let rng = root.fork_n("producer", u64::from(i));
        specs.push(NodeSpec::new(
            format!("producer-{i}"),
            "producer",
            Node::Producer(producer::Producer::new(cfg, rng)),
        ));
    }
    for i in 0..n_brokers {
        let cfg = broker::BrokerCfg {
            index: i,
            controller,
            brokers: brokers.clone(),
            replicas: replicas.clone(),
            log,
            acks,
            min_isr,
            lag_ms: REPLICA_LAG_MS,
            fetch_ms: FETCH_MS,
            idempotent: strategy == Strategy::Transactional,
        };
        specs.push(NodeSpec::new(format!("broker-{i}"), "broker", Node::Broker(Box::new(broker::Broker::new(cfg)))));
    }
    let mut listeners = brokers.clone();
    listeners.extend(0..n_prod);
    listeners.extend(consumers.iter().copied());
    let ccfg = controller::ControllerCfg {
        brokers: brokers.clone(),
        listeners,
        consumers: consumers.clone(),
        replicas,
        broker_session_ms: BROKER_SESSION_MS,
        group_session_ms: GROUP_SESSION_MS,
        assignor,
        fence: p.flag("fence"),
    };
    specs.push(NodeSpec::new(
        "controller",
        "controller",
        Node::Controller(Box::new(controller::Controller::new(ccfg))),
    ));
    for i in 0..n_cons {
        let cfg = consumer::ConsumerCfg {
            index: i,
            coordinator: controller,
            sink,
            brokers: brokers.clone(),
            mode: strategy.mode(),
            batch: p.int("batch") as u32,
            process_ms: p.int("process_ms") as u64,
            poll_ms: POLL_MS,
        };
        specs.push(NodeSpec::new(format!("consumer-{i}"), "consumer", Node::Consumer(consumer::Consumer::new(cfg))));
    }
    specs.push(NodeSpec::new("sink", "sink", Node::Sink(sink::Sink::default())));
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::NoLostAck::default()),
        Box::new(checks::PartitionOrder::default()),
        Box::new(checks::NoGap::default()),
        Box::new(checks::EffectivelyOnce::default()),
        Box::new(checks::MonotonicCommits::default()),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let rate = s.workload.rate_per_s;
    let partitions = p.int("partitions") as f64;
    let (rf, min_isr) = replication(p);
    let consumers = p.int("consumers") as f64;
    let owners = consumers.min(partitions);
    let capacity = owners * 1_000.0 / p.int("process_ms") as f64;
    let retention_s = p.int("retention_ms") as f64 / 1_000.0;
    vec![
        Estimate::new(
            "Per partition",
            format!("{} msg/s", estimate::si(rate / partitions)),
            "rate ÷ partitions (keys hash evenly)",
        ),
        Estimate::new(
            "Consumer capacity",
            format!("{} msg/s", estimate::si(capacity)),
            "min(consumers, partitions) × 1000 / process_ms: a partition has one owner, extra members idle",
        ),
        Estimate::new(
            "Utilisation",
            format!("{:.0} %", 100.0 * rate / capacity.max(1.0)),
            "above 100 % the lag grows without bound",
        ),
        Estimate::new(
            "Replica writes",
            format!("{} /s", estimate::si(rate * rf as f64)),
            format!("rate × replication factor {rf}; acks=all waits for the ISR, min.insync {min_isr}"),
        ),
        Estimate::new(
            "Records retained",
            format!("≈ {}", estimate::si(rate * retention_s)),
            "rate × retention, plus up to one segment per replica",
        ),
        Estimate::new(
            "Failures tolerated",
            format!("{} broker(s)", rf.saturating_sub(min_isr)),
            "replication factor − min.insync.replicas, with acks=all still accepted",
        ),
    ]
}
