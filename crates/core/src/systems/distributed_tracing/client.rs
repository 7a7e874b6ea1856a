//! The users: open-loop (Poisson) requests to the frontend, each the root of a true call
//! tree. The client carries no tracing SDK (a browser rarely does): the frontend starts
//! every trace. Answers are recorded as the run's request latency.

use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::BTreeMap;

type Cx<'a, 'b> = &'a mut Ctx<'b, Msg, Obs>;

const T_ARRIVAL: u64 = 1;
const T_SWEEP: u64 = 2;
/// Requests waiting for an answer at most; more are not sent.
const MAX_PENDING: usize = 10_000;
/// A request unanswered this long is given up (counted as failed).
const GIVE_UP_MS: u64 = 3_000;

#[derive(Clone, Debug)]
pub struct Client {
    workload: WorkloadSpec,
    frontend: NodeId,
    pending: BTreeMap<u64, SimTime>,
    pub sent: u64,
    pub failed: u64,
}

impl Client {
    pub fn new(workload: WorkloadSpec, frontend: NodeId) -> Client {
        Client { workload, frontend, pending: BTreeMap::new(), sent: 0, failed: 0 }
    }

    fn schedule(&mut self, ctx: Cx) {
        if let Some(at) = self.workload.next_arrival(ctx.now(), 1, ctx.rng) {
            ctx.set_timer(at.since(ctx.now()), T_ARRIVAL);
        }
    }
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: Cx) {
        self.schedule(ctx);
        ctx.set_timer(SimDuration::from_ms(GIVE_UP_MS), T_SWEEP);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: Cx) {
        if let Msg::Reply { rpc, ok } = msg {
            if let Some(at) = self.pending.remove(&rpc) {
                ctx.metrics.request(ctx.now(), ctx.now().since(at), ok);
                if !ok {
                    self.failed += 1;
                }
            }
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: Cx) {
        match tag {
            T_ARRIVAL => {
                if self.pending.len() < MAX_PENDING {
                    let rpc = ctx.rng.next_u64();
                    self.pending.insert(rpc, ctx.now());
                    self.sent += 1;
                    ctx.observe(Obs::Call { rpc, parent: None });
                    ctx.send(self.frontend, Msg::Call { rpc, traceparent: None });
                }
                self.schedule(ctx);
            }
            T_SWEEP => {
                let now = ctx.now();
                let old: Vec<u64> = self
                    .pending
                    .iter()
                    .filter(|(_, &at)| now.since(at) >= SimDuration::from_ms(GIVE_UP_MS))
                    .map(|(&r, _)| r)
                    .collect();
                for r in old {
                    self.pending.remove(&r);
                    self.failed += 1;
                    ctx.metrics.request(now, SimDuration::from_ms(GIVE_UP_MS), false);
                }
                if self.workload.active(now) || !self.pending.is_empty() {
                    ctx.set_timer(SimDuration::from_ms(GIVE_UP_MS), T_SWEEP);
                }
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} sent, {} failed", self.sent, self.failed)
    }
}
