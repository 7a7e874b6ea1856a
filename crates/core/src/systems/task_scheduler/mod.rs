//! Distributed task scheduler (SYSTEMS.md entry 32): up to a million recurring tasks from
//! cron expressions, a pipeline whose tasks run in dependency order, and one-shot tasks.
//! A leader (elected through a lease, with failover) finds due rounds, records them at a
//! coordinator and hands them to workers under execution leases with heartbeats; failed
//! or lapsed runs are retried with exponential backoff; a sink records every write.
//!
//! Two lessons, one per naive design: finding due work by scanning the whole table every
//! tick costs time in proportion to the table, so dispatch lag grows with it (a timing
//! wheel's cost follows the work that is due); and a lease tells a worker when it *should*
//! stop, but only a fencing token checked by the store it writes to makes a paused or
//! cut-off worker's late writes harmless.

pub mod checks;
pub mod coord;
pub mod msg;
pub mod node;
pub mod scheduler;
pub mod sink;
pub mod table;
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
use msg::Obs;
use node::Node;
use scheduler::{Design, SchedCfg, Scheduler, LOAD_NS};
use std::sync::Arc;
use table::{TaskTable, MS_PER_MINUTE, WEEK_MINUTES};

pub const EXPLAINER: &str = include_str!("explainer.md");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    PollTable,
    WheelNoFencing,
    WheelFencing,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "poll-table" => Strategy::PollTable,
            "wheel-no-fencing" => Strategy::WheelNoFencing,
            "wheel-fencing" => Strategy::WheelFencing,
            _ => return None,
        })
    }

    fn design(self) -> Design {
        match self {
            Strategy::PollTable => Design::PollTable,
            Strategy::WheelNoFencing | Strategy::WheelFencing => Design::Wheel,
        }
    }

    /// Whether the sink checks tokens.
    fn fenced(self) -> bool {
        !matches!(self, Strategy::WheelNoFencing)
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "poll-table",
        title: "Poll the whole table every tick",
        robust: false,
        summary: "The leader scans every row for due tasks on each tick (fenced writes, so runs are safe). A pass costs time in proportion to the table, so at a hundred thousand tasks and more, dispatch lag breaks the SLO.",
    },
    StrategyDef {
        id: "wheel-no-fencing",
        title: "Timing wheel, leases without fencing",
        robust: false,
        summary: "Due tasks come out of a hierarchical timing wheel at a cost that follows the due work. Workers hold leases, but the sink accepts any write: a paused or cut-off worker whose lease lapsed and whose run was retried keeps writing, and two runs overlap.",
    },
    StrategyDef {
        id: "wheel-fencing",
        title: "Timing wheel + fencing tokens at the sink",
        robust: true,
        summary: "As wheel-no-fencing, but every execution carries a token (leader epoch, sequence) and the sink refuses writes with a lower token than the task's highest: a stale execution is cut off the moment a newer one writes.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "tasks",
        "Recurring tasks",
        "tasks",
        1_000,
        1_000_000,
        100_000,
        "Weekly tasks in the table, each at its own minute of the week (a million is about 99 a minute).",
    ),
    ParamSpec::int(
        "minutes",
        "Run length",
        "schedule min",
        5,
        60,
        20,
        "Schedule time simulated; one schedule minute is one simulated second.",
    ),
    ParamSpec::int("pipeline_every", "Pipeline every", "min", 1, 10, 2, "The pipeline's root runs on */N * * * *."),
    ParamSpec::int(
        "oneshots",
        "One-shot tasks",
        "tasks",
        0,
        200,
        20,
        "Tasks that run once, at times spread over the run.",
    ),
    ParamSpec::int("schedulers", "Scheduler nodes", "nodes", 2, 3, 2, "Nodes competing for the leader lease."),
    ParamSpec::int(
        "workers",
        "Workers",
        "nodes",
        2,
        8,
        4,
        "Nodes that run executions; the leader deals runs round-robin.",
    ),
    ParamSpec::int(
        "tick_ms",
        "Leader tick",
        "ms",
        1,
        100,
        10,
        "How often the leader looks for due work (and the wheel's tick).",
    ),
    ParamSpec::int(
        "row_ns",
        "Scan cost per row",
        "ns",
        10,
        2_000,
        500,
        "poll-table: simulated time to examine one row of the table on each pass.",
    ),
    ParamSpec::int(
        "dispatch_us",
        "Cost per dispatch",
        "µs",
        1,
        200,
        20,
        "Simulated leader time per round started (both designs).",
    ),
    ParamSpec::int("run_ms", "Run time", "ms", 20, 400, 150, "How long an execution takes."),
    ParamSpec::int(
        "exec_lease_ms",
        "Execution lease",
        "ms",
        60,
        1_000,
        150,
        "A run the leader hears no heartbeat from for this long is retried; workers heartbeat every third of it.",
    ),
    ParamSpec::int("lease_ms", "Leader lease", "ms", 100, 2_000, 300, "The leader lease's time-to-live."),
    ParamSpec::int("fail_pct", "Job failure rate", "%", 0, 50, 10, "Chance that an execution fails."),
    ParamSpec::int(
        "retries",
        "Retries",
        "retries",
        0,
        5,
        3,
        "Retries after a failed or lapsed run before the round is given up.",
    ),
    ParamSpec::int("backoff_ms", "Backoff base", "ms", 5, 200, 20, "The n-th retry waits base × 2^(n−1)."),
    ParamSpec::int(
        "slo_ms",
        "Dispatch lag SLO",
        "ms",
        10,
        1_000,
        50,
        "Every round outside a fault window must begin this soon after it was due.",
    ),
    ParamSpec::int(
        "pause_ms",
        "Worker pause",
        "ms",
        0,
        3_000,
        500,
        "Length of the default plan's stop-the-world pause of worker-0.",
    ),
    ParamSpec::int(
        "outage_ms",
        "Leader outage",
        "ms",
        0,
        10_000,
        3_000,
        "How long the default plan keeps sched-0 (the first leader) crashed.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "no-concurrent-run",
        kind: CheckKind::Safety,
        description: "No two executions of a task overlap in true time, judged from the sink's record of accepted writes (an execution spans its first to its last).",
    },
    CheckDef {
        name: "dependencies-first",
        kind: CheckKind::Safety,
        description: "A pipeline task's round begins at the sink only after each parent's run of that round finished successfully there, and no parent writes to the round after a child began it.",
    },
    CheckDef {
        name: "dispatch-lag",
        kind: CheckKind::Slo,
        description: "Every round due (by a minute-by-minute scan of the cron expressions, plus one-shot times) begins within slo_ms of its due time (or of its task's previous round's last write); rounds due in a fault window are not judged.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Partition, FaultKind::Loss, FaultKind::Skew];

pub const DEF: SystemDef = SystemDef {
    id: "task-scheduler",
    number: 32,
    title: "Distributed task scheduler",
    theme: "Coordination",
    question: "How do you run millions of recurring tasks on time, in dependency order, with no task ever running twice at once, when schedulers and workers crash, pause and get cut off?",
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
        arrival: Arrival::Closed,
        rate_per_s: 1.0,
        think_ms: 0,
        duration_ms: p.int("minutes").max(1) as u64 * MS_PER_MINUTE,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// Two faults: worker-0 pauses for `pause_ms` 30 ms after the minute a quarter into the
/// run (just after that minute's runs began), and sched-0 — the first leader — crashes
/// half a second after the middle minute, for `outage_ms`.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let minutes = p.int("minutes").max(1) as u64;
    let (pause, outage) = (p.int("pause_ms").max(0) as u64, p.int("outage_ms").max(0) as u64);
    let mut out = Vec::new();
    if pause > 0 {
        let at_ms = (minutes / 4).max(1) * MS_PER_MINUTE + 30;
        out.push(TimedFault { at_ms, fault: Fault::Pause { node: "worker-0".into(), for_ms: pause } });
    }
    if outage > 0 {
        let at_ms = (minutes / 2).max(2) * MS_PER_MINUTE + 500;
        out.push(TimedFault { at_ms, fault: Fault::Crash { node: "sched-0".into() } });
        out.push(TimedFault { at_ms: at_ms + outage, fault: Fault::Restart { node: "sched-0".into() } });
    }
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t: Vec<String> = (0..p.int("schedulers")).map(|i| format!("sched-{i}")).collect();
    t.push("coord".into());
    t.extend((0..p.int("workers")).map(|i| format!("worker-{i}")));
    t.push("sink".into());
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

/// The table the parameters describe.
pub fn table_of(p: &Params) -> Arc<TaskTable> {
    let window = p.int("minutes").max(1) as u64 * MS_PER_MINUTE;
    let expr = format!("*/{} * * * *", p.int("pipeline_every").max(1));
    TaskTable::new(p.int("tasks") as u32, &expr, p.int("oneshots") as u32, window)
}

/// How late a round due around a fault may be: the leader lease must lapse and a poll
/// come round, the new leader load the table, a lapsed execution lease be noticed, and
/// the longest backoff pass, plus a tick and slack.
pub fn allowance_ms(p: &Params) -> u64 {
    let lease = p.int("lease_ms") as u64;
    let load = (p.int("tasks") as u64 * LOAD_NS).div_ceil(1_000_000);
    let backoff = (p.int("backoff_ms") as u64) << p.int("retries").clamp(0, 16);
    let run = p.int("run_ms") as u64;
    lease + lease / 3 + load + p.int("exec_lease_ms") as u64 + backoff + run + 2 * p.int("tick_ms") as u64 + 50
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// Nodes in order: schedulers, the coordinator, workers, the sink.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("task-scheduler has no strategy {:?}", scenario.strategy.id)))?;
    let table = table_of(p);
    let n_sched = p.int("schedulers") as u32;
    let n_workers = p.int("workers") as u32;
    let coord: NodeId = n_sched;
    let workers: Vec<NodeId> = (0..n_workers).map(|i| n_sched + 1 + i).collect();
    let sink: NodeId = n_sched + 1 + n_workers;
    let exec_lease_ms = p.int("exec_lease_ms") as u64;
    let mut specs = Vec::new();
    let mut clock_nodes = vec!["coord".to_string(), "sched".to_string()];
    for i in 0..n_sched {
        let cfg = SchedCfg {
            index: i,
            design: strategy.design(),
            table: Arc::clone(&table),
            coord,
            workers: workers.clone(),
            lease_ms: p.int("lease_ms") as u64,
            exec_lease_ms,
            tick_ms: p.int("tick_ms") as u64,
            run_ms: p.int("run_ms") as u64,
            retries: p.int("retries") as u32,
            backoff_ms: p.int("backoff_ms") as u64,
            row_ns: p.int("row_ns") as u64,
            dispatch_us: p.int("dispatch_us") as u64,
        };
        clock_nodes.push(format!("sched-{i}"));
        specs.push(NodeSpec::new(format!("sched-{i}"), "sched", Node::Scheduler(Box::new(Scheduler::new(cfg)))));
    }
    let lease_ms = p.int("lease_ms") as u64;
    specs.push(NodeSpec::new(
        "coord",
        "coord",
        Node::Coordinator(coord::Coordinator::new(lease_ms, Arc::clone(&table))),
    ));
    for i in 0..n_workers {
        let w = worker::Worker::new(sink, exec_lease_ms / 3, p.int("fail_pct") as u64);
        specs.push(NodeSpec::new(format!("worker-{i}"), "worker", Node::Worker(w)));
    }
    specs.push(NodeSpec::new("sink", "sink", Node::Sink(sink::Sink::new(strategy.fenced()))));
    let workload_end = scenario.workload.duration_ms;
    let slo_ms = p.int("slo_ms") as u64;
    let (windows, skew_from) = checks::windows(
        &scenario.faults,
        &clock_nodes,
        slo_ms,
        allowance_ms(p),
        SimTime::from_ms(scenario.horizon_ms()),
    );
    let due = table::due_by_scan(&table, workload_end);
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::NoConcurrentRun::new(Arc::clone(&table))),
        Box::new(checks::DependenciesFirst::new(Arc::clone(&table))),
        Box::new(checks::DispatchLag::new(table, due, slo_ms, windows, skew_from)),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let n = p.int("tasks") as f64;
    let per_minute = n / WEEK_MINUTES as f64;
    let minutes = p.int("minutes") as f64;
    let pipeline_rounds = (minutes / p.int("pipeline_every") as f64).ceil();
    let fires = per_minute * minutes + pipeline_rounds * 6.0 + p.int("oneshots") as f64;
    let tick = p.int("tick_ms") as f64;
    let scan_ms = n * p.int("row_ns") as f64 / 1e6;
    let dispatch_ms = per_minute * p.int("dispatch_us") as f64 / 1e3;
    let fail = p.int("fail_pct") as f64 / 100.0;
    vec![
        Estimate::new("Rounds due per schedule minute", estimate::si(per_minute), "tasks / 10,080 minutes in a week"),
        Estimate::new(
            "Executions in the run",
            format!("≈ {}", estimate::si(fires * (1.0 + fail / (1.0 - fail).max(0.01)))),
            "recurring + 6 per pipeline round + one-shots, plus fail/(1−fail) retries",
        ),
        Estimate::new(
            "Full-scan pass",
            format!("{} ms", estimate::si(scan_ms)),
            "poll-table: tasks × row_ns, paid on every tick whether or not anything is due",
        ),
        Estimate::new(
            "Poll lag (worst)",
            format!("≈ {} ms", estimate::si(scan_ms.max(tick) + scan_ms)),
            "a round due just after a pass began waits for it, then for the next full pass",
        ),
        Estimate::new(
            "Wheel lag (worst)",
            format!("≈ {} ms", estimate::si(tick + dispatch_ms + 3.0)),
            "one tick + the minute's dispatches + three network hops (record, run, first write)",
        ),
        Estimate::new(
            "Wheel memory",
            estimate::bytes(n * 36.0),
            "one slab entry per task (deadline, insertion order, generation, id) + its slot index",
        ),
        Estimate::new(
            "Failover",
            format!("≤ {} ms", estimate::si(allowance_ms(p) as f64)),
            "lease + poll + loading the table (100 ns a task) + execution lease + longest backoff + a run",
        ),
    ]
}
