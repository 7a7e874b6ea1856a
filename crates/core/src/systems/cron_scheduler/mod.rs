//! Distributed cron (SYSTEMS.md entry 20): several scheduler nodes hold the same job
//! registry of real cron expressions, workers run the fires, and the jobs act on a target.
//! Four designs, from "every node fires every job" through a per-fire lock (ShedLock-style)
//! and a leader lease alone, to a leader lease whose epoch-based tokens the target checks,
//! together with the fire's own id. The lesson: a lease or a lock decides who *should*
//! run a fire; only the resource the job acts on can make sure it takes effect once.
//!
//! The schedule clock runs 60× fast (one cron minute is one simulated second; see `jobs`).

pub mod checks;
pub mod coord;
pub mod jobs;
pub mod msg;
pub mod node;
pub mod outage;
pub mod scheduler;
pub mod target;
pub mod views;
pub mod worker;

#[cfg(test)]
mod tests;

use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use jobs::MS_PER_MINUTE;
use msg::Obs;
use node::Node;
use scheduler::{Gate, SchedCfg, Scheduler};
use target::{Mode, Target};

pub const EXPLAINER: &str = include_str!("explainer.md");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    EveryNode,
    PerFireLock,
    LeaderLease,
    LeaderFencing,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "every-node" => Strategy::EveryNode,
            "per-fire-lock" => Strategy::PerFireLock,
            "leader-lease" => Strategy::LeaderLease,
            "leader-fencing" => Strategy::LeaderFencing,
            _ => return None,
        })
    }

    fn gate(self) -> Gate {
        match self {
            Strategy::EveryNode => Gate::Everyone,
            Strategy::PerFireLock => Gate::PerFireLock,
            Strategy::LeaderLease | Strategy::LeaderFencing => Gate::Leader,
        }
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "every-node",
        title: "Every node fires every job",
        robust: false,
        summary: "Plain cron on each scheduler: no coordination, so each fire runs once per node.",
    },
    StrategyDef {
        id: "per-fire-lock",
        title: "Per-fire lock (ShedLock-style)",
        robust: false,
        summary: "Each node takes a lock named job@minute with a TTL; the winner runs the fire. Nobody takes over a holder that dies, and a node that comes back late finds the lock expired and runs the fire again.",
    },
    StrategyDef {
        id: "leader-lease",
        title: "Leader lease, no fencing",
        robust: false,
        summary: "One leader, elected through a lease, dispatches every fire. A new leader cannot tell which of the old one's fires already ran, and re-runs them; the target accepts both.",
    },
    StrategyDef {
        id: "leader-fencing",
        title: "Leader lease + fencing at the target",
        robust: true,
        summary: "As leader-lease, but each attempt carries a token (lease epoch, attempt number) and claims its fire at the target first; the target refuses an older token once a newer one claimed, and any claim once the fire took effect.",
    },
];

const POLICIES: &[&str] = &["catch-up", "skip"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("schedulers", "Scheduler nodes", "nodes", 2, 5, 3, "Nodes holding the job registry."),
    ParamSpec::int("workers", "Workers", "nodes", 1, 6, 3, "Nodes that run fires; a retry moves to the next one."),
    ParamSpec::int(
        "jobs",
        "Jobs",
        "jobs",
        1,
        6,
        5,
        "How many jobs of the registry are active (sync, report, rollup, weekend, month-start, nightly).",
    ),
    ParamSpec::int("every_min", "Sync job every", "min", 1, 15, 2, "The first job's step: */N * * * *."),
    ParamSpec::int(
        "hours",
        "Run length",
        "cron hours",
        1,
        8,
        2,
        "Schedule time simulated, from 23:00 UTC on Sat 28 Feb 2026; one cron hour is one simulated minute.",
    ),
    ParamSpec::int(
        "run_ms",
        "Job run time",
        "ms",
        20,
        900,
        300,
        "How long a run takes (300 ms is 18 s of schedule time).",
    ),
    ParamSpec::int(
        "fail_pct",
        "Job failure rate",
        "%",
        0,
        50,
        10,
        "Chance that a run fails before producing its effect.",
    ),
    ParamSpec::int("retries", "Retries", "retries", 0, 5, 2, "Retries after a failed run before the fire is given up."),
    ParamSpec::int(
        "lease_ms",
        "Lease / lock TTL",
        "ms",
        50,
        2_000,
        250,
        "Leader lease and per-fire lock time-to-live, on the coordinator's clock.",
    ),
    ParamSpec::choice(
        "policy",
        "Missed-run policy",
        POLICIES,
        "catch-up",
        "After an outage: run every missed fire late, or skip those past the deadline.",
    ),
    ParamSpec::int(
        "deadline_ms",
        "Start deadline",
        "ms",
        100,
        10_000,
        2_000,
        "Skip: a fire not started this late is skipped. Both: how late a fire outside an outage may start.",
    ),
    ParamSpec::flag(
        "fencing",
        "Fence effects (leader-fencing)",
        true,
        "leader-fencing only: off, the target checks the claim but not the token on the effect.",
    ),
    ParamSpec::int(
        "pause_ms",
        "Pause length",
        "ms",
        0,
        5_000,
        1_000,
        "Length of the default plan's two stop-the-world pauses (a scheduler's, then a worker's).",
    ),
    ParamSpec::int(
        "outage_ms",
        "Scheduler outage",
        "ms",
        0,
        20_000,
        10_000,
        "How long the default plan keeps sched-0 crashed.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "exactly-once-per-fire",
        kind: CheckKind::Safety,
        description: "No fire takes effect twice at the target, and every effect is for a real fire time of its job (fire times by a minute-by-minute scan of true time).",
    },
    CheckDef {
        name: "no-missed-fire",
        kind: CheckKind::Liveness,
        description: "Every fire due before the run ends took effect (or failed retries+1 times), first dispatched by max(due, end of outage) + deadline; under skip, only fires whose deadline passed inside an outage may go unrun.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "cron-scheduler",
    number: 20,
    title: "Distributed cron scheduler",
    theme: "Coordination",
    question: "How do you run scheduled jobs on many servers so that each fire runs exactly once, even when schedulers crash, pause or disagree about the time?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 30_000,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

fn default_workload(p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Closed,
        rate_per_s: 1.0,
        think_ms: 0,
        duration_ms: p.int("hours").max(1) as u64 * 60 * MS_PER_MINUTE,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// The first fire of the sync job at or after minute `k`.
fn sync_fire_from(p: &Params, k: i64) -> i64 {
    let job = &jobs::registry(1, p.int("every_min") as u32)[0];
    job.next_after(k - 1).unwrap_or(k)
}

/// Three faults, each aimed at one design's weak spot, timed from the sync job's fires:
/// sched-0 (the first leader) pauses just after a fire, for `pause_ms`; later the worker
/// running a fire pauses for `pause_ms`; then sched-0 crashes for `outage_ms`. Pauses start
/// 100 ms after the fire so the run is under way.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let (pause, outage) = (p.int("pause_ms").max(0) as u64, p.int("outage_ms").max(0) as u64);
    let f1 = sync_fire_from(p, 10);
    let f2 = sync_fire_from(p, f1 + 5);
    let crash_at = (f2 + 5) as u64 * MS_PER_MINUTE + 500;
    let ms = |k: i64| k as u64 * MS_PER_MINUTE + 100;
    let worker = (f2 as u64) % p.int("workers").max(1) as u64;
    let mut out = Vec::new();
    if pause > 0 {
        out.push(TimedFault { at_ms: ms(f1), fault: Fault::Pause { node: "sched-0".into(), for_ms: pause } });
        out.push(TimedFault { at_ms: ms(f2), fault: Fault::Pause { node: format!("worker-{worker}"), for_ms: pause } });
    }
    if outage > 0 {
        out.push(TimedFault { at_ms: crash_at, fault: Fault::Crash { node: "sched-0".into() } });
        out.push(TimedFault { at_ms: crash_at + outage, fault: Fault::Restart { node: "sched-0".into() } });
    }
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t: Vec<String> = (0..p.int("schedulers")).map(|i| format!("sched-{i}")).collect();
    t.push("sched".into());
    t.push("coord".into());
    t.extend((0..p.int("workers")).map(|i| format!("worker-{i}")));
    t.push("target".into());
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

/// How long a failover may take: the lease must run out, then a poll come round, plus
/// a round trip and slack.
pub fn failover_ms(lease_ms: u64) -> u64 {
    lease_ms + lease_ms / 3 + 50
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// Nodes in order: schedulers, the coordinator, workers, the target.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("cron-scheduler has no strategy {:?}", scenario.strategy.id)))?;
    let n_sched = p.int("schedulers") as u32;
    let n_workers = p.int("workers") as u32;
    let registry = jobs::registry(p.int("jobs") as usize, p.int("every_min") as u32);
    let coord: NodeId = n_sched;
    let workers: Vec<NodeId> = (0..n_workers).map(|i| n_sched + 1 + i).collect();
    let target: NodeId = n_sched + 1 + n_workers;
    let mode = match strategy {
        Strategy::LeaderFencing if p.flag("fencing") => Mode::Fenced,
        Strategy::LeaderFencing => Mode::ClaimOnly,
        _ => Mode::Blind,
    };
    let skip = p.choice("policy") == "skip";
    let lease_ms = p.int("lease_ms") as u64;
    let deadline_ms = p.int("deadline_ms") as u64;
    let retries = p.int("retries") as u32;
    let run_ms = p.int("run_ms") as u64;
    let mut specs = Vec::new();
    let mut sched_names = Vec::new();
    for i in 0..n_sched {
        let cfg = SchedCfg {
            gate: strategy.gate(),
            index: i,
            jobs: registry.clone(),
            coord,
            workers: workers.clone(),
            lease_ms,
            run_ms,
            retries,
            skip,
            deadline_ms,
        };
        sched_names.push(format!("sched-{i}"));
        specs.push(NodeSpec::new(format!("sched-{i}"), "sched", Node::Scheduler(Scheduler::new(cfg))));
    }
    specs.push(NodeSpec::new("coord", "coord", Node::Coordinator(coord::Coordinator::new(lease_ms, registry.len()))));
    for i in 0..n_workers {
        let w = worker::Worker::new(target, run_ms, p.int("fail_pct") as u64);
        specs.push(NodeSpec::new(format!("worker-{i}"), "worker", Node::Worker(w)));
    }
    specs.push(NodeSpec::new("target", "target", Node::Target(Target::new(mode))));
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let horizon_minutes = (scenario.horizon_ms() / MS_PER_MINUTE) as i64 + 1;
    let fires: Vec<Vec<i64>> = registry.iter().map(|j| jobs::fires_by_scan(j, horizon_minutes)).collect();
    let job_names: Vec<&'static str> = registry.iter().map(|j| j.name).collect();
    let end = SimTime::from_ms(scenario.horizon_ms());
    let outages = outage::Outages::from_plan(&scenario.faults, &sched_names, failover_ms(lease_ms), end);
    let workload_end = SimTime::from_ms(scenario.workload.duration_ms);
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::ExactlyOncePerFire::new(registry.clone(), names)),
        Box::new(checks::NoMissedFire::new(&fires, workload_end, job_names, outages, skip, deadline_ms, retries)),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let registry = jobs::registry(p.int("jobs") as usize, p.int("every_min") as u32);
    let minutes = p.int("hours") * 60;
    let fires: usize = registry.iter().map(|j| jobs::fires_by_scan(j, minutes).len()).sum();
    let per_hour = fires as f64 / p.int("hours") as f64;
    let n = p.int("schedulers") as f64;
    let lease = p.int("lease_ms") as f64;
    let (fail, retries) = (p.int("fail_pct") as f64 / 100.0, p.int("retries") as i32);
    let strategy = Strategy::from_id(s.strategy.id);
    let dispatches = match strategy {
        Some(Strategy::EveryNode) => p.int("schedulers"),
        _ => 1,
    };
    vec![
        Estimate::new(
            "Fires in the run",
            fires.to_string(),
            format!("{} jobs over {} cron hours", registry.len(), p.int("hours")),
        ),
        Estimate::new("Fires per cron hour", estimate::si(per_hour), "brute-force count over the registry"),
        Estimate::new(
            "Runs started per fire",
            format!("{dispatches} (+{:.2} retries)", fail / (1.0 - fail).max(0.01)),
            "every-node: one per scheduler; failures add fail/(1−fail) on average",
        ),
        Estimate::new(
            "Fires given up",
            format!("{:.4} %", 100.0 * libm::pow(fail, f64::from(retries + 1))),
            "fail_pct^(retries+1): the job failed on every attempt",
        ),
        Estimate::new(
            "Failover",
            format!(
                "≤ {} ms ≈ {} s of schedule",
                estimate::si(failover_ms(lease as u64) as f64),
                estimate::si(failover_ms(lease as u64) as f64 * 60.0 / 1_000.0)
            ),
            "lease TTL + one poll (TTL/3) + a round trip",
        ),
        Estimate::new(
            "Lease traffic",
            format!("{} msg/s", estimate::si(n * 2.0 * 3_000.0 / lease)),
            "every scheduler asks every TTL/3, one reply each",
        ),
        Estimate::new(
            "Catch-up after the default outage",
            format!("≈ {:.0} fires", per_hour * p.int("outage_ms") as f64 / 60_000.0),
            "fires per cron hour × outage (one simulated second = one cron minute)",
        ),
    ]
}
