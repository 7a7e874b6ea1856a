//! The type-erased face of a running world that the playground and the CLI drive: step,
//! run to a time, read views and checks, inject a fault, snapshot. [`Run`] implements it
//! for any actor type, so a system's `build` can hand back a `Box<dyn Simulation>` and
//! nothing above it needs to know the system's message types.

use crate::check::CheckResult;
use crate::metrics::Metrics;
use crate::sim::fault::TimedFault;
use crate::sim::node::Actor;
use crate::sim::time::SimTime;
use crate::sim::world::{BuildError, Flight, Stop, World, MAX_PENDING_EVENTS};
use crate::trace::TraceEvent;
use crate::view::{TopoLink, TopoNode, Topology, View};

/// A running system, whatever its message types.
pub trait Simulation {
    fn now(&self) -> SimTime;
    fn horizon(&self) -> SimTime;
    fn events(&self) -> u64;
    /// Events waiting in the queue (what a snapshot of this world holds).
    fn pending_events(&self) -> usize;
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
    fn pending_events(&self) -> usize {
        self.world.pending_events()
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
        let mut results = self.world.checks().results();
        if let Some(stop) = self.world.stopped().filter(|s| s.cut_short()) {
            results.push(cut_short_verdict(stop, self.world.events(), self.world.now()));
        }
        results
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

/// The verdict a run cut short by a limit carries beside the system's checks, so the page
/// and the CLI say the same thing: the run did not finish, so it proves nothing. Both limits
/// report under one name, `event-budget`: the events a run may handle, and the events it
/// may hold waiting at once.
pub fn cut_short_verdict(stop: Stop, events: u64, now: SimTime) -> CheckResult {
    let detail = match stop {
        Stop::Backlog => format!(
            "the run held {MAX_PENDING_EVENTS} events waiting at once at {:.3} s (the most a run may hold: more work arrived than the system could finish) and was cut short",
            now.micros() as f64 / 1e6
        ),
        _ => format!("the run used its whole budget of {events} events and was cut short"),
    };
    CheckResult { name: "event-budget".into(), ok: false, detail, samples: 1, violation: None }
}

/// Lays nodes out in columns by role, in the order the actor declares its roles (see
/// [`Actor::column`]), and lists every pair of nodes that has exchanged a message.
pub fn topology_of<A: Actor>(world: &World<A>) -> Topology {
    let meta = world.meta();
    let roles: Vec<&str> = meta.iter().map(|m| m.role).collect();
    let columns: Vec<usize> = world.nodes().iter().map(Actor::column).collect();
    let places = layout(&roles, &columns);
    let mut nodes = Vec::with_capacity(meta.len());
    for (i, m) in meta.iter().enumerate() {
        let (x, y) = places[i];
        nodes.push(TopoNode {
            id: i as u32,
            name: m.name.clone(),
            role: m.role.to_string(),
            status: m.status.as_str().to_string(),
            label: world.nodes()[i].describe(),
            skewed: m.clock.offset_us != 0 || m.clock.drift_ppm != 0,
            x,
            y,
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

/// Most nodes stacked in one column before a role wraps into another: with two lines of
/// label under each node, more than this overlap at the playground's size.
pub const MAX_ROWS: usize = 8;

/// Positions (0..1 each way) for nodes given their roles and each node's declared column:
/// one band per role, ordered by column and then by first appearance (two roles of one
/// actor type, such as clients and an abuser, keep the order they were built in); a role
/// of more than [`MAX_ROWS`] nodes wraps into several columns inside its band, so 32 cache
/// nodes read as a 4 × 8 grid rather than one smeared column.
pub fn layout(roles: &[&str], columns: &[usize]) -> Vec<(f32, f32)> {
    let mut order: Vec<(usize, &str)> = Vec::new();
    for (i, r) in roles.iter().enumerate() {
        if !order.iter().any(|(_, o)| o == r) {
            order.push((columns.get(i).copied().unwrap_or(0), r));
        }
    }
    // Stable: roles in one column keep their order of first appearance.
    order.sort_by_key(|(c, _)| *c);
    let order: Vec<&str> = order.into_iter().map(|(_, r)| r).collect();
    let bands = order.len().max(1) as f32;
    let counts: Vec<usize> = order.iter().map(|o| roles.iter().filter(|r| *r == o).count()).collect();
    let mut seen = vec![0usize; order.len()];
    roles
        .iter()
        .map(|r| {
            let band = order.iter().position(|o| o == r).unwrap_or(0);
            let count = counts[band];
            let cols = count.div_ceil(MAX_ROWS).max(1);
            let rows = count.div_ceil(cols);
            let k = seen[band];
            seen[band] += 1;
            let (col, row) = (k / rows, k % rows);
            let x = (band as f32 + (col as f32 + 0.5) / cols as f32) / bands;
            let y = (row as f32 + 0.5) / rows as f32;
            (x, y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_role_wraps_into_columns_and_small_roles_stay_single() {
        let mut roles = vec!["client"; 3];
        roles.extend(vec!["cache"; 32]);
        roles.push("db");
        let p = layout(&roles, &vec![0; roles.len()]);
        // Three bands: clients, caches, db, left to right.
        assert!(p[0].0 < p[3].0 && p[3].0 < p[35].0);
        // No column holds more than MAX_ROWS nodes, and no two nodes share a place.
        let caches = &p[3..35];
        for (i, a) in caches.iter().enumerate() {
            let same_column = caches.iter().filter(|b| (b.0 - a.0).abs() < 1e-6).count();
            assert!(same_column <= MAX_ROWS, "{same_column} in one column");
            for b in &caches[i + 1..] {
                let (dx, dy) = ((a.0 - b.0).abs(), (a.1 - b.1).abs());
                // Either a column apart (a quarter of the band) or a row apart (1/8 height).
                assert!(dx > 0.05 || dy >= 1.0 / MAX_ROWS as f32 - 1e-6, "{a:?} {b:?}");
            }
        }
        // A role that fits stays one centred column.
        assert_eq!(p[0].0, p[1].0);
        assert!((p[35].1 - 0.5).abs() < 1e-6);
    }

    #[test]
    fn bands_follow_the_declared_columns_not_the_build_order() {
        // Built store first, as the rate limiter does, but declared client → gateway → store.
        let roles = ["store", "gateway", "gateway", "client", "abuser"];
        let p = layout(&roles, &[2, 1, 1, 0, 0]);
        let x = |i: usize| p[i].0;
        assert!(x(3) < x(4) && x(4) < x(1) && x(1) < x(0), "client, abuser, gateway, store: {p:?}");
        assert_eq!(x(1), x(2));
    }
}
