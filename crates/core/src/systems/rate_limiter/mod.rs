//! System 2, the API rate limiter: honest clients and one abuser call an API through N
//! gateways that enforce "at most `limit` requests per `window_ms` per key" with the help
//! of one Redis-like store that serves one command at a time from a bounded queue. Ten
//! strategies: three naive ones (fixed window with `INCR`+`EXPIRE`, which lets twice the
//! limit through a window boundary; `GET`-then-`SET`, which races between gateways;
//! per-gateway local buckets, N× the limit), the algorithms of
//! [`crate::blocks::rate_limit`] run atomically in the store, local-sync, where gateways
//! spend quota leased from the store, and local-periodic-sync, where gateways count
//! locally and swap counts with the store every interval (approximate, with a stated
//! overshoot bound; see `sync.rs`).
//!
//! Each strategy states what it guarantees (see [`claims`]) and the `window-bound` check
//! holds it to exactly that; `no-starvation` checks honest clients still get through —
//! which a flood that reaches the store's queue can prevent.

mod checks;
mod client;
mod gateway;
mod msg;
mod node;
mod store;
mod sync;
mod views;

#[cfg(test)]
mod tests;

use crate::blocks::rate_limit::{Algorithm, Claim, Policy};
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamKind, ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::node::Ctx;
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{BuildOptions, CheckDef, StrategyDef, SystemDef};
use crate::system::{Run, Simulation};
pub use checks::{NoStarvation, WindowBound};
use client::{Client, Flood};
use gateway::Gateway;
pub use msg::{Msg, Obs};
pub use node::Node;
use store::Store;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// How the gateways and the store enforce the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// `INCR key`, then `EXPIRE key W` when the count is 1 (two commands).
    IncrExpire,
    /// `GET key:window`, then `SET key:window n+1` (a read-modify-write across the wire).
    GetSet,
    /// Each gateway runs the algorithm alone, with the whole limit.
    Local(Algorithm),
    /// The store runs the algorithm as one atomic script.
    Central(Algorithm),
    /// Gateways admit from quota leased, atomically, out of the window's budget.
    Lease,
    /// Gateways count locally and swap counts with the store every sync interval.
    PeriodicSync,
}

/// What every node needs to know about the run's configuration.
#[derive(Clone, Copy, Debug)]
pub struct Cfg {
    pub plan: Plan,
    pub policy: Policy,
    pub fail_open: bool,
    pub timeout_us: u64,
    pub lease: u64,
    /// The store: service time per command, and most commands waiting.
    pub store_us: u64,
    pub store_queue: usize,
    /// Local-periodic-sync: the sync interval, and how many admissions a gateway may make
    /// beyond what the store has confirmed.
    pub sync_us: u64,
    pub allowance: u64,
}

impl Cfg {
    /// Records a key's limiter level for the level chart (keys 0..3 only).
    pub fn level(&self, ctx: &mut Ctx<'_, Msg, Obs>, key: u32, value: f64) {
        if let Some(name) = views::LEVEL_SERIES.get(key as usize) {
            ctx.metrics.series.set(name, ctx.now(), value);
        }
    }
}

pub const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "fixed-window",
        title: "Fixed window, INCR + EXPIRE",
        robust: false,
        summary: "Count per key with INCR and start a TTL on the first hit. Believed to cap every window at the limit; a rate that rises mid-window gets close to twice the limit through the reset.",
    },
    StrategyDef {
        id: "get-then-set",
        title: "GET then SET (non-atomic)",
        robust: false,
        summary: "Gateways read the window's counter, compare, and write it back plus one. Two gateways that read the same value both admit and one increment is lost.",
    },
    StrategyDef {
        id: "local-only",
        title: "Per-gateway token buckets",
        robust: false,
        summary: "Each gateway keeps its own bucket with the whole limit and never talks to the store: with N gateways behind a load balancer a key gets N times its limit.",
    },
    StrategyDef {
        id: "sliding-log",
        title: "Sliding log (atomic script)",
        robust: true,
        summary: "The store keeps each key's admission times and admits while fewer than the limit lie in the last window. Exact, at the cost of one timestamp per admitted request.",
    },
    StrategyDef {
        id: "sliding-window-counter",
        title: "Sliding-window counter (atomic script)",
        robust: true,
        summary: "Two counters per key; the previous window is weighted by the share of it the sliding window still covers. Two integers per key; exact per aligned window, approximate in between.",
    },
    StrategyDef {
        id: "token-bucket",
        title: "Token bucket (atomic script)",
        robust: true,
        summary: "A bucket of `burst` tokens refilled at limit per window; a request takes one. Allows short bursts, caps any window at burst plus what refills in it.",
    },
    StrategyDef {
        id: "leaky-bucket",
        title: "Leaky bucket as a meter (atomic script)",
        robust: true,
        summary: "A bucket that drains at limit per window and holds `burst`; each request pours in one or is turned away. The mirror image of the token bucket: same decisions.",
    },
    StrategyDef {
        id: "gcra",
        title: "GCRA (atomic script)",
        robust: true,
        summary: "One timestamp per key — the theoretical arrival time of the next allowed request. The token bucket's decisions from a single number, and no refill arithmetic.",
    },
    StrategyDef {
        id: "local-sync",
        title: "Local quota leased from the store",
        robust: true,
        summary: "Gateways admit locally from quota they lease in chunks from the window's budget with one atomic command, so the store sees one call per chunk instead of per request.",
    },
    StrategyDef {
        id: "local-periodic-sync",
        title: "Local counts, synced periodically",
        robust: true,
        summary: "Each gateway counts locally and every sync interval pushes its count to the store and pulls the window's total; it admits while total + local < limit and never runs more than q = ⌈limit × sync / window⌉ admissions ahead of what the store confirmed. Approximate by design: at most (gateways − 1) × min(q, limit) over the limit per aligned window.",
    },
];

/// The plan a strategy id stands for; `None` for an id this system does not have.
pub fn plan_of(strategy: &str) -> Option<Plan> {
    Some(match strategy {
        "fixed-window" => Plan::IncrExpire,
        "get-then-set" => Plan::GetSet,
        "local-only" => Plan::Local(Algorithm::TokenBucket),
        "sliding-log" => Plan::Central(Algorithm::SlidingLog),
        "sliding-window-counter" => Plan::Central(Algorithm::SlidingCounter),
        "token-bucket" => Plan::Central(Algorithm::TokenBucket),
        "leaky-bucket" => Plan::Central(Algorithm::LeakyBucket),
        "gcra" => Plan::Central(Algorithm::Gcra),
        "local-sync" => Plan::Lease,
        "local-periodic-sync" => Plan::PeriodicSync,
        _ => return None,
    })
}

/// What each plan promises per key, with `gateways` gateways. The naive plans state what
/// their authors believe: `INCR`+`EXPIRE` "at most `limit` per window", `GET`/`SET` "at
/// most `limit` per aligned window", local buckets "a token bucket's bound". Leases are
/// paid for out of each aligned window's budget, so that window never exceeds the limit
/// (zero overshoot). Periodic sync promises only `limit` plus its overshoot bound per
/// aligned window (derived in `sync.rs`). Like every aligned scheme, a sliding window may
/// see two aligned windows' worth.
pub fn claims(cfg: &Cfg, gateways: u64) -> Vec<Claim> {
    let p = &cfg.policy;
    let w = p.window_us;
    match cfg.plan {
        Plan::IncrExpire => vec![Claim::sliding(w, p.limit)],
        Plan::GetSet => vec![Claim::aligned(w, p.limit)],
        Plan::Local(a) | Plan::Central(a) => a.claims(p),
        Plan::Lease => vec![Claim::aligned(w, p.limit), Claim::sliding(w, 2 * p.limit)],
        Plan::PeriodicSync => {
            let max = p.limit + sync::overshoot(gateways, p.limit, cfg.allowance);
            vec![Claim::aligned(w, max), Claim::sliding(w, 2 * max)]
        }
    }
}

pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("gateways", "Gateways", "nodes", 1, 8, 3, "Gateways behind the load balancer; each request goes to one at random."),
    ParamSpec::int("clients", "Honest clients", "clients", 1, 16, 4, "Honest clients, each with its own key, sending well under the limit."),
    ParamSpec::int("limit", "Limit", "requests", 1, 10_000, 50, "Requests allowed per key per window."),
    ParamSpec::int("window_ms", "Window", "ms", 10, 60_000, 1_000, "Length of the policy's window."),
    ParamSpec::int("burst", "Bucket size", "requests", 1, 10_000, 10, "Capacity of the token bucket, leaky bucket and GCRA (their burst tolerance)."),
    ParamSpec::int("honest_rate_per_s", "Honest rate", "req/s", 1, 1_000, 20, "Each client's base rate (the abuser's too, before it floods)."),
    ParamSpec::int("abuse_rate_per_s", "Flood rate", "req/s", 0, 5_000, 600, "The abuser's extra rate while it floods."),
    ParamSpec::int("abuse_start_ms", "Flood starts", "ms", 0, 600_000, 1_500, "When the flood starts; mid-window is what hurts a fixed window."),
    ParamSpec::int("abuse_ms", "Flood length", "ms", 0, 600_000, 3_000, "How long the flood lasts."),
    ParamSpec {
        key: "fail_mode",
        label: "When the store is unreachable",
        unit: "",
        kind: ParamKind::Choice { options: &["closed", "open"], default: "closed" },
        help: "closed: answer 503 (safe, but nobody gets through); open: admit without limiting (available, but the bound is off).",
    },
    ParamSpec {
        key: "scope",
        label: "Limit per",
        unit: "",
        kind: ParamKind::Choice { options: &["key", "global"], default: "key" },
        help: "key: one budget per API key; global: one budget shared by everyone, which the abuser can spend alone.",
    },
    ParamSpec::int("store_timeout_ms", "Store timeout", "ms", 1, 10_000, 50, "How long a gateway waits for the store before failing open or closed."),
    ParamSpec::int("store_us", "Store time per command", "µs", 1, 20_000, 2_000, "How long the single-threaded store spends on one command. It runs one at a time: 2,000 µs is 500 commands/s, below the flood's rate."),
    ParamSpec::int("store_queue", "Store queue", "commands", 1, 10_000, 16, "Commands that may wait for the store. One that finds the queue full is refused with BUSY; a queue longer than the timeout's worth of work makes commands time out instead."),
    ParamSpec::int("lease", "Lease size", "requests", 1, 10_000, 5, "local-sync: how many admissions a gateway leases from the store at a time."),
    ParamSpec::int("sync_ms", "Sync interval", "ms", 10, 10_000, 100, "local-periodic-sync: how often each gateway swaps counts with the store. A gateway may run one interval's worth of the limit ahead of the store, which sets the overshoot bound."),
    ParamSpec::int("min_share_pct", "No-starvation share", "%", 0, 100, 90, "Share of its decided requests each honest client must get admitted."),
];

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        kind: CheckKind::Safety,
        name: "window-bound",
        description: "Per key, admissions stay within the bound the strategy states in every window of the stated length (not judged where a fail-open admission bypassed the store).",
    },
    CheckDef {
        kind: CheckKind::Liveness,
        name: "no-starvation",
        description: "While the abuser floods, every honest client gets at least the stated share of its judged requests admitted: those the limiter decided, and those the store refused or answered too late because its queue was full of other work (not judged: requests lost to faults or to an unreachable store).",
    },
];

fn default_workload(p: &Params) -> WorkloadSpec {
    let senders = p.int("clients") + 1;
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: (senders * p.int("honest_rate_per_s")) as f64,
        think_ms: 0,
        duration_ms: 6_000,
        keys: senders as u64,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// A latency spike on the way to the store: longer than the gateways' timeout, whatever
/// that is set to.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let extra_ms = p.int("store_timeout_ms") as u64 * 2 + 20;
    vec![
        TimedFault { at_ms: 5_000, fault: Fault::Clog { from: "gateway".into(), to: "store".into(), extra_ms } },
        TimedFault { at_ms: 5_400, fault: Fault::Unclog { from: "gateway".into(), to: "store".into() } },
    ]
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t = vec!["store".to_string()];
    t.extend((0..p.int("gateways")).map(|i| format!("gateway-{i}")));
    t
}

/// The configuration every node of a scenario shares.
fn cfg_of(s: &Scenario) -> Result<Cfg, BuildError> {
    let p = &s.params;
    let plan = plan_of(s.strategy.id)
        .ok_or_else(|| BuildError(format!("rate-limiter has no strategy {:?}", s.strategy.id)))?;
    let policy = Policy {
        limit: p.int("limit") as u64,
        window_us: p.int("window_ms") as u64 * 1_000,
        burst: p.int("burst") as u64,
    };
    let sync_us = p.int("sync_ms") as u64 * 1_000;
    Ok(Cfg {
        plan,
        policy,
        fail_open: p.choice("fail_mode") == "open",
        timeout_us: p.int("store_timeout_ms") as u64 * 1_000,
        lease: p.int("lease") as u64,
        store_us: p.int("store_us") as u64,
        store_queue: p.int("store_queue") as usize,
        sync_us,
        allowance: sync::allowance(policy.limit, policy.window_us, sync_us),
    })
}

fn build(s: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let cfg = cfg_of(s)?;
    let props = checks_for(s, &cfg);
    Ok(Run::boxed(world(s, opts, cfg, props)?, views::views))
}

/// The two checks, holding the strategy to the claims `cfg` makes.
fn checks_for(s: &Scenario, cfg: &Cfg) -> Vec<Box<dyn Property<Obs>>> {
    let p = &s.params;
    let who = STRATEGIES.iter().find(|d| d.id == s.strategy.id).map_or("limiter", |d| d.title);
    vec![
        Box::new(WindowBound::new(claims(cfg, p.int("gateways") as u64), who)),
        Box::new(NoStarvation::new(p.int("min_share_pct") as f64 / 100.0)),
    ]
}

/// The world of a scenario with nodes configured by `cfg` (tests vary it) and `props`.
fn world(
    s: &Scenario,
    opts: &BuildOptions,
    cfg: Cfg,
    props: Vec<Box<dyn Property<Obs>>>,
) -> Result<World<Node>, BuildError> {
    let p = &s.params;
    let gateways = p.int("gateways") as u32;
    let clients = p.int("clients") as u32;
    let global = p.choice("scope") == "global";
    let gw_ids: Vec<NodeId> = (1..=gateways).collect();
    let mut specs = vec![NodeSpec::new("store", "store", Node::Store(Store::new(cfg)))];
    for i in 0..gateways {
        specs.push(NodeSpec::new(format!("gateway-{i}"), "gateway", Node::Gateway(Gateway::new(i, cfg, 0))));
    }
    let share = clients + 1;
    for i in 0..clients {
        let key = if global { 0 } else { i + 1 };
        let c = Client::new(i, key, true, gw_ids.clone(), s.workload.clone(), share, None);
        specs.push(NodeSpec::new(format!("client-{i}"), "client", Node::Client(c)));
    }
    let start = p.int("abuse_start_ms") as u64;
    let flood = Flood {
        rate_per_s: p.int("abuse_rate_per_s") as f64,
        start: SimTime::from_ms(start),
        end: SimTime::from_ms(start.saturating_add(p.int("abuse_ms") as u64)),
    };
    let flood = (flood.rate_per_s > 0.0).then_some(flood);
    let abuser = Client::new(clients, 0, false, gw_ids, s.workload.clone(), share, flood);
    specs.push(NodeSpec::new("abuser", "abuser", Node::Client(abuser)));

    crate::system::world(s, opts, specs, props)
}

pub const DEF: SystemDef = SystemDef {
    id: "rate-limiter",
    number: 2,
    title: "API rate limiter",
    theme: "Request path and caching",
    question: "How do you keep each caller of an API to its fair share of requests when many gateways share the job and an abuser floods?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: &[FaultKind::Crash, FaultKind::Pause, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss],
    drain_ms: 1_500,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

/// Back-of-the-envelope figures: admitted rate, memory per algorithm, store round trips.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let (limit, window_s) = (p.int("limit") as f64, p.int("window_ms") as f64 / 1_000.0);
    let keys = (p.int("clients") + 1) as f64;
    let offered = p.int("clients") as f64 * p.int("honest_rate_per_s") as f64 + p.int("abuse_rate_per_s") as f64;
    let mut out = estimate::workload(s);
    out.extend([
        Estimate::new("Allowed per key", format!("{} req/s", estimate::si(limit / window_s)), "limit / window"),
        Estimate::new("Offered at the flood", format!("{} req/s", estimate::si(offered)), "honest clients + abuser"),
        Estimate::new(
            "Store capacity",
            format!("{} commands/s", estimate::si(1e6 / p.int("store_us") as f64)),
            "one command at a time; a design that sends every request over needs more than the offered rate",
        ),
        Estimate::new("Sliding log memory", estimate::bytes(keys * limit * 8.0), "keys × limit × 8 B timestamps"),
        Estimate::new("Counter memory", estimate::bytes(keys * 16.0), "keys × (count + window start)"),
        Estimate::new("10 M users, token bucket", estimate::bytes(10e6 * 16.0), "16 B per key: fits one Redis node"),
    ]);
    out
}
