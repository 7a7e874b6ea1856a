//! Config service (catalog entry 33): an etcd/ZooKeeper-like store. Three to five
//! replicas agree on a revisioned key-value log through the `blocks::raft` block; clients
//! get, put and compare-and-set configuration keys and keep sessions whose ephemeral keys
//! vanish when their keepalives stop; watchers — the SDK's local cache of a key prefix —
//! follow the prefix and resume from a revision after a reconnect.
//!
//! The strategies differ in how a read is answered, the part of a consensus store that is
//! easiest to get wrong: from any replica (stale), from a leader holding a clock-based
//! lease (unsafe when its clock is off), or by read index (the leader confirms with a
//! round of probes that it still leads before answering). Two knobs plant the other two
//! classic mistakes: acknowledging a put before it commits, and resuming a watch "from
//! now". The checks judge the clients' history for linearizability (Wing–Gong with Lowe's
//! memo, `blocks::lincheck`), every acknowledged write against what replicas committed,
//! and every watcher's stream and SDK cache against the committed changes.

pub mod checks;
pub mod client;
pub mod msg;
pub mod node;
pub mod replica;
pub mod store;
pub mod views;
pub mod watcher;

#[cfg(test)]
mod tests;

use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{BuildOptions, CheckDef, StrategyDef, SystemDef};
use crate::system::{Run, Simulation};
use msg::{Obs, Prefix};
use node::Node;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// How reads are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    AnyReplica,
    LeaseRead,
    ReadIndex,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "any-replica" => Strategy::AnyReplica,
            "lease-read" => Strategy::LeaseRead,
            "read-index" => Strategy::ReadIndex,
            _ => return None,
        })
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "any-replica",
        title: "Read from any replica",
        robust: false,
        summary: "Writes go through the Raft leader; reads are answered by whichever replica the client talks to, from its own state. A follower that lags, or is cut off, answers stale.",
    },
    StrategyDef {
        id: "lease-read",
        title: "Leader lease",
        robust: false,
        summary: "The leader answers reads alone while it holds a lease a majority granted, timed on its own clock. Fast, and correct while clocks agree; a leader whose clock is set back keeps answering after a new leader has taken over.",
    },
    StrategyDef {
        id: "read-index",
        title: "Read index",
        robust: true,
        summary: "The leader notes its commit index, confirms with one round of probes that a majority knows no newer term, waits until it has applied that index, then answers. No clock involved.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("replicas", "Replicas", "nodes", 3, 5, 3, "Raft replicas; a minority may fail."),
    ParamSpec::int("clients", "Clients", "clients", 1, 8, 4, "Clients, each with one call open at a time."),
    ParamSpec::int("keys", "Config keys", "keys", 1, 8, 3, "Configuration keys the clients read and write."),
    ParamSpec::int(
        "timeout_ms",
        "Call timeout",
        "ms",
        50,
        2_000,
        300,
        "A call unanswered this long is abandoned (its outcome unknown).",
    ),
    ParamSpec::int(
        "lease_ms",
        "Read lease",
        "ms",
        20,
        140,
        120,
        "Lease-read: how long a confirmed round lets the leader answer alone (below the 150 ms minimum election timeout).",
    ),
    ParamSpec::int(
        "session_ttl_ms",
        "Session TTL",
        "ms",
        300,
        5_000,
        1_000,
        "A session whose keepalives stop this long expires and its ephemeral key is deleted.",
    ),
    ParamSpec::int(
        "skew_ms",
        "Clock step in the default faults",
        "ms",
        0,
        3_000,
        2_000,
        "Each isolated replica's clock is set back this much while it is cut off (0: no skew).",
    ),
    ParamSpec::int(
        "outage_ms",
        "Isolation per replica",
        "ms",
        200,
        2_000,
        1_500,
        "The default faults cut each replica off in turn for this long.",
    ),
    ParamSpec::choice(
        "ack_writes",
        "Acknowledge puts",
        &["commit", "append"],
        "commit",
        "commit: once a majority stores the entry and the leader applied it; append: as soon as the leader appended it (the naive knob).",
    ),
    ParamSpec::choice(
        "watch_resume",
        "Watch resumes",
        &["revision", "now"],
        "revision",
        "revision: after a reconnect, ask for every change after the last one seen; now: re-subscribe from the current revision (the naive knob).",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "linearizable",
        kind: CheckKind::Safety,
        description: "The clients' recorded calls (true call and return times, the answers they saw) have a linearization on a register per key; on failure the shortest failing window is named.",
    },
    CheckDef {
        name: "no-lost-commit",
        kind: CheckKind::Safety,
        description: "Every write acknowledged to a client is in the committed history by the end, and no two replicas apply different changes at one revision.",
    },
    CheckDef {
        name: "watch-order",
        kind: CheckKind::Safety,
        description: "Each watcher sees every committed change of its prefix, in revision order, with no gap (a compaction it is told about excepted).",
    },
    CheckDef {
        name: "sdk-cache",
        kind: CheckKind::Safety,
        description: "Each SDK cache, whenever it claims to be up to some revision, holds exactly the prefix's committed keys and values at that revision (replayed from the committed changes).",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "config-service",
    number: 33,
    title: "Config service",
    theme: "Coordination",
    question: "How do you build a configuration store like etcd or ZooKeeper whose reads are never stale, whose acknowledged writes survive a leader crash, and whose watchers miss nothing?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 1_000,
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
        rate_per_s: 50.0,
        think_ms: 20,
        duration_ms: 10_000,
        keys: 3,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

fn replica_names(n: i64) -> Vec<String> {
    (0..n).map(|i| format!("replica-{i}")).collect()
}

/// Each replica in turn is cut off from the others for `outage_ms`, its clock set back
/// `skew_ms` meanwhile and set right when it rejoins. Whichever replica leads is isolated
/// in its turn, so every run sees a leader change with a leader whose clock is behind.
/// client-0 is cut off with it (a client in the old leader's zone); the other clients
/// still reach every replica.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let names = replica_names(p.int("replicas"));
    let spacing = 8_000 / names.len() as u64;
    let outage = (p.int("outage_ms") as u64).min(spacing - 300);
    let skew = p.int("skew_ms");
    let mut out = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let at = 1_500 + k as u64 * spacing;
        let others: Vec<String> = names.iter().filter(|n| *n != name).cloned().collect();
        if skew > 0 {
            out.push(TimedFault {
                at_ms: at,
                fault: Fault::Skew { node: name.clone(), offset_ms: -skew, drift_ppm: 0 },
            });
        }
        // client-0 stays on the isolated replica's side: it can reach nothing else.
        let a = vec![name.clone(), "client-0".to_string()];
        out.push(TimedFault { at_ms: at, fault: Fault::Partition { a, b: others, one_way: false } });
        out.push(TimedFault { at_ms: at + outage, fault: Fault::Heal });
        if skew > 0 {
            out.push(TimedFault {
                at_ms: at + outage,
                fault: Fault::Skew { node: name.clone(), offset_ms: skew, drift_ppm: 0 },
            });
        }
    }
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t = replica_names(p.int("replicas"));
    t.push("client-0".into());
    t.push("watcher-0".into());
    t
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    Ok(Run::boxed(build_world(scenario, opts)?, views::views))
}

/// Replicas first, then clients, then the two watchers (`cfg/` and `sess/`).
pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("config-service has no strategy {:?}", scenario.strategy.id)))?;
    let n = p.int("replicas") as u32;
    let replicas: Vec<NodeId> = (0..n).collect();
    let session_ttl_ms = p.int("session_ttl_ms") as u64;
    let rcfg = replica::ReplicaCfg {
        read: strategy,
        ack_on_append: p.choice("ack_writes") == "append",
        lease_ms: p.int("lease_ms") as u64,
        session_ttl_ms,
    };
    let mut specs = Vec::new();
    for (i, &id) in replicas.iter().enumerate() {
        specs.push(NodeSpec::new(
            format!("replica-{i}"),
            "replica",
            Node::Replica(Box::new(replica::Replica::new(id, replicas.clone(), rcfg))),
        ));
    }
    for i in 0..p.int("clients") as usize {
        let cfg = client::ClientCfg {
            strategy,
            replicas: replicas.clone(),
            home: i % replicas.len(),
            keys: p.int("keys") as u32,
            timeout_ms: p.int("timeout_ms") as u64,
            session_ttl_ms,
            workload: scenario.workload.clone(),
        };
        specs.push(NodeSpec::new(format!("client-{i}"), "client", Node::Client(Box::new(client::Client::new(cfg)))));
    }
    let from_revision = p.choice("watch_resume") == "revision";
    let first_watcher = specs.len() as NodeId;
    for (i, prefix) in [Prefix::Config, Prefix::Sessions].into_iter().enumerate() {
        let w = watcher::Watcher::new(prefix, replicas.clone(), (i + 1) % replicas.len(), from_revision);
        specs.push(NodeSpec::new(format!("watcher-{i}"), "watcher", Node::Watcher(w)));
    }
    let watchers: Vec<NodeId> = (first_watcher..specs.len() as NodeId).collect();
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::Linearizable::new(names.clone())),
        Box::new(checks::NoLostCommit::new(names.clone())),
        Box::new(checks::WatchOrder::new(names.clone(), &watchers)),
        Box::new(checks::SdkCache::new(names, &watchers)),
    ];
    crate::system::world(scenario, opts, specs, props)
}

/// Back-of-the-envelope figures for the current parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let n = p.int("replicas") as f64;
    let clients = p.int("clients") as f64;
    // One-way latency ≈ 0.7 ms (the default network): a committed write costs client →
    // leader, leader → followers and back, leader → client.
    let hop = 0.7;
    let write_ms = 4.0 * hop;
    let read_index_ms = 4.0 * hop;
    let think = s.workload.think_ms as f64;
    vec![
        Estimate::new(
            "Quorum",
            format!("{} of {}", p.int("replicas") / 2 + 1, p.int("replicas")),
            "a majority must store each write",
        ),
        Estimate::new(
            "Failures tolerated",
            ((p.int("replicas") - 1) / 2).to_string(),
            "(n − 1) / 2 replicas may be down",
        ),
        Estimate::new(
            "Committed write",
            format!("≈ {} ms", estimate::si(write_ms)),
            "client→leader, leader→followers→leader, leader→client",
        ),
        Estimate::new(
            "Read-index read",
            format!("≈ {} ms", estimate::si(read_index_ms)),
            "one probe round on top of the client round trip",
        ),
        Estimate::new("Lease read", format!("≈ {} ms", estimate::si(2.0 * hop)), "no round while the lease holds"),
        Estimate::new(
            "Client calls",
            format!("≈ {} /s", estimate::si(clients * 1_000.0 / (think + write_ms))),
            "clients × 1 / (think + call)",
        ),
        Estimate::new(
            "Leader messages per write",
            estimate::si(2.0 * (n - 1.0) + 2.0),
            "an append and its reply per follower, plus the client's request and answer",
        ),
        Estimate::new(
            "Session expiry after a crash",
            format!("≤ {} ms", p.int("session_ttl_ms") + 30),
            "TTL on the leader's clock, checked every 30 ms",
        ),
    ]
}
