//! The card network, as payment-gateway models it, cut down to what checkout needs: a
//! charge and a refund per reference (the order id), each answered from the record when
//! repeated, never executed twice. Every request is processed, but its reply may be lost
//! (`lost_pct`) or late (`slow_pct`, 0.5–2 s), so a timeout says nothing about whether the
//! card was charged. A refund of a reference never charged *voids* it: a charge arriving
//! after it (a late retry overtaking nothing) is declined, so a compensation cannot be
//! undone by the step it compensates.
//!
//! Its records are durable and are the checks' record of money moved: every charge and
//! refund is reported as it happens.

use super::msg::{Msg, Obs, OrderId, PayOp};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug)]
pub struct NetworkCfg {
    pub lost_pct: u64,
    pub slow_pct: u64,
    pub decline_pct: u64,
}

/// The network's record of one reference.
#[derive(Clone, Copy, Debug, Default)]
pub struct Record {
    pub amount: u64,
    pub charged: bool,
    pub declined: bool,
    pub refunded: bool,
    /// Refunded before any charge: a later charge is declined.
    pub voided: bool,
}

#[derive(Clone, Debug)]
pub struct Network {
    cfg: NetworkCfg,
    /// Durable.
    pub records: BTreeMap<OrderId, Record>,
    /// Replies waiting for their delay (volatile), by timer tag.
    pending: BTreeMap<u64, (NodeId, Msg)>,
    next_tag: u64,
}

impl Network {
    pub fn new(cfg: NetworkCfg) -> Network {
        Network { cfg, records: BTreeMap::new(), pending: BTreeMap::new(), next_tag: 0 }
    }

    /// Money the network holds for one reference (charged and not refunded).
    pub fn net(&self, id: OrderId) -> i64 {
        self.records.get(&id).map_or(0, |r| if r.charged && !r.refunded { r.amount as i64 } else { 0 })
    }

    fn process(&mut self, msg: &Msg, ctx: &mut Ctx<'_, Msg, Obs>) -> Option<(OrderId, PayOp, bool)> {
        match *msg {
            Msg::Charge { id, amount, .. } => {
                let r = self.records.entry(id).or_default();
                if !r.charged && !r.declined && !r.voided {
                    if ctx.rng.chance(self.cfg.decline_pct as f64 / 100.0) {
                        r.declined = true;
                    } else {
                        r.charged = true;
                        r.amount = amount;
                        ctx.observe(Obs::Money { id, amount: amount as i64 });
                    }
                }
                Some((id, PayOp::Charge, r.charged))
            }
            Msg::Refund { id } => {
                let r = self.records.entry(id).or_default();
                if r.charged && !r.refunded {
                    r.refunded = true;
                    ctx.observe(Obs::Money { id, amount: -(r.amount as i64) });
                } else if !r.charged {
                    r.voided = true;
                }
                Some((id, PayOp::Refund, true))
            }
            _ => None,
        }
    }
}

impl Actor for Network {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some((id, op, ok)) = self.process(&msg, ctx) else { return };
        ctx.metrics.add("network.requests", 1);
        if ctx.rng.chance(self.cfg.lost_pct as f64 / 100.0) {
            ctx.metrics.add("network.replies_lost", 1);
            return;
        }
        let delay_ms = if ctx.rng.chance(self.cfg.slow_pct as f64 / 100.0) {
            ctx.rng.between(500, 2_000)
        } else {
            ctx.rng.between(5, 40)
        };
        let tag = self.next_tag;
        self.next_tag += 1;
        self.pending.insert(tag, (from, Msg::Paid { id, op, ok }));
        ctx.set_timer(SimDuration::from_ms(delay_ms), tag);
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some((to, reply)) = self.pending.remove(&tag) {
            ctx.send(to, reply);
        }
    }

    fn on_crash(&mut self) {
        self.pending.clear();
    }

    fn describe(&self) -> String {
        let charged = self.records.values().filter(|r| r.charged && !r.refunded).count();
        format!("{} refs, {charged} charged", self.records.len())
    }
}
