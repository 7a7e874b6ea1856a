//! Distributed transactions (SYSTEMS.md entry 24): a coordinator and a few participants,
//! each with a write-ahead log, commit client transactions that write a key at several
//! participants. Three atomic-commitment protocols side by side: two-phase commit whose
//! coordinator keeps decisions only in memory (naive), two-phase commit with a forced
//! coordinator log and presumed abort (safe, but it blocks while the coordinator is
//! down), and three-phase commit (does not block on a coordinator crash, but a partition
//! or a lost message splits a transaction's outcome). See `explainer.md`.
//!
//! The default scenario crashes a participant and, 50 ms later, the coordinator, then
//! restarts them in the other order — several times, as the outage length allows. A
//! participant crash at a busy moment almost always catches it voted yes but not yet told
//! the outcome, which is the moment the naive coordinator's amnesia turns into a split
//! outcome.

pub mod checks;
pub mod client;
pub mod coordinator;
pub mod msg;
pub mod node;
pub mod outages;
pub mod participant;
pub mod txn_bits;
pub mod views;

#[cfg(test)]
mod tests;

use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::net::LinkConfig;
use crate::sim::swarm::FaultKind;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use coordinator::{CoordCfg, Coordinator, Mode};
use msg::Obs;
use node::Node;
use participant::{PartCfg, Participant};

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Which protocol the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    TwoPcNoLog,
    TwoPcLogged,
    ThreePc,
}

impl Strategy {
    /// The protocol a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "2pc-no-log" => Strategy::TwoPcNoLog,
            "2pc-logged" => Strategy::TwoPcLogged,
            "3pc" => Strategy::ThreePc,
            _ => return None,
        })
    }

    fn mode(self) -> Mode {
        match self {
            Strategy::TwoPcNoLog => Mode::NoLog,
            Strategy::TwoPcLogged => Mode::Logged,
            Strategy::ThreePc => Mode::ThreePhase,
        }
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "2pc-no-log",
        title: "2PC, coordinator without a log",
        robust: false,
        summary: "Prepare, vote, commit — but the coordinator keeps its decisions in memory. After a crash it answers every question about a transaction it forgot with \"abort\", even one some participants already committed.",
    },
    StrategyDef {
        id: "2pc-logged",
        title: "2PC with a coordinator log (presumed abort)",
        robust: true,
        summary: "The coordinator forces its commit record before anyone hears \"commit\"; no record means abort. Recovery re-sends logged commits; in-doubt participants ask. Safe under any fault, but prepared participants hold their locks while the coordinator is down.",
    },
    StrategyDef {
        id: "3pc",
        title: "Three-phase commit",
        robust: false,
        summary: "CanCommit, PreCommit, DoCommit, with timeouts: a participant that times out pre-committed commits, one still waiting aborts. No blocking when the coordinator crashes — but a partition or a lost pre-commit leaves one side committing and the other aborting.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "participants",
        "Participants",
        "nodes",
        2,
        7,
        3,
        "Resource managers, each with its own keys, locks and log.",
    ),
    ParamSpec::int(
        "span",
        "Participants per transaction",
        "nodes",
        1,
        7,
        3,
        "How many participants each transaction writes to (at most all of them).",
    ),
    ParamSpec::int(
        "clients",
        "Clients",
        "nodes",
        1,
        8,
        4,
        "Closed-loop clients submitting transactions to the coordinator.",
    ),
    ParamSpec::int("fsync_ms", "Forced write", "ms", 0, 50, 2, "How long a forced log write (fsync) takes."),
    ParamSpec::int(
        "no_vote_pct",
        "Spontaneous no votes",
        "%",
        0,
        50,
        2,
        "Chance a participant votes no on its own (a failed constraint), besides lock conflicts.",
    ),
    ParamSpec::int(
        "vote_timeout_ms",
        "Vote timeout",
        "ms",
        20,
        1_000,
        100,
        "How long the coordinator waits for votes before aborting (3PC: also for pre-commit acks).",
    ),
    ParamSpec::int(
        "coordinator_down_ms",
        "Coordinator outage",
        "ms",
        50,
        3_000,
        600,
        "How long the coordinator stays down in each crash of the default scenario.",
    ),
    ParamSpec::flag(
        "inquire",
        "In-doubt participants ask",
        true,
        "Prepared participants ask the coordinator for the outcome every 100 ms. Off, they wait to be told.",
    ),
    ParamSpec::int(
        "heuristic_ms",
        "Heuristic abort after",
        "ms",
        0,
        5_000,
        0,
        "2PC: a participant in doubt this long aborts on its own (0: never) — XA's heuristic decision.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "atomicity",
        kind: CheckKind::Safety,
        description: "No transaction is committed by one participant and aborted by another, judged from what each participant acted on.",
    },
    CheckDef {
        name: "no-blocking-after-recovery",
        kind: CheckKind::Liveness,
        description: "A participant that voted yes learns the outcome within vote timeout + 4 forced writes + 0.5 s of true time in which the coordinator is up and the network whole.",
    },
    CheckDef {
        name: "durability",
        kind: CheckKind::Safety,
        description: "A transaction the client was told committed is committed at every participant it touched (by the end, when the plan repairs its faults).",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "distributed-transactions",
    number: 24,
    title: "Distributed transactions",
    theme: "Coordination",
    question: "How do you commit a transaction across several databases so that it happens everywhere or nowhere, even when the coordinator crashes?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 1_500,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

fn default_workload(_p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Closed,
        rate_per_s: 200.0,
        think_ms: 5,
        duration_ms: 10_000,
        keys: 32,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// The participant every default episode crashes (exists for every participant count).
const VICTIM: &str = "participant-1";

/// Episodes of: participant-1 crashes; 50 ms later the coordinator crashes; the
/// coordinator comes back after `coordinator_down_ms`, participant-1 100 ms after it. As
/// many as fit before 9 s, 1.5 s apart (at least one), so the last is repaired before the
/// workload ends.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let down = p.int("coordinator_down_ms").max(0) as u64;
    let mut out = Vec::new();
    let mut at = 1_000;
    loop {
        let end = at + 150 + down;
        if end > 9_000 && !out.is_empty() {
            break;
        }
        let fault = |at_ms, fault| TimedFault { at_ms, fault };
        out.push(fault(at, Fault::Crash { node: VICTIM.into() }));
        out.push(fault(at + 50, Fault::Crash { node: "coordinator".into() }));
        out.push(fault(at + 50 + down, Fault::Restart { node: "coordinator".into() }));
        out.push(fault(end, Fault::Restart { node: VICTIM.into() }));
        at = end + 1_500;
    }
    out
}

fn participant_names(p: &Params) -> Vec<String> {
    (0..p.int("participants")).map(|i| format!("participant-{i}")).collect()
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t = vec!["coordinator".to_string()];
    t.extend(participant_names(p));
    t.push("participant".into());
    t
}

/// How long a 3PC participant waits before acting alone: it must outlast the
/// coordinator's vote timeout plus a forced write and a network delay, or it would abort
/// a transaction the coordinator is about to pre-commit even with no fault at all.
pub fn three_pc_timeout_ms(p: &Params) -> u64 {
    2 * p.int("vote_timeout_ms") as u64 + 2 * p.int("fsync_ms") as u64 + 20
}

/// How long a client waits for an outcome: longer than a 3PC commit that waits out the
/// pre-commit acknowledgements.
pub fn client_timeout_ms(p: &Params) -> u64 {
    3 * p.int("vote_timeout_ms") as u64 + 10 * p.int("fsync_ms") as u64 + 200
}

/// The `no-blocking-after-recovery` bound.
pub fn doubt_bound_ms(p: &Params) -> u64 {
    p.int("vote_timeout_ms") as u64 + 4 * p.int("fsync_ms") as u64 + 500
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let (specs, props) = parts(scenario, participant::CHECKPOINT_RECORDS)?;
    system::assemble(scenario, opts, specs, props, views::views)
}

/// The world itself (for tests that read the nodes after a run).
pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    build_world_checkpointing(scenario, opts, participant::CHECKPOINT_RECORDS)
}

/// The world with every log checkpointed each `every` records (tests use a small
/// interval so that short runs checkpoint often).
pub fn build_world_checkpointing(
    scenario: &Scenario,
    opts: &BuildOptions,
    every: usize,
) -> Result<World<Node>, BuildError> {
    let (specs, props) = parts(scenario, every)?;
    system::world(scenario, opts, specs, props)
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// Nodes (coordinator, then participants, then clients) and checks of a scenario; every
/// log is checkpointed each `checkpoint_every` records.
fn parts(scenario: &Scenario, checkpoint_every: usize) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("distributed-transactions has no strategy {:?}", scenario.strategy.id)))?;
    let n = p.int("participants") as u32;
    let coordinator: NodeId = 0;
    let participants: Vec<NodeId> = (1..=n).collect();
    let mut specs = Vec::new();
    let cfg = CoordCfg {
        mode: strategy.mode(),
        fsync_ms: p.int("fsync_ms") as u64,
        vote_timeout_ms: p.int("vote_timeout_ms") as u64,
    };
    let mut c = Coordinator::new(cfg);
    c.checkpoint_every = checkpoint_every;
    specs.push(NodeSpec::new("coordinator", "coordinator", Node::Coordinator(c)));
    let part_names = participant_names(p);
    for name in &part_names {
        let cfg = PartCfg {
            coordinator,
            three_phase: strategy == Strategy::ThreePc,
            inquire: p.flag("inquire"),
            fsync_ms: p.int("fsync_ms") as u64,
            no_vote_pct: p.int("no_vote_pct") as u64,
            timeout_ms: three_pc_timeout_ms(p),
            heuristic_ms: p.int("heuristic_ms") as u64,
        };
        let mut part = Participant::new(cfg);
        part.checkpoint_every = checkpoint_every;
        specs.push(NodeSpec::new(name.clone(), "participant", Node::Participant(part)));
    }
    let span = p.int("span") as usize;
    for i in 0..p.int("clients") as u32 {
        let c = client::Client::new(
            i,
            coordinator,
            participants.clone(),
            span,
            scenario.workload.clone(),
            client_timeout_ms(p),
        );
        specs.push(NodeSpec::new(format!("client-{i}"), "client", Node::Client(c)));
    }
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let outages = outages::per_participant(&scenario.faults, "coordinator", &part_names);
    let repaired = outages.iter().all(|w| w.last().is_none_or(|last| last.1 != crate::sim::time::SimTime::MAX));
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::Atomicity::new(names.clone())),
        Box::new(checks::NoBlocking::new(doubt_bound_ms(p), participants, outages, names.clone())),
        Box::new(checks::Durability::new(repaired, names)),
    ];
    Ok((specs, props))
}

/// Per-transaction costs of the run's protocol, derived from the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let strategy = Strategy::from_id(s.strategy.id).unwrap_or(Strategy::TwoPcLogged);
    let n = p.int("span").min(p.int("participants")).max(1) as u64;
    let f = p.int("fsync_ms") as f64;
    let hop = LinkConfig::default().latency.mean_us() / 1_000.0;
    let ms = |x: f64| format!("{} ms", estimate::si(x));
    // (messages per commit, forced writes, sequential hops to the client's answer,
    //  sequential forced writes before it, lock hold in hops and forced writes)
    let (msgs, forced, forced_how, hops, serial_f, hold_hops, hold_f) = match strategy {
        Strategy::TwoPcNoLog => {
            (4 * n, 2 * n, "N prepare + N commit records; the coordinator writes nothing", 4.0, 1.0, 2.0, 2.0)
        }
        Strategy::TwoPcLogged => {
            (4 * n, 2 * n + 1, "N prepare + 1 coordinator commit + N participant commit records", 4.0, 2.0, 2.0, 3.0)
        }
        Strategy::ThreePc => (
            6 * n,
            3 * n + 1,
            "N prepare + 1 coordinator pre-commit + N pre-commit + N commit records",
            6.0,
            3.0,
            4.0,
            4.0,
        ),
    };
    let hold = hold_hops * hop + hold_f * f;
    let (blocking, blocking_how) = match strategy {
        Strategy::ThreePc => (
            ms(three_pc_timeout_ms(p) as f64),
            "3PC participants stop waiting after 2 × vote timeout + 2 forced writes + 20 ms".to_string(),
        ),
        _ => (
            ms(p.int("coordinator_down_ms") as f64),
            "2PC participants in doubt hold their locks for the whole coordinator outage".to_string(),
        ),
    };
    vec![
        Estimate::new(
            "Messages per commit",
            format!("{msgs} (+2 with the client)"),
            if strategy == Strategy::ThreePc {
                "can-commit, vote, pre-commit, ack, do-commit, ack: 6 per participant"
            } else {
                "prepare, vote, commit, ack: 4 per participant"
            },
        ),
        Estimate::new(
            "Messages per abort",
            format!("{}", 3 * n),
            "prepare, vote, abort — presumed abort needs no acks",
        ),
        Estimate::new("Forced log writes per commit", forced.to_string(), forced_how),
        Estimate::new(
            "Commit latency seen by the client",
            ms(hops * hop + serial_f * f),
            format!("{hops} one-way hops of {hop:.1} ms + {serial_f} forced writes in sequence"),
        ),
        Estimate::new(
            "Lock hold per participant",
            ms(hold),
            format!("prepare → commit durable: {hold_hops} hops + {hold_f} forced writes"),
        ),
        Estimate::new(
            "Commits per second on one hot key",
            format!("≤ {}", estimate::si(1_000.0 / hold.max(0.001))),
            "one transaction at a time holds a key's lock",
        ),
        Estimate::new("Blocking window", blocking, blocking_how),
    ]
}
