//! The operator: a release plan run from the admin console. It grows the checkout
//! rollout step by step (and rolls it back once, and forward again), widens the search
//! experiment and later re-weights it, and at `kill_at_ms` flips the kill switch on the
//! recommendations model (turning it back on a few seconds later, once "fixed").
//!
//! Changes go to the store one at a time, in plan order, each retried every
//! [`RETRY_MS`] until acknowledged (the store applies each change id once). The plan is
//! the admin's script, kept across a restart; what was in flight is simply sent again.

use super::flags::{CHECKOUT, FULL, RECS, SEARCH};
use super::msg::{Msg, Obs, Op};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

const TICK_MS: u64 = 50;
pub const RETRY_MS: u64 = 250;
/// The kill switch is turned back on this long after the kill.
pub const FIXED_AFTER_MS: u64 = 4_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub at_ms: u64,
    pub flag: u8,
    pub op: Op,
}

/// The release plan for a final rollout of `target_bp`, a kill at `kill_at_ms`, in a
/// workload of `duration_ms`.
pub fn plan(target_bp: u32, kill_at_ms: u64, duration_ms: u64) -> Vec<Planned> {
    let mut out = Vec::new();
    let mut last = 0;
    for (at_ms, bp) in [(2_000, target_bp / 10), (4_000, target_bp / 4), (6_000, target_bp / 2), (8_000, target_bp)] {
        let bp = bp.max(1);
        if bp > last {
            out.push(Planned { at_ms, flag: CHECKOUT, op: Op::Rollout(bp) });
            last = bp;
        }
    }
    // A bad signal: back to half, then forward again.
    out.push(Planned { at_ms: 13_000, flag: CHECKOUT, op: Op::Rollout((target_bp / 2).max(1)) });
    out.push(Planned { at_ms: 16_000, flag: CHECKOUT, op: Op::Rollout(target_bp) });
    out.push(Planned { at_ms: 5_000, flag: SEARCH, op: Op::Rollout(4_000) });
    out.push(Planned { at_ms: 15_000, flag: SEARCH, op: Op::Weights(vec![3_400, 3_300, FULL - 6_700]) });
    out.push(Planned { at_ms: kill_at_ms, flag: RECS, op: Op::Enable(false) });
    if kill_at_ms + FIXED_AFTER_MS < duration_ms {
        out.push(Planned { at_ms: kill_at_ms + FIXED_AFTER_MS, flag: RECS, op: Op::Enable(true) });
    }
    out.retain(|p| p.at_ms < duration_ms);
    out.sort_by_key(|p| p.at_ms);
    out
}

#[derive(Clone, Debug)]
pub struct Admin {
    pub store: NodeId,
    pub plan: Vec<Planned>,
    /// Changes acknowledged so far (the next one to send is `plan[acked]`).
    pub acked: usize,
    sent_at: Option<SimTime>,
    pub retries: u64,
}

impl Admin {
    pub fn new(store: NodeId, plan: Vec<Planned>) -> Admin {
        Admin { store, plan, acked: 0, sent_at: None, retries: 0 }
    }

    fn send(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let p = &self.plan[self.acked];
        let id = self.acked as u64 + 1;
        ctx.send(self.store, Msg::Change { id, flag: p.flag, op: p.op.clone() });
        self.sent_at = Some(ctx.local_time());
    }
}

impl Actor for Admin {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.sent_at = None;
        ctx.set_timer(SimDuration::from_ms(TICK_MS), 0);
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(TICK_MS), 0);
        let Some(next) = self.plan.get(self.acked) else { return };
        let now = ctx.local_time();
        match self.sent_at {
            None if now >= SimTime::from_ms(next.at_ms) => self.send(ctx),
            Some(t) if now >= t + SimDuration::from_ms(RETRY_MS) || now < t => {
                self.retries += 1;
                self.send(ctx);
            }
            _ => {}
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, _ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Ack { id, .. } = msg {
            if id == self.acked as u64 + 1 && self.sent_at.is_some() {
                self.acked += 1;
                self.sent_at = None;
            }
        }
    }

    fn describe(&self) -> String {
        match self.plan.get(self.acked) {
            Some(p) => format!("{}/{} changes · next at {} s", self.acked, self.plan.len(), p.at_ms as f64 / 1_000.0),
            None => format!("{}/{} changes done", self.acked, self.plan.len()),
        }
    }
}
