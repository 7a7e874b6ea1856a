//! URL shortener (catalog #1): clients create short links and follow them; API servers
//! issue ids and answer redirects through an optional LRU read cache; ids live in durable
//! KV shards with a finite service rate; a ticket service hands out id blocks for the
//! counter strategy. The lesson is where ids come from: a truncated hash collides, a
//! random id checked then inserted races, a block counter and a clock-guarded Snowflake
//! stay unique through crashes and clocks that go back; and a viral link needs a cache.

mod api;
mod checks;
mod client;
mod idgen;
mod msg;
mod shard;
#[cfg(test)]
mod tests;
mod ticket;
mod views;

use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamKind, ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::workload::{Arrival, Burst, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{BuildOptions, CheckDef, StrategyDef, SystemDef};
use crate::system::{Run, Simulation};
use api::{Api, Wiring};
use client::Client;
use msg::{Msg, Obs};
use shard::Shard;
use ticket::Ticket;

pub const EXPLAINER: &str = include_str!("explainer.md");

type Ctx<'a> = crate::sim::Ctx<'a, Msg, Obs>;

/// How ids are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Random,
    Hash,
    Counter,
    Snowflake,
    SnowflakeNaive,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here, which `build`
    /// refuses (and the conformance suite, building every `StrategyDef`, would catch).
    fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "random" => Strategy::Random,
            "hash" => Strategy::Hash,
            "counter" => Strategy::Counter,
            "snowflake" => Strategy::Snowflake,
            "snowflake-unguarded" => Strategy::SnowflakeNaive,
            _ => return None,
        })
    }
}

crate::roles! {
    /// Every node of the system: each role is an `Actor` of its own.
    pub enum Node: Msg, Obs {
        Client(Client),
        Api(Box<Api>),
        Ticket(Ticket),
        Shard(Shard),
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "hash",
        title: "Hash of the URL, truncated",
        robust: false,
        summary: "FNV-1a of the long URL cut to the id space. Equal URLs share an id for free, but different URLs collide by the birthday bound and the later one overwrites the earlier.",
    },
    StrategyDef {
        id: "random",
        title: "Random id, check then insert",
        robust: false,
        summary: "Draw a random id, GET it, PUT if absent. The check and the insert are two requests, so two servers that draw the same id in between both insert: one link silently replaces the other.",
    },
    StrategyDef {
        id: "counter",
        title: "Counter blocks + base62",
        robust: true,
        summary: "A ticket service hands out blocks of counter values, writing its high-water mark to disk before each grant; API servers spend their block locally and print ids in base62.",
    },
    StrategyDef {
        id: "snowflake",
        title: "Snowflake with clock guard",
        robust: true,
        summary: "41-bit ms timestamp, 10-bit worker, 12-bit sequence from the local clock. If the clock goes back it waits (small steps) or refuses (large ones), and after a restart it resumes past a durable reservation.",
    },
    StrategyDef {
        id: "snowflake-unguarded",
        title: "Snowflake trusting the clock",
        robust: false,
        summary: "The same layout, but it takes the clock at its word: when the clock jumps back it reissues (ms, sequence) pairs it already used.",
    },
];

const CHECKS: &[CheckDef] = &[
    CheckDef { name: checks::UNIQUE_IDS, kind: CheckKind::Safety, description: "No short id is ever handed out for two different creates." },
    CheckDef {
        name: checks::IDS_RESOLVE,
        kind: CheckKind::Safety,
        description: "Every answered redirect of a created id returns the URL that id was created for.",
    },
    CheckDef {
        name: checks::P99_REDIRECT,
        kind: CheckKind::Slo,
        description: "p99 redirect latency stays under the limit through the viral burst. Judged on every redirect except those that met a crash, pause, partition, clog or message loss, or started within 1 s of its repair; clock skew is no excuse.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec { key: "clients", label: "Clients", unit: "nodes", kind: ParamKind::Int { min: 1, max: 16, default: 4 }, help: "Client nodes sharing the request rate; each has its own viral link." },
    ParamSpec { key: "api_servers", label: "API servers", unit: "nodes", kind: ParamKind::Int { min: 1, max: 16, default: 3 }, help: "API servers behind the load balancer; each is also an ID worker." },
    ParamSpec { key: "shards", label: "KV shards", unit: "nodes", kind: ParamKind::Int { min: 1, max: 16, default: 4 }, help: "Durable key-value shards; an id lives on shard hash(id) mod shards." },
    ParamSpec { key: "rate", label: "Request rate", unit: "req/s", kind: ParamKind::Float { min: 10.0, max: 20_000.0, default: 600.0 }, help: "Total requests per second outside the burst (creates plus redirects)." },
    ParamSpec { key: "create_pct", label: "Creates", unit: "%", kind: ParamKind::Int { min: 1, max: 100, default: 20 }, help: "Share of requests that create a link; the rest follow one." },
    ParamSpec { key: "burst", label: "Viral burst", unit: "×", kind: ParamKind::Float { min: 1.0, max: 20.0, default: 4.0 }, help: "Rate multiplier for one second from t = 2 s (the link goes viral)." },
    ParamSpec { key: "zipf", label: "Popularity skew", unit: "s", kind: ParamKind::Float { min: 0.0, max: 2.5, default: 1.1 }, help: "Zipf exponent of which link a redirect follows; higher means one link dominates." },
    ParamSpec { key: "id_space", label: "Id space", unit: "ids", kind: ParamKind::Int { min: 64, max: 1 << 40, default: 2_048 }, help: "How many distinct ids the random and hash strategies draw from (small on purpose: collisions show up in seconds)." },
    ParamSpec { key: "cache", label: "Read cache", unit: "", kind: ParamKind::Choice { options: &["none", "lru"], default: "lru" }, help: "A per-API-server LRU cache of id → URL in front of the shards." },
    ParamSpec { key: "cache_size", label: "Cache size", unit: "entries", kind: ParamKind::Int { min: 1, max: 100_000, default: 64 }, help: "Entries per API server cache." },
    ParamSpec { key: "shard_op_us", label: "Shard op time", unit: "µs", kind: ParamKind::Int { min: 50, max: 50_000, default: 1_500 }, help: "Time a shard spends on one GET or PUT; its capacity is 10⁶ / this ops per second." },
    ParamSpec { key: "range", label: "Id block", unit: "ids", kind: ParamKind::Int { min: 1, max: 1_000_000, default: 100 }, help: "Ids per block the ticket service grants (counter strategy)." },
    ParamSpec { key: "slo_ms", label: "Redirect p99 limit", unit: "ms", kind: ParamKind::Float { min: 1.0, max: 2_000.0, default: 30.0 }, help: "The p99 redirect latency the SLO promises." },
];

fn default_workload(p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: p.float("rate"),
        think_ms: 0,
        duration_ms: 5_000,
        keys: 1_000,
        zipf_s: p.float("zipf"),
        bursts: vec![Burst { at_ms: 2_000, for_ms: 1_000, factor: p.float("burst") }],
    }
}

fn default_faults(_p: &Params) -> Vec<TimedFault> {
    vec![TimedFault { at_ms: 3_500, fault: Fault::Skew { node: "api-0".into(), offset_ms: -1_000, drift_ppm: 0 } }]
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t: Vec<String> = (0..p.int("api_servers")).map(|i| format!("api-{i}")).collect();
    t.extend((0..p.int("shards")).map(|i| format!("shard-{i}")));
    t.push("ticket".into());
    t
}

fn build(s: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    Ok(Run::boxed(build_world(s, opts)?, views::views))
}

/// The world of a scenario: clients, API servers, the ticket service, then the shards.
pub fn build_world(s: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let p = &s.params;
    let (nc, na, ns) = (p.int("clients") as u32, p.int("api_servers") as u32, p.int("shards") as u32);
    let apis: Vec<NodeId> = (nc..nc + na).collect();
    let ticket = nc + na;
    let shards: Vec<NodeId> = (ticket + 1..ticket + 1 + ns).collect();
    let wiring = Wiring {
        strategy: Strategy::from_id(s.strategy.id)
            .ok_or_else(|| BuildError(format!("url-shortener has no strategy {:?}", s.strategy.id)))?,
        id_space: p.int("id_space") as u64,
        shards,
        ticket,
        op_timeout_ms: 400,
    };
    let cache = (p.choice("cache") == "lru").then_some(p.int("cache_size") as usize);
    let create_pct = p.int("create_pct") as u64;
    let mut specs = Vec::new();
    for i in 0..nc {
        let c = Client::new(u64::from(i), nc, apis.clone(), s.workload.clone(), create_pct, 1_000);
        specs.push(NodeSpec::new(format!("client-{i}"), "client", Node::Client(c)));
    }
    for i in 0..na {
        let a = Api::new(wiring.clone(), u64::from(i), cache);
        specs.push(NodeSpec::new(format!("api-{i}"), "api", Node::Api(Box::new(a))));
    }
    specs.push(NodeSpec::new("ticket", "ticket", Node::Ticket(Ticket::new(p.int("range") as u64, 2_000))));
    for i in 0..ns {
        specs.push(NodeSpec::new(format!("shard-{i}"), "shard", Node::Shard(Shard::new(p.int("shard_op_us") as u64))));
    }
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::UniqueIds::new(names)),
        Box::new(checks::IdsResolve::default()),
        Box::new(checks::RedirectSlo::new(p.float("slo_ms"), &s.faults)),
    ];
    crate::system::world(s, opts, specs, props)
}

pub const DEF: SystemDef = SystemDef {
    id: "url-shortener",
    number: 1,
    title: "URL shortener",
    theme: "Request path and caching",
    question:
        "How do you hand out short, never-repeating ids for long URLs and keep redirects fast when one link goes viral?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: &[
        FaultKind::Crash,
        FaultKind::Pause,
        FaultKind::Skew,
        FaultKind::Partition,
        FaultKind::Clog,
        FaultKind::Loss,
    ],
    drain_ms: 1_500,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

/// Back-of-the-envelope figures: write and read rates, storage per year, id space life.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let rate = p.float("rate");
    let creates = rate * p.int("create_pct") as f64 / 100.0;
    let per_year = creates * 86_400.0 * 365.0;
    let ops_per_shard = 1e6 / p.int("shard_op_us").max(1) as f64;
    let mut out = estimate::workload(s);
    out.extend([
        Estimate::new("Creates", format!("{} /s", estimate::si(creates)), "rate × create share"),
        Estimate::new("Redirects", format!("{} /s", estimate::si(rate - creates)), "the rest of the traffic"),
        Estimate::new("Storage per year", estimate::bytes(per_year * 500.0), "creates/year × ~500 B per mapping"),
        Estimate::new(
            "Shard capacity",
            format!("{} ops/s", estimate::si(ops_per_shard * p.int("shards") as f64)),
            "shards × 10⁶ µs / op time",
        ),
        Estimate::new(
            "7-char base62 ids",
            estimate::si(62f64 * 62.0 * 62.0 * 62.0 * 62.0 * 62.0 * 62.0),
            "62⁷ ≈ 3.5 T: centuries at this create rate",
        ),
    ]);
    out
}
