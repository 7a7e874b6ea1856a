//! A message-heavy model used to measure the kernel itself (the criterion benchmark and
//! its wasm twin run exactly this): `n` nodes each keep `window` requests in flight to
//! random peers, and every request is answered. Nothing here is a system-design lesson;
//! it is the cheapest workload that exercises queue, network, dispatch and trace.

use super::node::{Actor, Ctx, Message};
use super::time::{SimDuration, SimTime};
use super::world::{NodeSpec, World, WorldConfig};
use super::NodeId;
use crate::check::{Property, RunEnd};

#[derive(Clone, Debug, Hash)]
pub enum Ping {
    Req { id: u64 },
    Resp { id: u64 },
}

impl Message for Ping {}

#[derive(Clone, Debug)]
pub struct Pinger {
    peers: u32,
    window: u32,
    sent: u64,
    answered: u64,
}

impl Actor for Pinger {
    type Msg = Ping;
    type Obs = u64;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Ping, u64>) {
        for _ in 0..self.window {
            self.send_one(ctx);
        }
        ctx.set_timer(SimDuration::from_ms(1), 0);
    }

    fn on_message(&mut self, from: NodeId, msg: Ping, ctx: &mut Ctx<'_, Ping, u64>) {
        match msg {
            Ping::Req { id } => ctx.send(from, Ping::Resp { id }),
            Ping::Resp { id } => {
                self.answered += 1;
                if id % 64 == 0 {
                    ctx.observe(id);
                }
                self.send_one(ctx);
            }
        }
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Ping, u64>) {
        ctx.metrics.add("ticks", 1);
        ctx.set_timer(SimDuration::from_ms(1), 0);
    }

    fn describe(&self) -> String {
        format!("{} answered", self.answered)
    }
}

impl Pinger {
    fn send_one(&mut self, ctx: &mut Ctx<'_, Ping, u64>) {
        let me = ctx.me();
        let mut to = ctx.rng.below(u64::from(self.peers)) as NodeId;
        if to == me {
            to = (to + 1) % self.peers;
        }
        self.sent += 1;
        ctx.send(to, Ping::Req { id: self.sent });
    }
}

/// A property that watches every 64th answer, so checks are on the hot path too.
#[derive(Clone)]
struct Seen(u64);

impl Property<u64> for Seen {
    fn name(&self) -> &'static str {
        "answers-seen"
    }
    fn observe(&mut self, _at: SimTime, _obs: &u64) -> Option<String> {
        self.0 += 1;
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        (self.0 == 0).then(|| "no answers".to_string())
    }
    fn samples(&self) -> u64 {
        self.0
    }
}

/// Builds the benchmark world: `nodes` nodes, `window` requests each in flight.
pub fn world(seed: u64, nodes: u32, window: u32, horizon_ms: u64) -> World<Pinger> {
    let specs = (0..nodes)
        .map(|i| NodeSpec::new(format!("n{i}"), "node", Pinger { peers: nodes, window, sent: 0, answered: 0 }))
        .collect();
    let cfg = WorldConfig { seed, horizon: SimTime::from_ms(horizon_ms), budget: u64::MAX, ..WorldConfig::default() };
    match World::new(cfg, specs, vec![Box::new(Seen(0))], Vec::new()) {
        Ok(w) => w,
        Err(e) => panic!("benchmark world: {e}"),
    }
}

/// Builds and runs the benchmark world to its end; returns the number of events handled.
/// (A plain function so the whole run is compiled — and optimised — in this crate.)
pub fn run(seed: u64, nodes: u32, window: u32, horizon_ms: u64) -> u64 {
    let mut w = world(seed, nodes, window, horizon_ms);
    w.run_to_end();
    w.events()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_hash_different_seed_different_hash() {
        let run = |seed| {
            let mut w = world(seed, 8, 4, 50);
            w.run_to_end();
            (w.events(), w.trace.hash())
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1).1, run(2).1);
        assert!(run(1).0 > 1_000);
    }

    /// A world that holds more events than it may (64 nodes × 17,000 requests in flight,
    /// over MAX_PENDING_EVENTS) is stopped at once with `Stop::Backlog`, and its queue
    /// never grows past the headroom above the limit.
    #[test]
    fn a_world_holding_too_many_events_stops_and_says_why() {
        use crate::sim::world::{Stop, MAX_PENDING_EVENTS, QUEUE_HEADROOM};
        let mut w = world(1, 64, 17_000, 50);
        assert_eq!(w.run_to_end(), Stop::Backlog);
        assert!(w.events() <= 64, "stopped after the start events, ran {}", w.events());
        assert!(w.pending_events() <= MAX_PENDING_EVENTS + QUEUE_HEADROOM);
        let mut small = world(1, 64, 8, 50);
        assert_eq!(small.run_to_end(), Stop::Horizon);
    }
}
