//! Feature flags (catalog entry 16): a flag store with versioned flags, targeting rules,
//! segments and an audit log; app servers embedding an SDK that evaluates every flag
//! locally from a cache; users whose requests land on any app server; an operator who
//! rolls a release out by percentage, runs an A/B/C experiment and pulls a kill switch.
//!
//! Two design choices are the strategies. How a user is put in or out of a rollout: a
//! coin flip per request (users flicker between the old and new feature) or a hash of the
//! flag's salt and the user id (MurmurHash3, `blocks::murmur3`), which is stable and only
//! adds users as the percentage grows. How SDKs learn of a change: polling every interval
//! (a kill switch waits for the next poll) or a stream that pushes each change with its
//! version, catches up on a gap, and holds a lease on its cache so a cut-off SDK stops
//! serving a killed feature on time. The checks judge every answer any SDK served against
//! the store's committed history: `bucket-stability` and `kill-switch-slo`.

pub mod admin;
pub mod checks;
pub mod flags;
pub mod msg;
pub mod node;
pub mod sdk;
pub mod store;
pub mod users;
pub mod views;

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
use flags::Bucketing;
use msg::Obs;
use node::Node;
use sdk::Updates;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// The three designs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    RandomPerRequest,
    Polling,
    Streaming,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "random-per-request" => Strategy::RandomPerRequest,
            "polling" => Strategy::Polling,
            "streaming" => Strategy::Streaming,
            _ => return None,
        })
    }

    pub fn bucketing(self) -> Bucketing {
        match self {
            Strategy::RandomPerRequest => Bucketing::Random,
            Strategy::Polling | Strategy::Streaming => Bucketing::Hashed,
        }
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "random-per-request",
        title: "Random per request",
        robust: false,
        summary: "Streamed updates, but a user is put in the rollout by a coin flip with the rollout's probability on every request: 25 % of answers are `on`, and the same user sees the feature appear and vanish from one page view to the next.",
    },
    StrategyDef {
        id: "polling",
        title: "Hashed buckets, polling",
        robust: false,
        summary: "Stable hashed buckets; each SDK asks the store for every flag once per poll interval and serves what it got. Simple and cheap to run, but a kill switch reaches an SDK only at its next poll.",
    },
    StrategyDef {
        id: "streaming",
        title: "Hashed buckets, streaming",
        robust: true,
        summary: "Stable hashed buckets; the store pushes every change with its version; an SDK that sees a gap catches up at once, keepalive syncs re-subscribe after a store restart, and a lease on the cache makes an SDK that cannot hear the store serve a kill-switch flag off.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "sdks",
        "App servers (SDKs)",
        "servers",
        1,
        16,
        4,
        "App servers, each with an SDK and its local flag cache.",
    ),
    ParamSpec::int(
        "users",
        "Users",
        "users",
        10,
        20_000,
        2_000,
        "Distinct users sending requests (the workload's keys).",
    ),
    ParamSpec::int(
        "rollout_pct",
        "Final rollout",
        "%",
        1,
        100,
        50,
        "The checkout flag grows to this share of users in four steps (then is rolled back to half and forward again).",
    ),
    ParamSpec::int(
        "kill_at_ms",
        "Kill switch at",
        "ms",
        1_000,
        18_000,
        10_000,
        "When the operator switches recs-model off.",
    ),
    ParamSpec::int(
        "kill_slo_ms",
        "Kill-switch SLO",
        "ms",
        200,
        5_000,
        1_000,
        "After a kill commits, no SDK may serve the flag on later than this. A streaming SDK's lease is 60 % of it.",
    ),
    ParamSpec::int(
        "poll_ms",
        "Poll interval",
        "ms",
        500,
        60_000,
        5_000,
        "Polling: how often each SDK fetches every flag (a minute is common in production).",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "bucket-stability",
        kind: CheckKind::Safety,
        description: "Within each stretch of a flag's history where only its rollout percentage grew, every user's answers are monotone in the version used: once served a variant other than the off one, the same variant at every later version (judged over every answer any SDK served).",
    },
    CheckDef {
        name: "kill-switch-slo",
        kind: CheckKind::Slo,
        description: "Once the store commits a flag switched off, no SDK serves it on later than the SLO after the commit (true simulated time), until it is switched on again. Judged on every answer under every fault: an SDK that cannot confirm its cache must stop serving the flag.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "feature-flags",
    number: 16,
    title: "Feature flags",
    theme: "Coordination",
    question: "How do you build a feature-flag service whose percentage rollouts never flip a user back and forth, and whose kill switch turns a feature off everywhere within seconds?",
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

/// Length of the default workload.
pub const DURATION_MS: u64 = 20_000;

fn default_workload(p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: 500.0,
        think_ms: 0,
        duration_ms: DURATION_MS,
        keys: p.int("users") as u64,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// The streaming SDK's lease on its cache and its keepalive, from the kill-switch SLO:
/// the lease is 60 % of the SLO, so a lease timed on a clock running 10 % slow, plus a
/// clock step back the SDK has not yet noticed (at most one keepalive), still ends inside
/// the SLO; four keepalives fit in a lease, so one lost sync does not expire it.
pub fn lease_of(slo_ms: u64) -> (u64, u64) {
    let lease = slo_ms * 6 / 10;
    (lease, (lease / 4).max(10))
}

fn sdk_names(n: i64) -> Vec<String> {
    (0..n).map(|i| format!("sdk-{i}")).collect()
}

/// sdk-0 loses the store for three seconds around the kill (a network partition: it can
/// still serve its users), and the last SDK crashes early on and restarts with an empty
/// cache.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let names = sdk_names(p.int("sdks"));
    let kill = p.int("kill_at_ms") as u64;
    let cut = kill.saturating_sub(1_000);
    let last = names.last().cloned().unwrap_or_default();
    let mut out = vec![
        TimedFault { at_ms: 3_000, fault: Fault::Crash { node: last.clone() } },
        TimedFault { at_ms: 3_500, fault: Fault::Restart { node: last } },
        TimedFault {
            at_ms: cut,
            fault: Fault::Partition { a: vec![names[0].clone()], b: vec!["store".into()], one_way: false },
        },
        TimedFault { at_ms: cut + 3_000, fault: Fault::Heal },
    ];
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t = sdk_names(p.int("sdks"));
    t.push("store".into());
    t.push("admin".into());
    t
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    Ok(Run::boxed(build_world(scenario, opts)?, views::views))
}

/// Users, then the SDKs, the store and the admin.
pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("feature-flags has no strategy {:?}", scenario.strategy.id)))?;
    let n = p.int("sdks") as u32;
    let sdks: Vec<NodeId> = (1..=n).collect();
    let store: NodeId = n + 1;
    let slo_ms = p.int("kill_slo_ms") as u64;
    let (lease_ms, keepalive_ms) = lease_of(slo_ms);
    let updates = match strategy {
        Strategy::Polling => Updates::Poll { every_ms: p.int("poll_ms") as u64 },
        Strategy::RandomPerRequest | Strategy::Streaming => Updates::Stream { keepalive_ms, lease_ms },
    };
    let mut specs =
        vec![NodeSpec::new("users", "users", Node::Users(users::Users::new(sdks.clone(), scenario.workload.clone())))];
    for i in 0..n {
        let sdk = sdk::Sdk::new(store, updates, strategy.bucketing(), flags::initial_segments());
        specs.push(NodeSpec::new(format!("sdk-{i}"), "sdk", Node::Sdk(Box::new(sdk))));
    }
    let push = matches!(updates, Updates::Stream { .. });
    specs.push(NodeSpec::new("store", "store", Node::Store(Box::new(store::Store::new(push)))));
    let target_bp = p.int("rollout_pct") as u32 * 100;
    let plan = admin::plan(target_bp, p.int("kill_at_ms") as u64, scenario.workload.duration_ms);
    specs.push(NodeSpec::new("admin", "admin", Node::Admin(admin::Admin::new(store, plan))));
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::BucketStability::new(names.clone())),
        Box::new(checks::KillSwitchSlo::new(names, slo_ms)),
    ];
    crate::system::world(scenario, opts, specs, props)
}

/// Back-of-the-envelope figures for the current parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let sdks = p.int("sdks") as f64;
    let users = s.workload.keys as f64;
    let rate = s.workload.rate_per_s;
    let flags = flags::initial_flags().len() as f64;
    let poll_ms = p.int("poll_ms") as f64;
    let slo_ms = p.int("kill_slo_ms") as u64;
    let (lease_ms, keepalive_ms) = lease_of(slo_ms);
    // One-way latency ≈ 0.7 ms on the default network.
    let hop = 0.7;
    vec![
        Estimate::new(
            "Flag answers",
            format!("{} /s", estimate::si(rate * flags)),
            "requests/s × flags evaluated per request (in-process, no network)",
        ),
        Estimate::new("Per SDK", format!("{} answers/s", estimate::si(rate * flags / sdks)), "answers/s ÷ app servers"),
        Estimate::new(
            "Users in the checkout rollout",
            estimate::si(users * p.int("rollout_pct") as f64 / 100.0),
            "users × final rollout (buckets of 0.01 %)",
        ),
        Estimate::new(
            "Store load, polling",
            format!("{} req/s", estimate::si(sdks * 1_000.0 / poll_ms)),
            "SDKs ÷ poll interval, each answered with every flag",
        ),
        Estimate::new(
            "Store load, streaming",
            format!("{} syncs/s + {} pushes per change", estimate::si(sdks * 1_000.0 / keepalive_ms as f64), sdks),
            format!("SDKs ÷ keepalive ({keepalive_ms} ms); one patch per subscriber per change"),
        ),
        Estimate::new(
            "Kill reaches an SDK, polling",
            format!("≤ {} s", estimate::si((poll_ms + 2.0 * hop) / 1_000.0)),
            "a whole poll interval plus a round trip (uniform: half of it on average)",
        ),
        Estimate::new(
            "Kill reaches an SDK, streaming",
            format!("≈ {hop} ms connected, ≤ {} ms cut off", estimate::si(lease_ms as f64 / 0.9)),
            format!("one hop; else the lease ({lease_ms} ms on a clock up to 10 % slow) runs out"),
        ),
        Estimate::new(
            "SDK cache",
            format!("≈ {}", estimate::bytes(flags * 300.0)),
            "flags × ~300 B (rules, targets, weights); a large customer's runs to MBs",
        ),
    ]
}
