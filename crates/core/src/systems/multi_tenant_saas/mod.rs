//! Multi-tenant SaaS (catalog entry 23): many customers (tenants) share one fleet of
//! database shards behind one API tier. Tokens carry the tenant; a query runs in a session
//! bound to it; rows live in a shared table with a tenant column, a schema per tenant or
//! a database per tenant (the `isolation` parameter: placement and cost); each tenant has
//! a quota; shards meter usage for invoices; and the hot tenant is moved to another shard
//! mid-run (copy, catch up behind a write freeze, cut over).
//!
//! Two designs are one mistake away from the robust one: a query path that forgets the
//! tenant predicate (another tenant's rows come back) and a platform with no quotas and a
//! FIFO database queue (one tenant's spike starves the small ones). The checks judge
//! against the shards' own write record, an independent count of served requests, and
//! true simulated time. See `explainer.md`.

pub mod auth;
pub mod checks;
pub mod client;
pub mod fairq;
pub mod meter;
pub mod msg;
pub mod router;
pub mod shard;
pub mod store;
pub mod views;

#[cfg(test)]
mod tests;

use crate::blocks::rate_limit::Policy;
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::{Arrival, Burst, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use msg::{Msg, Obs, TenantId};
use std::collections::BTreeSet;
use store::Isolation;

pub const EXPLAINER: &str = include_str!("explainer.md");

type Ctx<'a> = crate::sim::Ctx<'a, Msg, Obs>;

crate::roles! {
    /// Every node, in the direction a request flows: tenants' users, the router, the
    /// shards, the meter.
    pub enum Node: Msg, Obs {
        Client(client::Client),
        Router(Box<router::Router>),
        Shard(Box<shard::Shard>),
        Meter(meter::Meter),
    }
}

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    NoTenantFilter,
    NoQuota,
    Robust,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "no-tenant-filter" => Strategy::NoTenantFilter,
            "no-quota" => Strategy::NoQuota,
            "rls-quota-fair" => Strategy::Robust,
            _ => return None,
        })
    }

    /// The tenant is bound below the query layer on every request.
    pub fn binds_tenant(self) -> bool {
        self != Strategy::NoTenantFilter
    }

    /// Per-tenant quotas at the router and fair queueing in the databases.
    pub fn protects(self) -> bool {
        self != Strategy::NoQuota
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "no-tenant-filter",
        title: "Query path without the tenant predicate",
        robust: false,
        summary: "Quotas and fair queues, but the tenant filter is left to each query and one query forgets it: in a shared table it returns every tenant's rows for the key, and with a schema per tenant it reads whichever schema a pooled connection was last set to.",
    },
    StrategyDef {
        id: "no-quota",
        title: "No quotas, FIFO database queue",
        robust: false,
        summary: "Row-level security keeps data apart, but nothing keeps load apart: when the big tenant spikes, its requests fill the shared database queue and the small tenants on that shard wait behind them.",
    },
    StrategyDef {
        id: "rls-quota-fair",
        title: "Row-level security + quotas + fair queueing",
        robust: true,
        summary: "The database binds every session to the token's tenant (row-level security, per-request search_path); a token bucket per tenant at the router caps each tenant's rate; each database serves its tenants' queues round-robin.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("tenants", "Tenants", "tenants", 2, 64, 8, "Customers; tenant t0 is the big one that spikes."),
    ParamSpec::int("shards", "Shards", "databases", 1, 16, 4, "Database servers; tenant t starts on shard t mod shards."),
    ParamSpec::choice(
        "isolation",
        "Isolation model",
        Isolation::IDS,
        "shared-schema",
        "Where a tenant's rows live: a tenant column in shared tables, a schema per tenant, or a database per tenant (each database has its own share of the server).",
    ),
    ParamSpec::int("rate_per_s", "Request rate", "req/s", 10, 2_000, 400, "All tenants together, before the spike."),
    ParamSpec::int("big_share_pct", "Big tenant's share", "%", 5, 90, 40, "Of the request rate, before the spike."),
    ParamSpec::int("spike", "Spike", "×", 1, 20, 10, "The big tenant's rate multiplier from 2 s to 5 s."),
    ParamSpec::int("write_pct", "Writes", "%", 0, 100, 20, "Requests that add a row; the rest read a resource's rows."),
    ParamSpec::int("resources", "Resources per tenant", "keys", 1, 256, 32, "Every tenant has its own resource 0..n."),
    ParamSpec::int("quota_per_s", "Quota", "req/s per tenant", 10, 5_000, 250, "Token bucket per tenant (burst: a fifth of a second's worth)."),
    ParamSpec::int("op_us", "Query time", "µs", 100, 20_000, 1_000, "One query's service time; a shard's capacity is 10⁶ / this per second."),
    ParamSpec::int("slo_ms", "Small tenants' p99 limit", "ms", 5, 2_000, 100, "The latency the small tenants are promised."),
    ParamSpec::int("move_at_ms", "Move the big tenant at", "ms", 0, 60_000, 4_000, "The big tenant moves to the least crowded shard (0: never)."),
    ParamSpec::choice(
        "metering",
        "Metering",
        &["idempotent", "count-every-delivery"],
        "idempotent",
        "Whether the meter drops usage events it has already counted (shards resend until acknowledged).",
    ),
    ParamSpec::int("meter_down_ms", "Meter crash", "ms", 0, 3_000, 500, "Default faults: the meter crashes at 3 s for this long."),
    ParamSpec::int("shard_down_ms", "Shard crash", "ms", 0, 3_000, 400, "Default faults: shard-1 crashes at 6 s for this long."),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: checks::NO_CROSS_TENANT_READ,
        kind: CheckKind::Safety,
        description: "Every row a client receives was written by the tenant its token names, judged against the shards' write record (who wrote each row, taken when it was written).",
    },
    CheckDef {
        name: checks::METERING,
        kind: CheckKind::Safety,
        description: "Once the run is quiet, each tenant's last invoice equals the number of its requests the shards served (counted as they were served), through meter crashes and the tenant move.",
    },
    CheckDef {
        name: checks::SMALL_P99,
        kind: CheckKind::Slo,
        description: "The small tenants' p99 latency (true time, send to answer) stays under the limit while the big tenant spikes. Conditions: small tenants stay within their quotas; requests that overlap a fault on the router or a shard, or start within 1 s of its repair, are set aside.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

/// The big tenant.
pub const BIG: TenantId = 0;
/// The whole platform's base rate is capped here, and the big tenant's spiking rate at
/// `MAX_BIG_RATE` (a link may ask for more; the tables would grow without bound).
pub const MAX_RATE: f64 = 2_000.0;
pub const MAX_BIG_RATE: f64 = 5_000.0;
/// A request's timeout at its client, and a query's at the router.
pub const CLIENT_TIMEOUT_MS: u64 = 1_000;
pub const QUERY_TIMEOUT_MS: u64 = 800;
pub const INVOICE_MS: u64 = 500;
/// How long the run must be quiet before invoices are judged.
pub const SETTLE_MS: u64 = 1_000;

pub const DEF: SystemDef = SystemDef {
    id: "multi-tenant-saas",
    number: 23,
    title: "Multi-tenant SaaS",
    theme: "Marketplaces and platforms",
    question: "How do you host thousands of customers on shared databases so that none ever sees another's data, one customer's spike does not slow the rest, every request is billed exactly once, and a hot customer can be moved without losing a write?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 3_000,
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
        rate_per_s: p.int("rate_per_s") as f64,
        think_ms: 0,
        duration_ms: 8_000,
        keys: p.int("resources") as u64,
        zipf_s: 0.0,
        bursts: vec![Burst { at_ms: 2_000, for_ms: 3_000, factor: p.int("spike") as f64 }],
    }
}

/// The meter crashes (usage piles up in the shards' outboxes) and a shard crashes (its
/// queue is lost). A zero length leaves a fault out. The spike is the workload's burst and
/// the move a parameter.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let mut out = Vec::new();
    let meter = p.int("meter_down_ms") as u64;
    if meter > 0 {
        out.push(TimedFault { at_ms: 3_000, fault: Fault::Crash { node: "meter".into() } });
        out.push(TimedFault { at_ms: 3_000 + meter, fault: Fault::Restart { node: "meter".into() } });
    }
    let down = p.int("shard_down_ms") as u64;
    if down > 0 {
        let shard = format!("shard-{}", 1 % p.int("shards"));
        out.push(TimedFault { at_ms: 6_000, fault: Fault::Crash { node: shard.clone() } });
        out.push(TimedFault { at_ms: 6_000 + down, fault: Fault::Restart { node: shard } });
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t = vec!["router".to_string(), "meter".to_string()];
    t.extend((0..p.int("shards")).map(|i| format!("shard-{i}")));
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

/// Each tenant's arrivals: the big tenant gets its share and the bursts (each burst's
/// factor capped so that even every burst at once stays within `MAX_BIG_RATE`), the small
/// tenants split the rest evenly and never spike.
pub fn tenant_workloads(base: &WorkloadSpec, tenants: u32, big_share: f64) -> Vec<WorkloadSpec> {
    let total = base.rate_per_s.min(MAX_RATE);
    let big = (total * big_share).max(0.001);
    let small = (total * (1.0 - big_share) / f64::from(tenants.saturating_sub(1).max(1))).max(0.001);
    let n = base.bursts.len().max(1) as f64;
    let cap = libm::pow((MAX_BIG_RATE / big).max(1.0), 1.0 / n);
    (0..tenants)
        .map(|t| {
            let mut w = base.clone();
            if t == BIG {
                w.rate_per_s = big;
                for b in &mut w.bursts {
                    b.factor = b.factor.min(cap).max(f64::MIN_POSITIVE);
                }
            } else {
                w.rate_per_s = small;
                w.bursts.clear();
            }
            w
        })
        .collect()
}

/// Node ids: tenant clients `0..n` (a tenant's id is its client's node id), the router,
/// the shards, the meter.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("multi-tenant-saas has no strategy {:?}", scenario.strategy.id)))?;
    let isolation = Isolation::from_id(p.choice("isolation"))
        .ok_or_else(|| BuildError(format!("unknown isolation {:?}", p.choice("isolation"))))?;
    let tenants = p.int("tenants") as u32;
    let nshards = p.int("shards") as u32;
    let router: NodeId = tenants;
    let shards: Vec<NodeId> = (router + 1..router + 1 + nshards).collect();
    let meter: NodeId = router + 1 + nshards;
    let mut keys = crate::sim::rng::Prng::new(scenario.seed).fork("issuer");
    let issuer = auth::Issuer::new(keys.next_u64(), keys.next_u64());
    let loads = tenant_workloads(&scenario.workload, tenants, p.int("big_share_pct") as f64 / 100.0);
    let mut specs = Vec::new();
    for (t, workload) in (0..tenants).zip(loads) {
        let cfg = client::ClientCfg {
            tenant: t,
            token: issuer.issue(t, 1),
            router,
            workload,
            resources: p.int("resources") as u32,
            write_pct: p.int("write_pct") as u64,
            timeout_ms: CLIENT_TIMEOUT_MS,
        };
        specs.push(NodeSpec::new(format!("tenant-{t}"), "tenant", Node::Client(client::Client::new(cfg))));
    }
    let placement: Vec<u32> = (0..tenants).map(|t| t % nshards).collect();
    let quota = p.int("quota_per_s") as u64;
    let move_at = p.int("move_at_ms") as u64;
    let rcfg = router::RouterCfg {
        issuer,
        shards: shards.clone(),
        quota: strategy.protects().then_some(Policy { limit: quota, window_us: 1_000_000, burst: (quota / 5).max(1) }),
        query_timeout_ms: QUERY_TIMEOUT_MS,
        move_at: (move_at > 0).then_some((SimTime::from_ms(move_at), BIG)),
    };
    specs.push(NodeSpec::new("router", "router", Node::Router(Box::new(router::Router::new(rcfg, placement.clone())))));
    // A database per tenant gets its own share of the server whatever the strategy: the
    // databases are separate processes the host schedules fairly.
    let fair = strategy.protects() || isolation == Isolation::DbPerTenant;
    for s in 0..nshards {
        let cfg =
            shard::ShardCfg { index: s, meter, router, shards: shards.clone(), fair, op_us: p.int("op_us") as u64 };
        let owned: BTreeSet<TenantId> = (0..tenants).filter(|&t| placement[t as usize] == s).collect();
        let sh = shard::Shard::new(cfg, isolation, strategy.binds_tenant(), owned);
        specs.push(NodeSpec::new(format!("shard-{s}"), "shard", Node::Shard(Box::new(sh))));
    }
    let dedup = p.choice("metering") == "idempotent";
    specs.push(NodeSpec::new("meter", "meter", Node::Meter(meter::Meter::new(tenants, dedup, INVOICE_MS))));
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::NoCrossTenantRead::default()),
        Box::new(checks::MeteringMatchesUsage::new(&scenario.faults, SimDuration::from_ms(SETTLE_MS))),
        Box::new(checks::SmallTenantP99::new(p.int("slo_ms") as f64, BIG, &scenario.faults)),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let tenants = p.int("tenants") as f64;
    let shards = p.int("shards") as f64;
    let rate = (p.int("rate_per_s") as f64).min(MAX_RATE);
    let share = p.int("big_share_pct") as f64 / 100.0;
    let big_spike = (rate * share * p.int("spike") as f64).min(MAX_BIG_RATE);
    let small = rate * (1.0 - share) / (tenants - 1.0).max(1.0);
    let capacity = 1e6 / p.int("op_us") as f64;
    let quota = p.int("quota_per_s") as f64;
    let (objects, how) = match p.choice("isolation") {
        "schema-per-tenant" => (tenants * 20.0, "20 tables × tenants in the catalog; migrations run per schema"),
        "db-per-tenant" => (tenants, "one database (and connection pool) per tenant"),
        _ => (20.0, "20 shared tables with a tenant_id column and a policy"),
    };
    let per_db_overhead = if p.choice("isolation") == "db-per-tenant" { tenants * 10.0 } else { shards * 10.0 };
    vec![
        Estimate::new(
            "Small tenant's rate",
            format!("{} req/s", estimate::si(small)),
            "rate × (1 − big share) / (tenants − 1)",
        ),
        Estimate::new(
            "Big tenant at its spike",
            format!("{} req/s", estimate::si(big_spike)),
            "rate × big share × spike",
        ),
        Estimate::new(
            "Shard capacity",
            format!("{} req/s", estimate::si(capacity)),
            "10⁶ µs / query time; a spike above it on a FIFO queue starves its neighbours",
        ),
        Estimate::new(
            "Big tenant's load on its shard, with quota",
            format!("{} %", estimate::si(100.0 * big_spike.min(quota) / capacity)),
            "min(spike, quota) / capacity",
        ),
        Estimate::new("Schema objects", estimate::si(objects), how),
        Estimate::new(
            "Fixed cost",
            format!("≈ ${} /month", estimate::si(per_db_overhead * 15.0)),
            "≈ $150 per database server or dedicated database per month",
        ),
        Estimate::new(
            "Usage events",
            format!("≈ {} /day", estimate::si(rate * 86_400.0)),
            "one per served request; billed exactly once each",
        ),
    ]
}
