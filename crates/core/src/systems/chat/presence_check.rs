//! `presence-accurate` (safety, with a stated bound): what the presence service shows for
//! each device never disagrees with the device's true connectivity for longer than
//! `bound` (the presence timeout + one heartbeat interval + one sweep + 500 ms for
//! network delay, a clogged link included).
//!
//! The truth is rebuilt here, not taken from the presence design: a device is truly
//! connected while it has a socket open to a gateway (from the handshake completing to the
//! device closing it, as the device reports), that gateway has not crashed since, neither
//! end is crashed or paused, and no partition cuts the two apart in either direction.
//! Crashes, pauses and partitions come from the scenario's fault plan — the same plan the
//! kernel applies — replayed in time order up to each observation, so a stretch of
//! disagreement is measured exactly from the instant it began, even when nothing was
//! observed in between.

use super::msg::Obs;
use crate::check::{Property, RunEnd};
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeSet;

/// A fault-plan step, resolved to node ids.
#[derive(Clone, Debug)]
enum Step {
    Crash(Vec<NodeId>),
    Restart(Vec<NodeId>),
    Pause(Vec<NodeId>, SimTime),
    /// A pause ending (a change point; the state follows from the pause's end time).
    Resume,
    Block(Vec<(NodeId, NodeId)>),
    Heal,
}

/// Node ids a fault's node name means: the node, or every node of a role.
pub fn resolve(names: &[String], roles: &[&str], name: &str) -> Vec<NodeId> {
    if let Some(i) = names.iter().position(|n| n == name) {
        return vec![i as NodeId];
    }
    (0..names.len()).filter(|&i| roles[i] == name).map(|i| i as NodeId).collect()
}

#[derive(Clone)]
pub struct PresenceAccurate {
    names: Vec<String>,
    devices: usize,
    bound: SimDuration,
    plan: Vec<(SimTime, Step)>,
    next_step: usize,
    down: Vec<bool>,
    paused_until: Vec<SimTime>,
    blocked: BTreeSet<(NodeId, NodeId)>,
    now: SimTime,
    /// Per device: the gateway its open socket goes to.
    session: Vec<Option<NodeId>>,
    shown: Vec<bool>,
    /// Per device: the last (truth, shown) pair and since when it has held.
    state: Vec<(bool, bool)>,
    since: Vec<SimTime>,
    samples: u64,
    worst: SimDuration,
}

impl PresenceAccurate {
    /// Devices are nodes `0..devices`; `names` and `roles` cover every node.
    pub fn new(names: Vec<String>, roles: &[&str], devices: usize, bound: SimDuration, faults: &[TimedFault]) -> Self {
        let mut plan = Vec::new();
        let ids = |n: &str| resolve(&names, roles, n);
        for f in faults {
            let at = SimTime::from_ms(f.at_ms);
            match &f.fault {
                Fault::Crash { node } => plan.push((at, Step::Crash(ids(node)))),
                Fault::Restart { node } => plan.push((at, Step::Restart(ids(node)))),
                Fault::Pause { node, for_ms } => {
                    let until = SimTime::from_ms(f.at_ms + for_ms);
                    plan.push((at, Step::Pause(ids(node), until)));
                    plan.push((until, Step::Resume));
                }
                Fault::Partition { a, b, one_way } => {
                    let (sa, sb): (Vec<NodeId>, Vec<NodeId>) =
                        (a.iter().flat_map(|n| ids(n)).collect(), b.iter().flat_map(|n| ids(n)).collect());
                    let mut pairs = Vec::new();
                    for &x in &sa {
                        for &y in &sb {
                            pairs.push((x, y));
                            if !one_way {
                                pairs.push((y, x));
                            }
                        }
                    }
                    plan.push((at, Step::Block(pairs)));
                }
                Fault::Heal => plan.push((at, Step::Heal)),
                _ => {}
            }
        }
        plan.sort_by_key(|(t, _)| *t);
        let n = names.len();
        PresenceAccurate {
            names,
            devices,
            bound,
            plan,
            next_step: 0,
            down: vec![false; n],
            paused_until: vec![SimTime::ZERO; n],
            blocked: BTreeSet::new(),
            now: SimTime::ZERO,
            session: vec![None; devices],
            shown: vec![false; devices],
            state: vec![(false, false); devices],
            since: vec![SimTime::ZERO; devices],
            samples: 0,
            worst: SimDuration::ZERO,
        }
    }

    fn up(&self, n: NodeId) -> bool {
        !self.down[n as usize] && self.paused_until[n as usize] <= self.now
    }

    /// Whether device `d` is truly connected right now.
    pub fn connected(&self, d: usize) -> bool {
        let Some(g) = self.session[d] else { return false };
        let dn = d as NodeId;
        self.up(dn) && self.up(g) && !self.blocked.contains(&(dn, g)) && !self.blocked.contains(&(g, dn))
    }

    fn apply(&mut self, step: Step) {
        match step {
            Step::Crash(ids) => {
                for id in ids {
                    self.down[id as usize] = true;
                    self.paused_until[id as usize] = SimTime::ZERO;
                    // A crash kills every socket to or from the node for good.
                    for (d, s) in self.session.iter_mut().enumerate() {
                        if *s == Some(id) || d as NodeId == id {
                            *s = None;
                        }
                    }
                }
            }
            Step::Restart(ids) => ids.iter().for_each(|&id| self.down[id as usize] = false),
            Step::Pause(ids, until) => {
                for id in ids {
                    if !self.down[id as usize] && self.paused_until[id as usize] <= self.now {
                        self.paused_until[id as usize] = until;
                    }
                }
            }
            Step::Resume => {}
            Step::Block(pairs) => self.blocked.extend(pairs),
            Step::Heal => self.blocked.clear(),
        }
    }

    /// Re-judges every device at `t`: a disagreement that has lasted past the bound fails.
    fn judge(&mut self, t: SimTime) -> Option<String> {
        self.now = t;
        let mut bad = None;
        for d in 0..self.devices {
            let (truth0, shown0) = self.state[d];
            let lasted = t.since(self.since[d]);
            if truth0 != shown0 {
                self.worst = self.worst.max(lasted);
                if lasted > self.bound && bad.is_none() {
                    bad = Some(format!(
                        "presence showed {} {} from {} to at least {} ({} ms) while it was truly {}; the bound is {} ms",
                        self.names[d],
                        if shown0 { "online" } else { "offline" },
                        self.since[d],
                        t,
                        lasted.as_ms(),
                        if truth0 { "connected" } else { "disconnected" },
                        self.bound.as_ms()
                    ));
                }
            }
            let now_state = (self.connected(d), self.shown[d]);
            if now_state != self.state[d] {
                self.state[d] = now_state;
                self.since[d] = t;
            }
        }
        bad
    }

    /// Replays the plan up to `t` (inclusive), judging at each step.
    fn advance(&mut self, t: SimTime) -> Option<String> {
        let mut bad = None;
        while let Some((at, _)) = self.plan.get(self.next_step) {
            let at = *at;
            if at > t {
                break;
            }
            let r = self.judge(at);
            bad = bad.or(r);
            self.now = at;
            let step = self.plan[self.next_step].1.clone();
            self.next_step += 1;
            self.apply(step);
            let r = self.judge(at);
            bad = bad.or(r);
        }
        bad
    }
}

impl Property<Obs> for PresenceAccurate {
    fn name(&self) -> &'static str {
        "presence-accurate"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        let mut bad = self.advance(at);
        let changed = match *obs {
            Obs::Session { device, gateway } if (device as usize) < self.devices => {
                self.session[device as usize] = gateway;
                true
            }
            Obs::Presence { device, online } if (device as usize) < self.devices => {
                self.shown[device as usize] = online;
                true
            }
            _ => false,
        };
        if changed {
            self.samples += 1;
            let r = self.judge(at);
            bad = bad.or(r);
        }
        bad
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        let a = self.advance(end.now);
        let b = self.judge(end.now);
        a.or(b)
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        format!(
            "{} presence and socket changes; the longest disagreement lasted {} ms (bound {} ms)",
            self.samples,
            self.worst.as_ms(),
            self.bound.as_ms()
        )
    }
}
