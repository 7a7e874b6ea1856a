//! Applying a fault to the world: crash and restart (epochs, volatile state dropped),
//! pause (events wait), clock skew, partitions, clogs and loss. Every fault is folded into
//! the trace hash and noted for the event log; the first one that can cut a node off is
//! remembered, because SLOs promise only while nothing is cut off.

use super::{code, Ev, Status, World};
use crate::sim::fault::Fault;
use crate::sim::node::Actor;
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use crate::trace::TraceKind;

impl<A: Actor> World<A> {
    pub(super) fn apply_fault(&mut self, seq: u64, index: usize) {
        let fault = self.faults[index].fault.clone();
        self.trace.fold(seq, self.now, 0, code::FAULT, index as u64);
        let text = fault.describe();
        if fault.disrupts() && self.first_disruption.is_none() {
            self.first_disruption = Some(format!("{text} at {}", self.now));
        }
        self.note_event(seq, 0, TraceKind::Fault { text });
        match fault {
            Fault::Crash { node } => {
                for id in self.resolve(&node) {
                    let m = &mut self.meta[id as usize];
                    if m.status != Status::Down {
                        m.status = Status::Down;
                        self.stalled[id as usize].clear();
                        self.nodes[id as usize].on_crash();
                    }
                }
            }
            Fault::Restart { node } => {
                for id in self.resolve(&node) {
                    let m = &mut self.meta[id as usize];
                    if m.status == Status::Down {
                        m.status = Status::Up;
                        m.epoch += 1;
                        self.dispatch(seq, id, |a, ctx| a.on_restart(ctx));
                    }
                }
            }
            Fault::Pause { node, for_ms } => {
                let until = self.now + SimDuration::from_ms(for_ms);
                for id in self.resolve(&node) {
                    let m = &mut self.meta[id as usize];
                    if m.status == Status::Up {
                        m.status = Status::Paused { until };
                        self.queue.push(until, Ev::Resume { node: id });
                    }
                }
            }
            Fault::Skew { node, offset_ms, drift_ppm } => {
                for id in self.resolve(&node) {
                    let now = self.now;
                    self.meta[id as usize].clock.skew(now, offset_ms.saturating_mul(1_000), drift_ppm);
                }
            }
            Fault::Partition { a, b, one_way } => {
                let side_a: Vec<NodeId> = a.iter().flat_map(|n| self.resolve(n)).collect();
                let side_b: Vec<NodeId> = b.iter().flat_map(|n| self.resolve(n)).collect();
                for &x in &side_a {
                    for &y in &side_b {
                        self.net.block(x, y);
                        if !one_way {
                            self.net.block(y, x);
                        }
                    }
                }
            }
            Fault::Heal => self.net.heal(),
            Fault::Clog { from, to, extra_ms } => {
                for x in self.resolve(&from) {
                    for y in self.resolve(&to) {
                        self.net.clog(x, y, SimDuration::from_ms(extra_ms));
                    }
                }
            }
            Fault::Unclog { from, to } => {
                for x in self.resolve(&from) {
                    for y in self.resolve(&to) {
                        self.net.unclog(x, y);
                    }
                }
            }
            Fault::Loss { rate } => self.net.set_loss(rate),
        }
    }
}
