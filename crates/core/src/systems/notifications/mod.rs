//! Notifications (SYSTEMS.md entry 10): a producer API accepts marketing campaigns (to
//! everyone subscribed to a topic) and transactional one-user sends; preferences decide
//! who gets what on which channel, quiet hours by the user's own time zone; partitioned
//! fan-out workers pull batch tasks from a queue and call per-channel providers that
//! rate-limit and fail. Three designs, from the API looping over every user inline to a
//! queue with acknowledgements, redelivery, retries with backoff and idempotency keys.
//!
//! Scale is the point, so users are implicit: ids in ranges, preferences a hash of the id
//! (`prefs`), per-user facts in bitsets (`bits`), one event per batch of users. A million
//! users is a thousand tasks.

pub mod api;
pub mod bits;
pub mod checks;
pub mod msg;
pub mod node;
pub mod prefs;
pub mod provider;
pub mod queue;
pub mod views;
pub mod worker;

#[cfg(test)]
mod tests;

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
use msg::Obs;
use node::Node;
use prefs::{Channel, Prefs, QuietClock};

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Marketing campaign `i` is accepted at `FIRST_MS + i · GAP_MS`.
pub const FIRST_MS: u64 = 100;
pub const GAP_MS: u64 = 1_000;
/// A provider refuses (429) a request that would wait longer than this behind others.
pub const MAX_BACKLOG_MS: u64 = 250;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    InlineLoop,
    FireAndForget,
    AckRetryDedup,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "inline-loop" => Strategy::InlineLoop,
            "fire-and-forget" => Strategy::FireAndForget,
            "ack-retry-dedup" => Strategy::AckRetryDedup,
            _ => return None,
        })
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "inline-loop",
        title: "API loops over all users inline",
        robust: false,
        summary: "The producer API walks every user itself and calls the providers as it goes, one send after another with no retries. Completion time grows with the user count, a transactional send waits behind whole campaigns, and a crash mid-loop forgets the rest.",
    },
    StrategyDef {
        id: "fire-and-forget",
        title: "Partitioned workers, fire-and-forget",
        robust: false,
        summary: "The API publishes to a queue; workers pull batch tasks per user partition in parallel, transactional first. But the queue deletes a task when it hands it out and workers ignore provider replies: a worker crash or a provider error loses notifications.",
    },
    StrategyDef {
        id: "ack-retry-dedup",
        title: "Queue with ack + redelivery, retries, idempotency keys",
        robust: true,
        summary: "Workers acknowledge a task only after every provider confirmed; unacknowledged tasks are redelivered, failed calls retried with capped exponential backoff and jitter, and each message carries the key (campaign, user, channel) so no retry or redelivery sends twice.",
    },
];

const CLOCKS: &[&str] = &["user-zone", "server-utc"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "users",
        "Users",
        "users",
        1_000,
        1_000_000,
        50_000,
        "Users addressed by each campaign (ids 0..users).",
    ),
    ParamSpec::int(
        "partitions",
        "User partitions",
        "partitions",
        1,
        64,
        8,
        "Contiguous id ranges; partition p belongs to worker p mod workers.",
    ),
    ParamSpec::int(
        "workers",
        "Fan-out workers",
        "workers",
        1,
        16,
        4,
        "Workers pulling batch tasks; an idle one steals from other partitions.",
    ),
    ParamSpec::int(
        "batch",
        "Batch size",
        "users",
        100,
        5_000,
        1_000,
        "Users per task: one event per batch, never per user.",
    ),
    ParamSpec::int(
        "campaigns",
        "Marketing campaigns",
        "campaigns",
        1,
        6,
        3,
        "Campaigns accepted one second apart (news, sports, promo, …).",
    ),
    ParamSpec::int(
        "per_user_us",
        "Work per user",
        "µs",
        1,
        200,
        40,
        "Preference lookup and rendering per user, in the worker (or the inline loop).",
    ),
    ParamSpec::int(
        "push_rate",
        "Push provider rate",
        "msg/s",
        1_000,
        1_000_000,
        200_000,
        "Messages a second the push provider accepts.",
    ),
    ParamSpec::int(
        "email_rate",
        "Email provider rate",
        "msg/s",
        1_000,
        500_000,
        50_000,
        "Messages a second the email provider accepts.",
    ),
    ParamSpec::int(
        "sms_rate",
        "SMS provider rate",
        "msg/s",
        100,
        100_000,
        10_000,
        "Messages a second the SMS gateway accepts.",
    ),
    ParamSpec::int(
        "fail_pct",
        "Provider failure rate",
        "%",
        0,
        30,
        5,
        "Share of provider calls that fail: half rejected, half sent with the reply lost.",
    ),
    ParamSpec::int(
        "ack_timeout_ms",
        "Visibility timeout",
        "ms",
        100,
        5_000,
        1_500,
        "How long the queue waits for an ack before handing a task out again.",
    ),
    ParamSpec::int(
        "slo_ms",
        "Campaign fan-out SLO",
        "ms",
        500,
        120_000,
        5_000,
        "A campaign must reach all its recipients within this; a transactional send within 1 s.",
    ),
    ParamSpec::int(
        "utc_hour",
        "Send hour (UTC)",
        "h",
        0,
        23,
        20,
        "Hour of day of every send; quiet hours are 22:00–08:00 in the user's zone.",
    ),
    ParamSpec::choice(
        "quiet_clock",
        "Quiet hours judged on",
        CLOCKS,
        "user-zone",
        "The workers' filter: the user's local time, or the server's UTC hour for everyone (a bug).",
    ),
    ParamSpec::flag(
        "dedup",
        "Idempotency keys (ack-retry-dedup)",
        true,
        "ack-retry-dedup only: off, redeliveries and retries can send twice.",
    ),
    ParamSpec::int(
        "outage_ms",
        "Crash length",
        "ms",
        0,
        5_000,
        800,
        "How long the default plan keeps the API and worker-0 down (0: no crash).",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "exactly-once",
        kind: CheckKind::Safety,
        description: "Every user owed a send (by the preference data) receives it exactly once per channel: no duplicate ever, and no loss for sends accepted one SLO + visibility timeout before the end and after the last fault.",
    },
    CheckDef {
        name: "opt-out-respected",
        kind: CheckKind::Safety,
        description: "No one receives marketing they opted out of, are not subscribed to, on a channel they turned off, or during quiet hours (22:00–08:00) in their own time zone.",
    },
    CheckDef {
        name: "fanout-slo",
        kind: CheckKind::Slo,
        description: "Each campaign reaches all its recipients within slo_ms of acceptance, each transactional send within 1 s — judged for sends whose SLO window is clear of faults.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Partition, FaultKind::Loss, FaultKind::Clog];

pub const DEF: SystemDef = SystemDef {
    id: "notifications",
    number: 10,
    title: "Notification system",
    theme: "Messaging",
    question: "How do you send a notification to millions of users, each by their preferences, exactly once, quickly, while workers crash and providers fail?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 20_000,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

/// Transactional sends arrive as an open loop; the run lasts five seconds plus one SLO,
/// so even a slow campaign's loss is judged before the end.
fn default_workload(p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: 20.0,
        think_ms: 0,
        duration_ms: 5_000 + p.int("slo_ms") as u64,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// The API crashes at 150 ms, while campaign 0 is fanning out, and worker-0 at 200 ms,
/// both for `outage_ms`.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let outage = p.int("outage_ms").max(0) as u64;
    if outage == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (at, node) in [(150, "api"), (200, "worker-0")] {
        out.push(TimedFault { at_ms: at, fault: Fault::Crash { node: node.into() } });
        out.push(TimedFault { at_ms: at + outage, fault: Fault::Restart { node: node.into() } });
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t: Vec<String> = (0..p.int("workers")).map(|i| format!("worker-{i}")).collect();
    t.extend(["worker", "queue", "api", "push", "email", "sms"].map(String::from));
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

/// The run's preference data: a salt drawn from the seed.
pub fn salt(seed: u64) -> u64 {
    Prng::new(seed).fork("prefs").next_u64()
}

/// How long after acceptance (and after the last fault) a send must have fully arrived
/// before its absence counts as loss: one SLO plus one visibility timeout.
pub fn settle_ms(p: &Params) -> u64 {
    p.int("slo_ms") as u64 + p.int("ack_timeout_ms") as u64
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// Nodes in order: api, queue, workers, providers (push, email, sms).
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("notifications has no strategy {:?}", scenario.strategy.id)))?;
    let users = p.int("users") as u32;
    let n_workers = p.int("workers") as u32;
    let batch = p.int("batch") as u32;
    let per_user_us = p.int("per_user_us") as u64;
    let salt = salt(scenario.seed);
    let clock = if p.choice("quiet_clock") == "server-utc" { QuietClock::ServerUtc } else { QuietClock::UserZone };
    let queue_id: NodeId = 1;
    let workers: Vec<NodeId> = (0..n_workers).map(|i| 2 + i).collect();
    let first_provider = 2 + n_workers;
    let providers = [first_provider, first_provider + 1, first_provider + 2];
    let acks = strategy == Strategy::AckRetryDedup;
    let mut specs = Vec::new();
    let api = api::Api::new(api::ApiCfg {
        inline: strategy == Strategy::InlineLoop,
        queue: queue_id,
        providers,
        users,
        campaigns: p.int("campaigns") as u32,
        first_ms: FIRST_MS,
        gap_ms: GAP_MS,
        utc_hour: p.int("utc_hour") as u32,
        per_user_us,
        salt,
        clock,
        workload: scenario.workload.clone(),
    });
    specs.push(NodeSpec::new("api", "api", Node::Api(api)));
    let q = queue::Queue::new(
        acks,
        p.int("ack_timeout_ms") as u64,
        users,
        p.int("partitions") as u32,
        batch,
        workers.clone(),
    );
    specs.push(NodeSpec::new("queue", "queue", Node::Queue(q)));
    for i in 0..n_workers {
        let cfg = worker::WorkerCfg {
            acks,
            keyed: acks && p.flag("dedup"),
            queue: queue_id,
            providers,
            per_user_us,
            salt,
            clock,
            rates: [p.int("push_rate") as u64, p.int("email_rate") as u64, p.int("sms_rate") as u64],
            max_backlog_ms: MAX_BACKLOG_MS,
        };
        specs.push(NodeSpec::new(format!("worker-{i}"), "worker", Node::Worker(worker::Worker::new(cfg))));
    }
    let horizon = scenario.horizon_ms();
    let interval_ms = (horizon / 400).max(100);
    for (ch, key) in [(Channel::Push, "push_rate"), (Channel::Email, "email_rate"), (Channel::Sms, "sms_rate")] {
        let prov =
            provider::Provider::new(ch, p.int(key) as u64, MAX_BACKLOG_MS, p.int("fail_pct") as u64, interval_ms);
        specs.push(NodeSpec::new(ch.name(), "provider", Node::Provider(prov)));
    }
    let windows = checks::fault_windows(&scenario.faults, horizon);
    let endless = windows.iter().any(|w| w.1 >= horizon);
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::ExactlyOnce::new(salt, settle_ms(p), &windows, endless)),
        Box::new(checks::OptOutRespected::new(salt)),
        Box::new(checks::FanoutSlo::new(salt, p.int("slo_ms") as u64, windows)),
    ];
    Ok((specs, props))
}

/// Share of users owed each channel of marketing campaign `i`, from a sample of users.
fn owed_share(i: u32, p: &Params) -> [f64; 3] {
    let c = prefs::marketing(i, p.int("users") as u32, p.int("utc_hour") as u32);
    let n = 4_096u32;
    let mut k = [0u32; 3];
    for u in 0..n {
        let pr = Prefs::of(1, u);
        for ch in Channel::ALL {
            k[ch.index()] += u32::from(checks::owed(&pr, &c, ch));
        }
    }
    k.map(|x| f64::from(x) / f64::from(n))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let users = p.int("users") as f64;
    let workers = p.int("workers") as f64;
    let per_user_s = p.int("per_user_us") as f64 / 1e6;
    let rates = [p.int("push_rate") as f64, p.int("email_rate") as f64, p.int("sms_rate") as f64];
    let share = owed_share(0, p);
    let msgs: f64 = share.iter().sum::<f64>() * users;
    let provider_s = (0..3).map(|i| share[i] * users / rates[i]).fold(0.0, f64::max);
    let worker_s = users * per_user_s / workers.max(1.0);
    let inline_s = users * per_user_s;
    let bits = users / 8.0 * 3.0 * p.int("campaigns") as f64;
    vec![
        Estimate::new(
            "Messages, campaign 0",
            estimate::si(msgs),
            "users × share owed per channel (sampled from the preference hash)",
        ),
        Estimate::new(
            "Tasks per campaign",
            estimate::si((users / p.int("batch") as f64).ceil()),
            "users ÷ batch: one event each, not one per user",
        ),
        Estimate::new(
            "Inline loop, one campaign",
            format!("{} s", estimate::si(inline_s)),
            "users × work per user, one thread",
        ),
        Estimate::new(
            "Workers, one campaign",
            format!("{} s", estimate::si(worker_s)),
            "users × work per user ÷ workers",
        ),
        Estimate::new(
            "Slowest provider, campaign 0",
            format!("{} s", estimate::si(provider_s)),
            "owed messages ÷ its rate limit",
        ),
        Estimate::new(
            "Fan-out time vs SLO",
            format!("{} s vs {} s", estimate::si(worker_s.max(provider_s)), estimate::si(p.int("slo_ms") as f64 / 1e3)),
            "max(workers, slowest provider) for the partitioned designs",
        ),
        Estimate::new("Delivery record", estimate::bytes(bits), "one bit per user, channel and campaign"),
    ]
}
