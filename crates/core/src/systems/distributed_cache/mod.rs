//! Distributed cache: app servers route keys to a cluster of cache nodes in front of a
//! slow database, and spare nodes join mid-run. The strategy is the routing scheme —
//! modulo hashing (naive), consistent hashing with virtual nodes, rendezvous hashing, jump
//! consistent hash — and the parameters pick eviction, write policy, stampede protection,
//! replication and TTL. See `explainer.md` for the walk-through.
//!
//! The default scenario has more keys than the cluster has slots, so nodes evict, and the
//! first spare joins at `join_at_ms`. That join is scheduled here from the parameters
//! rather than carried as a fault in the scenario: a scenario's faults are written once,
//! from the defaults, and would otherwise name a spare that `spares = 0` removes or keep
//! the default time after `join_at_ms` changes.

pub mod cache;
pub mod checks;
pub mod client;
pub mod config;
pub mod db;
pub mod msg;
pub mod store;
pub mod views;

#[cfg(test)]
mod tests;

use crate::blocks::hash_ring::{AnyPlacement, Placement};
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::rng::Prng;
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::{Arrival, Burst, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::system::Simulation;
use crate::system::{BuildOptions, CheckDef, StrategyDef, SystemDef};
use config::Cfg;
use msg::{Msg, Obs};

pub const EXPLAINER: &str = include_str!("explainer.md");

crate::roles! {
    /// Every node of the system: each role is an `Actor` of its own.
    pub enum Node: Msg, Obs {
        Client(client::Client),
        Cache(cache::Cache),
        Db(db::Db),
    }
}

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::int("cache_nodes", "Cache nodes", "nodes", 1, 16, 4, "Cache nodes up at the start."),
    ParamSpec::int("spares", "Spare nodes", "nodes", 0, 4, 1, "Powered-off cache nodes; a restart fault on one makes it join."),
    ParamSpec::int("join_at_ms", "Spare joins at", "ms", 0, 600_000, 2_000, "When the first spare starts and joins (none with 0 spares; after the run: never)."),
    ParamSpec::int("clients", "App servers", "nodes", 1, 8, 3, "Clients that route keys to cache nodes."),
    ParamSpec::int("vnodes", "Virtual nodes", "per node", 1, 512, 160, "Tokens each node places on the consistent-hash ring."),
    ParamSpec::int("replicas", "Replication factor", "copies", 1, 3, 1, "Cache nodes holding each key; the first owner copies what it stores to the others asynchronously, writes invalidate all."),
    ParamSpec::choice(
        "replica_reads",
        "Replica reads",
        &["any", "primary"],
        "any",
        "Which owner serves a read: any of them (a replica may lag), or the first (replicas wait for a failover).",
    ),
    ParamSpec::choice(
        "copy_expiry",
        "Copy expiry",
        &["origin", "on-arrival"],
        "origin",
        "When a replica's copy expires: with the primary's entry, or a full TTL after it arrives (a late copy then outlives the bound).",
    ),
    ParamSpec::int("capacity", "Capacity", "entries/node", 8, 100_000, 200, "Entries a cache node holds before it evicts."),
    ParamSpec::choice("eviction", "Eviction", &["lru", "lfu", "ttl"], "lru", "Which entry a full node drops: least recent, least frequent, or soonest to expire."),
    ParamSpec::choice(
        "write_policy",
        "Write policy",
        &["cache-aside", "read-through", "write-through", "write-back", "write-around"],
        "cache-aside",
        "How reads fill the cache and how writes reach cache and database.",
    ),
    ParamSpec::choice(
        "stampede",
        "Stampede protection",
        &["none", "coalesce", "early-expiry"],
        "coalesce",
        "What happens when a hot key expires: every reader loads it, one load serves all, or one reader refreshes it early.",
    ),
    ParamSpec::int("ttl_ms", "TTL", "ms", 50, 60_000, 2_000, "How long an entry is served after it was loaded."),
    ParamSpec::int("lease_ms", "Lease", "ms", 10, 5_000, 500, "How long a fill may take after a miss; later fills are refused."),
    ParamSpec::float("early_beta", "Early-expiry β", "", 0.1, 8.0, 1.0, "XFetch's eagerness: larger refreshes earlier."),
    ParamSpec::int("flush_ms", "Write-back flush", "ms", 10, 10_000, 200, "How often write-back nodes flush dirty entries."),
    ParamSpec::float("write_ratio", "Writes", "fraction", 0.0, 0.5, 0.02, "Share of requests that are writes."),
    ParamSpec::float("hot_share", "Hot-key share", "fraction", 0.0, 1.0, 0.5, "During a workload burst, share of requests that hit key 0."),
    ParamSpec::int("timeout_ms", "Cache timeout", "ms", 5, 5_000, 50, "How long a client waits for a cache node before using the database."),
    ParamSpec::float("db_capacity_qps", "DB capacity", "queries/s", 50.0, 100_000.0, 800.0, "Queries per second the database can serve; more queue up."),
    ParamSpec::int("db_query_ms", "DB query time", "ms", 1, 500, 20, "Time one database query takes."),
    ParamSpec::float("epsilon", "Movement slack ε", "fraction", 0.0, 1.0, 0.1, "Allowed excess over 1/n of keys moved per membership change."),
];

pub static STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "modulo",
        title: "Modulo hashing",
        robust: false,
        summary: "Owner = live[hash(key) mod n]: even, simple, and a resize moves nearly every key.",
    },
    StrategyDef {
        id: "consistent",
        title: "Consistent hashing with virtual nodes",
        robust: true,
        summary: "Each node owns many arcs of a hash ring; a join takes about 1/n of the keys.",
    },
    StrategyDef {
        id: "rendezvous",
        title: "Rendezvous (highest random weight)",
        robust: true,
        summary: "A key goes to the node with the highest hash(key, node); only a leaver's keys move.",
    },
    StrategyDef {
        id: "jump",
        title: "Jump consistent hash",
        robust: true,
        summary: "Lamping & Veach's O(1)-memory hash over numbered buckets; absent buckets re-jump.",
    },
];

pub static CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "key-movement",
        kind: CheckKind::Safety,
        description: "When a node joins or leaves, at most 1/n + ε of the key universe changes owner.",
    },
    CheckDef {
        name: "bounded-staleness",
        kind: CheckKind::Safety,
        description: "A read that begins more than the stated bound after a write was acknowledged never returns a value that write superseded.",
    },
    CheckDef {
        name: "db-under-capacity",
        kind: CheckKind::Slo,
        description: "While the cache tier is intact, database queries in any 100 ms stay within its capacity, hot-key expiry included.",
    },
];

fn default_workload(_p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: 2_000.0,
        think_ms: 0,
        duration_ms: 6_000,
        keys: 1_000,
        zipf_s: 1.0,
        bursts: vec![Burst { at_ms: 3_500, for_ms: 1_500, factor: 2.0 }],
    }
}

/// No faults: the spare's join is part of the system (see [`join`]), so the default
/// scenario is the same for every parameter value.
fn default_faults(_p: &Params) -> Vec<TimedFault> {
    Vec::new()
}

/// The first spare starting at `join_at_ms`, when there is a spare: it comes from the
/// parameters at build time, so it always names a node that exists.
fn join(p: &Params) -> Option<TimedFault> {
    (p.int("spares") > 0).then(|| TimedFault {
        at_ms: p.int("join_at_ms") as u64,
        fault: Fault::Restart { node: Cfg::cache_name(p.int("cache_nodes") as u32) },
    })
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let caches = (p.int("cache_nodes") + p.int("spares")) as u32;
    let mut out: Vec<String> = (0..p.int("clients")).map(|i| format!("client-{i}")).collect();
    out.extend((0..caches).map(Cfg::cache_name));
    out
}

fn build(s: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let world = build_world(s, opts)?;
    Ok(crate::system::Run::boxed(world, views::views))
}

/// Builds the world (also used directly by the tests).
pub fn build_world(s: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    build_world_observed(s, opts, Vec::new())
}

/// Builds the world with `extra` properties watching next to the system's checks (tests
/// use one to record what nodes observed).
pub fn build_world_observed(
    s: &Scenario,
    opts: &BuildOptions,
    extra: Vec<Box<dyn Property<Obs>>>,
) -> Result<World<Node>, BuildError> {
    let cfg = Cfg::from_params(&s.params, s.strategy.id, &s.workload)?;
    let mut specs = Vec::new();
    for i in 0..cfg.clients {
        specs.push(NodeSpec::new(format!("client-{i}"), "client", Node::Client(client::Client::new(cfg.clone(), i))));
    }
    for i in 0..cfg.caches {
        let spec = NodeSpec::new(Cfg::cache_name(i), "cache", Node::Cache(cache::Cache::new(cfg.clone(), i)));
        specs.push(if i >= cfg.initial { spec.spare() } else { spec });
    }
    specs.push(NodeSpec::new("db", "db", Node::Db(db::Db::new(cfg.clone()))));
    prewarm(&mut specs, &cfg, s.seed);
    let (bound_us, why) = cfg.staleness_bound();
    let mut props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::KeyMovement::new(cfg.epsilon)),
        Box::new(checks::BoundedStaleness::new(bound_us, why)),
        Box::new(checks::DbUnderCapacity::new(cfg.db_capacity_qps)),
    ];
    props.extend(extra);
    let wc = crate::system::world_config(s, opts);
    let faults = join(&s.params).into_iter().chain(s.faults.iter().cloned()).collect();
    World::new(wc, specs, props, faults)
}

/// Most keys pre-loaded into the cache at the start.
const PREWARM_MAX_KEYS: u64 = 20_000;

/// Starts the run with a warm cache, as a production tier is: every owner of a key under
/// the initial membership holds it (hottest keys first, up to its capacity), with the
/// initial value and expiry times spread over one TTL so that they do not all lapse at
/// once. Replicas get the primary's expiry, as a copy would carry it.
fn prewarm(specs: &mut [NodeSpec<Node>], cfg: &Cfg, seed: u64) {
    let members: std::collections::BTreeSet<u32> = (0..cfg.initial).collect();
    let placement = AnyPlacement::build(cfg.scheme, &members);
    let mut rng = Prng::new(seed).fork("prewarm");
    for key in 0..cfg.workload.keys.min(PREWARM_MAX_KEYS) {
        let expires = SimTime(rng.below(cfg.ttl.0.max(1)));
        for m in placement.owners(key, cfg.replicas) {
            let Some(NodeSpec { actor: Node::Cache(c), .. }) = specs.get_mut((cfg.cache_base + m) as usize) else {
                continue;
            };
            if c.store.len() < cfg.capacity {
                c.store.put(key, store::Entry { val: 0, expires, delta_us: cfg.db_query.0, dirty: false });
            }
        }
    }
}

pub const DEF: SystemDef = SystemDef {
    id: "distributed-cache",
    number: 3,
    title: "Distributed cache",
    theme: "Request path and caching",
    question: "How do you spread a hot working set over a changing cluster of cache nodes in front of a slow database without losing freshness or flooding the database?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: &[FaultKind::Crash, FaultKind::Partition, FaultKind::Pause, FaultKind::Clog, FaultKind::Loss],
    drain_ms: 1_000,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

/// Back-of-the-envelope figures: cache memory, hit ratio needed to protect the database.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let rate = s.workload.rate_per_s;
    let db_capacity = p.float("db_capacity_qps");
    let needed_hit = if rate > 0.0 { (1.0 - db_capacity / rate).max(0.0) } else { 0.0 };
    let mut out = estimate::workload(s);
    out.extend([
        Estimate::new(
            "Hit ratio needed",
            format!("{:.0} %", needed_hit * 100.0),
            "1 − DB capacity / read rate, or the DB saturates",
        ),
        Estimate::new(
            "Keys moved on a join (consistent)",
            format!("≈ {:.0} %", 100.0 / (p.int("cache_nodes") + 1) as f64),
            "1 / (n + 1) of the keys",
        ),
        Estimate::new(
            "Keys moved on a join (modulo)",
            format!("≈ {:.0} %", 100.0 * p.int("cache_nodes") as f64 / (p.int("cache_nodes") + 1) as f64),
            "n / (n + 1) of the keys",
        ),
        Estimate::new("1 M profiles × 1 KB", estimate::bytes(1e9), "fits in the RAM of a few cache nodes"),
    ]);
    out
}
