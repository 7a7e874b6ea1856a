//! Running scenarios. [`Simulation`] is the type-erased face of a world that the front end
//! and the CLI drive (step, run to a time, read views, inject a fault, snapshot);
//! [`Run`] implements it for any actor type. [`run_scenario`] and [`explore`] are the
//! batch entry points behind `sdlab run` and `sdlab explore`.

use crate::catalog::{self, BuildOptions};
use crate::check::CheckResult;
use crate::metrics::{Metrics, MetricsSummary};
use crate::scenario::{Scenario, ScenarioError, ScenarioSpec};
use crate::sim::fault::TimedFault;
use crate::sim::node::Actor;
use crate::sim::rng::Prng;
use crate::sim::swarm;
use crate::sim::time::SimTime;
use crate::sim::world::{BuildError, Flight, Stop, World};
use crate::trace::TraceEvent;
use crate::view::{TopoLink, TopoNode, Topology, View};
use serde::Serialize;

/// A running system, whatever its message types.
pub trait Simulation {
    fn now(&self) -> SimTime;
    fn horizon(&self) -> SimTime;
    fn events(&self) -> u64;
    /// Handles one event; false when the run is over.
    fn step(&mut self) -> bool;
    fn run_until(&mut self, t: SimTime) -> Stop;
    /// Runs toward `t` while the total event count stays below `cap`; `None` when the cap
    /// stopped it (the playground's per-frame budget).
    fn run_until_capped(&mut self, t: SimTime, cap: u64) -> Option<Stop>;
    /// Runs to the end and judges end-of-run checks.
    fn run_to_end(&mut self) -> Stop;
    fn stopped(&self) -> Option<Stop>;
    /// Hash of the trace so far.
    fn trace_hash(&self) -> u64;
    fn metrics(&self) -> &Metrics;
    fn checks(&self) -> Vec<CheckResult>;
    fn topology(&self) -> Topology;
    fn views(&self) -> Vec<View>;
    fn recent_trace(&self) -> Vec<TraceEvent>;
    /// Messages on the wire now (at most `max`).
    fn in_flight(&self, max: usize) -> Vec<Flight>;
    fn node_names(&self) -> Vec<String>;
    /// Adds a fault now or later (a click in the playground).
    fn inject(&mut self, fault: TimedFault) -> Result<(), BuildError>;
    /// An independent copy at the same point (for scrubbing and compare mode).
    fn snapshot(&self) -> Box<dyn Simulation>;
}

/// A world plus the function that draws its system-specific views.
pub struct Run<A: Actor> {
    pub world: World<A>,
    pub views: fn(&World<A>) -> Vec<View>,
}

impl<A: Actor> Clone for Run<A> {
    fn clone(&self) -> Self {
        Run { world: self.world.clone(), views: self.views }
    }
}

impl<A: Actor> Run<A> {
    pub fn boxed(world: World<A>, views: fn(&World<A>) -> Vec<View>) -> Box<dyn Simulation> {
        Box::new(Run { world, views })
    }
}

impl<A: Actor> Simulation for Run<A> {
    fn now(&self) -> SimTime {
        self.world.now()
    }
    fn horizon(&self) -> SimTime {
        self.world.horizon()
    }
    fn events(&self) -> u64 {
        self.world.events()
    }
    fn step(&mut self) -> bool {
        self.world.step()
    }
    fn run_until(&mut self, t: SimTime) -> Stop {
        self.world.run_until(t)
    }
    fn run_until_capped(&mut self, t: SimTime, cap: u64) -> Option<Stop> {
        self.world.run_until_capped(t, cap)
    }
    fn run_to_end(&mut self) -> Stop {
        self.world.run_to_end()
    }
    fn stopped(&self) -> Option<Stop> {
        self.world.stopped()
    }
    fn trace_hash(&self) -> u64 {
        self.world.trace.hash()
    }
    fn metrics(&self) -> &Metrics {
        &self.world.metrics
    }
    fn checks(&self) -> Vec<CheckResult> {
        self.world.checks().results()
    }
    fn topology(&self) -> Topology {
        topology_of(&self.world)
    }
    fn views(&self) -> Vec<View> {
        (self.views)(&self.world)
    }
    fn recent_trace(&self) -> Vec<TraceEvent> {
        self.world.trace.recent().iter().cloned().collect()
    }
    fn node_names(&self) -> Vec<String> {
        self.world.node_names()
    }
    fn in_flight(&self, max: usize) -> Vec<Flight> {
        self.world.in_flight(max)
    }
    fn inject(&mut self, fault: TimedFault) -> Result<(), BuildError> {
        for name in fault.fault.names() {
            if self.world.resolve(name).is_empty() {
                return Err(BuildError(format!("no node or role named `{name}`")));
            }
        }
        self.world.schedule_fault(fault);
        Ok(())
    }
    fn snapshot(&self) -> Box<dyn Simulation> {
        Box::new(self.clone())
    }
}

/// Lays nodes out in columns by role (in order of first appearance) and lists every pair
/// of nodes that has exchanged a message.
pub fn topology_of<A: Actor>(world: &World<A>) -> Topology {
    let meta = world.meta();
    let mut roles: Vec<&str> = Vec::new();
    for m in meta {
        if !roles.contains(&m.role) {
            roles.push(m.role);
        }
    }
    let mut nodes = Vec::with_capacity(meta.len());
    for (i, m) in meta.iter().enumerate() {
        let col = roles.iter().position(|r| *r == m.role).unwrap_or(0);
        let peers: Vec<usize> = (0..meta.len()).filter(|&j| meta[j].role == m.role).collect();
        let row = peers.iter().position(|&j| j == i).unwrap_or(0);
        nodes.push(TopoNode {
            id: i as u32,
            name: m.name.clone(),
            role: m.role.to_string(),
            status: m.status.as_str().to_string(),
            label: world.nodes()[i].describe(),
            skewed: m.clock.offset_us != 0 || m.clock.drift_ppm != 0,
            x: (col as f32 + 0.5) / roles.len() as f32,
            y: (row as f32 + 0.5) / peers.len() as f32,
        });
    }
    let n = meta.len() as u32;
    let mut links = Vec::new();
    for a in 0..n {
        for b in a + 1..n {
            if world.link_used(a, b) || world.link_used(b, a) {
                let cut = world.net.is_blocked(a, b) || world.net.is_blocked(b, a);
                let clogged = world.net.clog_of(a, b).is_some() || world.net.clog_of(b, a).is_some();
                let state = if cut {
                    "cut"
                } else if clogged {
                    "clogged"
                } else {
                    "ok"
                };
                links.push(TopoLink { from: a, to: b, state: state.to_string() });
            }
        }
    }
    Topology { nodes, links }
}

/// What `sdlab run --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub system: String,
    pub strategy: String,
    pub seed: u64,
    pub events: u64,
    pub trace_hash: String,
    pub sim_time_ms: f64,
    pub stop: Stop,
    pub metrics: MetricsSummary,
    pub checks: Vec<CheckResult>,
    pub link: String,
}

impl RunReport {
    pub fn all_ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// Formats a trace hash the way links, the CLI and the UI show it.
pub fn hash_hex(h: u64) -> String {
    format!("{h:016x}")
}

/// Validates, builds and runs a scenario to its end.
pub fn run_scenario(spec: &ScenarioSpec) -> Result<RunReport, ScenarioError> {
    let scenario = Scenario::from_spec(spec)?;
    run_validated(&scenario, &BuildOptions::default())
}

pub fn run_validated(scenario: &Scenario, opts: &BuildOptions) -> Result<RunReport, ScenarioError> {
    let mut sim = catalog::build(scenario, opts).map_err(|e| ScenarioError::Invalid(e.0))?;
    let stop = sim.run_to_end();
    let mut checks = sim.checks();
    if stop == Stop::Budget {
        checks.push(CheckResult {
            name: "event-budget".into(),
            ok: false,
            detail: format!("the run used its whole budget of {} events and was cut short", sim.events()),
            samples: 1,
            violation: None,
        });
    }
    Ok(RunReport {
        system: scenario.def.id.to_string(),
        strategy: scenario.strategy.id.to_string(),
        seed: scenario.seed,
        events: sim.events(),
        trace_hash: hash_hex(sim.trace_hash()),
        sim_time_ms: sim.now().as_ms(),
        stop,
        metrics: sim.metrics().summary(),
        checks,
        link: scenario.link(),
    })
}

/// One failing check found by a sweep.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    pub seed: u64,
    pub check: String,
    pub detail: String,
    pub link: String,
}

/// What `sdlab explore` prints.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExploreReport {
    pub seeds_run: u64,
    pub violations: Vec<Found>,
}

/// The scenario a sweep runs for `seed`: the base with that seed and, with `swarm`, a fault
/// plan drawn from the seed (replacing the base's faults).
pub fn sweep_scenario(base: &Scenario, seed: u64, swarm_mode: bool) -> Scenario {
    let mut s = base.clone();
    s.seed = seed;
    if swarm_mode {
        let mut rng = Prng::new(seed).fork("swarm");
        let targets = (s.def.swarm_targets)(&s.params);
        s.faults = swarm::plan(&mut rng, s.def.swarm_faults, &targets, s.workload.duration_ms);
    }
    s
}

/// Runs `seeds` seeds starting at `first_seed`; `progress` is called after each.
pub fn explore(
    base: &Scenario,
    first_seed: u64,
    seeds: u64,
    swarm_mode: bool,
    mut progress: impl FnMut(u64, &RunReport),
) -> Result<ExploreReport, ScenarioError> {
    let mut report = ExploreReport::default();
    for seed in first_seed..first_seed.saturating_add(seeds) {
        let s = sweep_scenario(base, seed, swarm_mode);
        let r = run_validated(&s, &BuildOptions::default())?;
        for c in r.checks.iter().filter(|c| !c.ok) {
            report.violations.push(Found {
                seed,
                check: c.name.clone(),
                detail: c.detail.clone(),
                link: r.link.clone(),
            });
        }
        report.seeds_run += 1;
        progress(seed, &r);
    }
    Ok(report)
}
