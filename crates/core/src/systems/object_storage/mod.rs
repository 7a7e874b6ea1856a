//! Object storage (catalog entry 9): an S3-like store. A front end with a metadata
//! service (key → placement, version → who holds it) places each object's replicas or
//! erasure-coded shards on storage nodes by consistent hashing, acknowledges a put once
//! the design's durability rule is met, reads by quorum or by decoding any k shards, and
//! runs a failure detector (heartbeats) and repair (re-replicate, or rebuild a shard from
//! k others, onto a live node).
//!
//! Four designs: one copy (a dead disk takes acknowledged objects with it), three replicas
//! acknowledged after one with lazy copying and single-replica reads (stale reads; loss if
//! the primary dies before copying), a strict quorum N = 3, W = 2, R = 2 with read repair,
//! and Reed-Solomon RS(k, m) from `blocks::reed_solomon`. The checks judge the client's
//! own record of acks and the bytes on the disks that survive. See `explainer.md`.

pub mod checks;
pub mod client;
pub mod frontend;
pub mod msg;
pub mod node;
pub mod repair;
pub mod storage;
pub mod views;

#[cfg(test)]
mod tests;

use crate::blocks::reed_solomon::ReedSolomon;
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use msg::Obs;
use node::Node;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    SingleCopy,
    ReplicasW1,
    Quorum,
    ReedSolomon,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "single-copy" => Strategy::SingleCopy,
            "replicas-w1" => Strategy::ReplicasW1,
            "quorum" => Strategy::Quorum,
            "reed-solomon" => Strategy::ReedSolomon,
            _ => return None,
        })
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "single-copy",
        title: "Single copy",
        robust: false,
        summary: "Each object is written to one storage node and acknowledged. Cheapest bytes, and when that node's disk is gone every object on it is gone, acknowledged or not.",
    },
    StrategyDef {
        id: "replicas-w1",
        title: "3 replicas, W = 1, R = 1",
        robust: false,
        summary: "Three replicas, but the primary acknowledges alone and copies to the other two later (every replication lag); a read asks one replica. Reads right after a put often see the old version, and a primary that dies before copying takes the acknowledged put with it.",
    },
    StrategyDef {
        id: "quorum",
        title: "Quorum N = 3, W = 2, R = 2",
        robust: true,
        summary: "Every replica is written at once and the put is acknowledged after W of them; a read asks all N and answers with the newest of the first R, repairing stale answerers. W + R > N makes every read meet the last acknowledged write; pending writes and repair bring every version back to N copies.",
    },
    StrategyDef {
        id: "reed-solomon",
        title: "Reed-Solomon RS(k, m)",
        robust: true,
        summary: "Each object is cut into k data shards plus m parity shards over GF(2^8), one per node, acknowledged when all k + m are on disk; the metadata service names the newest acknowledged version and a read decodes it from the first k shards to arrive. Survives any m lost disks at (k + m) / k times the bytes.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("nodes", "Storage nodes", "nodes", 4, 32, 8, "Storage nodes on the hash ring."),
    ParamSpec::int(
        "replicas",
        "Replicas N",
        "copies",
        2,
        5,
        3,
        "Copies per object (quorum and lazy replicas; capped at the nodes).",
    ),
    ParamSpec::int(
        "w",
        "Write quorum W",
        "acks",
        1,
        5,
        2,
        "Replica acks before a quorum put is acknowledged (capped at N).",
    ),
    ParamSpec::int("r", "Read quorum R", "answers", 1, 5, 2, "Replica answers a quorum read waits for (capped at N)."),
    ParamSpec::int("k", "Data shards k", "shards", 2, 8, 4, "Reed-Solomon data shards (k + m is capped at the nodes)."),
    ParamSpec::int(
        "m",
        "Parity shards m",
        "shards",
        1,
        4,
        2,
        "Reed-Solomon parity shards: the lost disks a stripe survives.",
    ),
    ParamSpec::int(
        "object_size",
        "Object size",
        "bytes",
        16,
        1_024,
        64,
        "Bytes per object (the first 8 name the put).",
    ),
    ParamSpec::int("objects", "Objects", "keys", 1, 2_000, 50, "Distinct keys the client writes and reads."),
    ParamSpec::int("ops_per_s", "Requests", "req/s", 1, 500, 80, "Client requests per second for the first 8 s."),
    ParamSpec::int("put_pct", "Puts", "%", 0, 100, 50, "Share of requests that are puts (the rest are gets)."),
    ParamSpec::int(
        "lag_ms",
        "Replication lag",
        "ms",
        10,
        2_000,
        300,
        "How often a lazy primary copies to its peers (replicas-w1).",
    ),
    ParamSpec::int(
        "heartbeat_ms",
        "Heartbeat",
        "ms",
        50,
        1_000,
        100,
        "Storage heartbeat interval (also the front end's tick).",
    ),
    ParamSpec::int(
        "dead_after_ms",
        "Detection timeout",
        "ms",
        200,
        5_000,
        1_000,
        "Silence after which a node is declared dead and repaired.",
    ),
    ParamSpec::int(
        "repair_per_s",
        "Repair rate",
        "versions/s",
        10,
        2_000,
        200,
        "Versions re-replicated or rebuilt per second.",
    ),
    ParamSpec::int(
        "disk_loss_ms",
        "Disk loss",
        "ms",
        0,
        7_000,
        4_000,
        "Default faults: storage-2's machine dies for good at this time (0: never).",
    ),
    ParamSpec::int(
        "blip_ms",
        "Transient crash",
        "ms",
        0,
        3_000,
        500,
        "Default faults: the last storage node is down this long from 6 s (0: never).",
    ),
    ParamSpec::float(
        "afr_pct",
        "Annual failure rate",
        "%/year",
        0.1,
        20.0,
        2.0,
        "Per-disk annual failure rate, for the durability estimate.",
    ),
    ParamSpec::int(
        "mttr_h",
        "Repair time",
        "hours",
        1,
        720,
        24,
        "Time to re-replicate a failed disk's data, for the durability estimate.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "no-acked-loss",
        kind: CheckKind::Safety,
        description: "At the end, every version the client was told is durable can be rebuilt from bytes on machines that still exist: a replica with the digest of the client's own bytes, or k distinct shards whose digests match our own encoding of them.",
    },
    CheckDef {
        name: "read-latest",
        kind: CheckKind::Safety,
        description: "A read sent after the client received the ack of version v returns v or newer, with the bytes of the put that made it (judged from the client's acks in true time).",
    },
    CheckDef {
        name: "redundancy-restored",
        kind: CheckKind::Liveness,
        description: "By the end of the run (the 12 s drain outlasts detection plus repair), every acknowledged version has N correct replicas, or all k + m correct shards, on distinct surviving machines, counted from what the disks report writing.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DURATION_MS: u64 = 8_000;
/// The client's request rate is capped here whatever workload a link asks for.
pub const MAX_OPS_PER_S: f64 = 500.0;
/// Puts the front end holds bytes for at once.
pub const MAX_PENDING: usize = 4_096;

pub const DEF: SystemDef = SystemDef {
    id: "object-storage",
    number: 9,
    title: "Object storage",
    theme: "Storage",
    question: "How do you build an S3-like object store that never loses an object it acknowledged, returns the latest version, and heals itself when disks die, at a sensible storage overhead?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 12_000,
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
        rate_per_s: p.int("ops_per_s") as f64,
        think_ms: 0,
        duration_ms: DURATION_MS,
        keys: p.int("objects") as u64,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// storage-2's machine dies for good (its disk with it), and the last node blips.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let mut out = Vec::new();
    let loss = p.int("disk_loss_ms") as u64;
    if loss > 0 {
        out.push(TimedFault { at_ms: loss, fault: Fault::Crash { node: "storage-2".into() } });
    }
    let blip = p.int("blip_ms") as u64;
    if blip > 0 {
        let node = format!("storage-{}", p.int("nodes") - 1);
        out.push(TimedFault { at_ms: 6_000, fault: Fault::Crash { node: node.clone() } });
        out.push(TimedFault { at_ms: 6_000 + blip, fault: Fault::Restart { node } });
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    (0..p.int("nodes")).map(|i| format!("storage-{i}")).collect()
}

/// The shape a scenario's parameters give: (replicas N, W, R) and RS (k, m), each capped
/// to what the node count can place on distinct nodes.
pub fn shape(p: &Params) -> (usize, usize, usize, usize, usize) {
    let nodes = p.int("nodes") as usize;
    let n = (p.int("replicas") as usize).min(nodes);
    let (w, r) = ((p.int("w") as usize).min(n), (p.int("r") as usize).min(n));
    let m = (p.int("m") as usize).min(nodes - 2);
    let k = (p.int("k") as usize).min(nodes - m);
    (n, w, r, k, m)
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

/// Node ids: the client 0, the front end 1, storage node `i` is `2 + i`.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("object-storage has no strategy {:?}", scenario.strategy.id)))?;
    let nodes = p.int("nodes") as u32;
    let (n_rep, w, r, k, m) = shape(p);
    let n = match strategy {
        Strategy::SingleCopy => 1,
        Strategy::ReplicasW1 | Strategy::Quorum => n_rep,
        Strategy::ReedSolomon => k + m,
    };
    let mut workload = scenario.workload.clone();
    workload.rate_per_s = workload.rate_per_s.min(MAX_OPS_PER_S);
    for b in &mut workload.bursts {
        b.factor = b.factor.min(MAX_OPS_PER_S / workload.rate_per_s).max(f64::MIN_POSITIVE);
    }
    let (client_id, frontend_id) = (0, 1);
    let storage: Vec<u32> = (0..nodes).map(|i| 2 + i).collect();
    let ccfg = client::ClientCfg {
        frontend: frontend_id,
        workload,
        put_pct: p.int("put_pct") as u64,
        object_size: p.int("object_size") as usize,
    };
    let heartbeat_ms = p.int("heartbeat_ms") as u64;
    let fcfg = frontend::FrontendCfg {
        strategy,
        storage: storage.clone(),
        n,
        w,
        r,
        k,
        m,
        tick_ms: heartbeat_ms,
        read_timeout_ms: 1_000,
        dead_after_ms: p.int("dead_after_ms") as u64,
        repair_per_s: p.int("repair_per_s") as u64,
        max_pending: MAX_PENDING,
    };
    let mut specs = vec![
        NodeSpec::new("client", "client", Node::Client(Box::new(client::Client::new(ccfg)))),
        NodeSpec::new("frontend", "frontend", Node::Frontend(Box::new(frontend::Frontend::new(fcfg)))),
    ];
    let scfg = storage::StorageCfg { frontend: frontend_id, heartbeat_ms, lag_ms: p.int("lag_ms") as u64 };
    for i in 0..nodes {
        specs.push(NodeSpec::new(
            format!("storage-{i}"),
            "storage",
            Node::Storage(Box::new(storage::Storage::new(scfg.clone()))),
        ));
    }
    debug_assert_eq!(specs.len() as u32, 2 + nodes);
    let _ = client_id;
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let gone_names = checks::gone_at_end(&scenario.faults);
    let gone = checks::Gone(
        names.iter().enumerate().filter(|(_, nm)| gone_names.contains(*nm)).map(|(i, _)| i as u32).collect(),
    );
    let rs = (strategy == Strategy::ReedSolomon).then(|| ReedSolomon::new(k, m).ok()).flatten();
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::NoAckedLoss::new(checks::Mirror::new(rs.clone()), gone.clone(), names)),
        Box::new(checks::ReadLatest::default()),
        Box::new(checks::RedundancyRestored::new(checks::Mirror::new(rs), gone, n)),
    ];
    Ok((specs, props))
}

/// Mean time to data loss of one stripe of `n` disks that survives `f` failures, with
/// independent failures at rate `lambda` and repairs at rate `mu` (per hour): the
/// birth-death Markov chain's standard approximation for mu ≫ lambda,
/// MTTDL ≈ mu^f / (lambda^(f+1) · n(n−1)…(n−f)) — Patterson, Gibson & Katz's RAID formula
/// (SIGMOD 1988) generalised to f failures as in Greenan's and Rosenthal's models.
pub fn mttdl_hours(n: usize, f: usize, lambda: f64, mu: f64) -> f64 {
    let falling: f64 = (0..=f.min(n.saturating_sub(1))).map(|i| (n - i) as f64).product();
    libm::pow(mu, f as f64) / (libm::pow(lambda, (f + 1) as f64) * falling)
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let strategy = Strategy::from_id(s.strategy.id).unwrap_or(Strategy::Quorum);
    let (n_rep, _, _, k, m) = shape(p);
    let (n, f, overhead, label) = match strategy {
        Strategy::SingleCopy => (1, 0, 1.0, "1 copy".to_string()),
        Strategy::ReplicasW1 | Strategy::Quorum => (n_rep, n_rep - 1, n_rep as f64, format!("{n_rep} replicas")),
        Strategy::ReedSolomon => (k + m, m, (k + m) as f64 / k as f64, format!("RS({k}, {m})")),
    };
    let afr = p.float("afr_pct") / 100.0;
    let lambda = -libm::log(1.0 - afr) / 8_760.0;
    let mu = 1.0 / p.int("mttr_h") as f64;
    let mttdl = mttdl_hours(n, f, lambda, mu);
    let p_year = 1.0 - libm::exp(-8_760.0 / mttdl);
    let nines = -libm::log10(p_year.max(1e-300));
    let size = p.int("object_size") as f64;
    let puts = (p.int("ops_per_s") as f64).min(MAX_OPS_PER_S) * p.int("put_pct") as f64 / 100.0 * 8.0;
    vec![
        Estimate::new("Storage overhead", format!("{overhead:.2}×"), format!("{label}: bytes on disk per byte stored")),
        Estimate::new(
            "Bytes written in a run",
            estimate::bytes(puts * size * overhead),
            "puts in 8 s × object size × overhead (every version kept)",
        ),
        Estimate::new(
            "Failures survived",
            format!("{f}"),
            if strategy == Strategy::ReedSolomon {
                "m: any k of k + m shards rebuild the object"
            } else {
                "N − 1 once every replica is written"
            },
        ),
        Estimate::new(
            "MTTDL per stripe",
            format!("≈ {} years", estimate::si(mttdl / 8_760.0)),
            "μ^f / (λ^(f+1) · n(n−1)…(n−f)), λ from the AFR, μ = 1 / repair time (Patterson–Gibson–Katz, generalised)",
        ),
        Estimate::new(
            "Annual durability per stripe",
            format!("≈ {:.1} nines", nines.min(99.0)),
            "−log10(1 − e^(−1 year / MTTDL)); independent failures only, so an upper bound",
        ),
    ]
}
