//! The users: an open-loop stream of requests (Poisson arrivals at the workload's rate),
//! each from a user drawn from the workload's key distribution and sent to an app server
//! picked at random — a load balancer with no stickiness, so one user's requests land on
//! SDKs that may hold different versions of the flags. Each request evaluates every flag.

use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::workload::{KeySampler, WorkloadSpec};
use crate::sim::NodeId;

#[derive(Clone, Debug)]
pub struct Users {
    pub sdks: Vec<NodeId>,
    workload: WorkloadSpec,
    sampler: KeySampler,
    pub sent: u64,
}

impl Users {
    pub fn new(sdks: Vec<NodeId>, workload: WorkloadSpec) -> Users {
        let sampler = workload.key_sampler();
        Users { sdks, workload, sampler, sent: 0 }
    }

    fn arm(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        if let Some(next) = self.workload.next_arrival(now, 1, ctx.rng) {
            ctx.set_timer(SimDuration(next.0 - now.0), 0);
        }
    }
}

impl Actor for Users {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.arm(ctx);
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let user = self.sampler.sample(ctx.rng) as u32;
        let sdk = self.sdks[ctx.rng.below(self.sdks.len() as u64) as usize];
        self.sent += 1;
        ctx.send(sdk, Msg::Eval { user });
        self.arm(ctx);
    }

    fn on_message(&mut self, _from: NodeId, _msg: Msg, _ctx: &mut Ctx<'_, Msg, Obs>) {}

    fn describe(&self) -> String {
        format!("{} requests", self.sent)
    }
}
