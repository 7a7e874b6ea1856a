//! The card network with its issuers, as the gateway sees it: a remote system that
//! authorizes (puts a hold on the card), captures (moves the money) and refunds, keyed by
//! the gateway's reference — a retried request with the same reference is answered from
//! the record, never executed twice, as acquirer APIs do for a repeated transaction id.
//!
//! It is flaky the way real ones are: every request is *processed*, but its reply may be
//! lost (`lost_pct`) or come back late (`slow_pct`, 0.5–2 s, past any sane timeout). So
//! a timeout tells the gateway nothing: the charge may well have happened. The records are
//! the network's own, durable across a crash, and they are what the checks trust: every
//! capture and refund is reported as money moved on the card.

use super::msg::{Msg, NetOp, Obs, OrderRef, PaymentId};
use super::vault::luhn_valid;
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
#[derive(Clone, Copy, Debug)]
pub struct Record {
    pub card: u32,
    pub order: OrderRef,
    pub amount: u64,
    pub approved: bool,
    pub captured: bool,
    pub refunded: bool,
}

#[derive(Clone, Debug)]
pub struct Network {
    cfg: NetworkCfg,
    /// PAN → card index (the issuers' card files).
    cards: BTreeMap<u64, u32>,
    /// Durable: every reference ever authorized, captured or refunded.
    pub records: BTreeMap<PaymentId, Record>,
    /// Replies waiting for their delay (volatile), by timer tag.
    pending: BTreeMap<u64, (NodeId, Msg)>,
    next_tag: u64,
    pub replies_lost: u64,
    pub replies_slow: u64,
}

impl Network {
    pub fn new(cfg: NetworkCfg, pans: &[u64]) -> Network {
        let cards = pans.iter().enumerate().map(|(i, &p)| (p, i as u32)).collect();
        Network {
            cfg,
            cards,
            records: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_tag: 0,
            replies_lost: 0,
            replies_slow: 0,
        }
    }

    /// Net money moved on one reference (captured and not refunded: its amount).
    pub fn net(&self, reference: PaymentId) -> i64 {
        self.records.get(&reference).map_or(0, |r| if r.captured && !r.refunded { r.amount as i64 } else { 0 })
    }

    fn process(&mut self, msg: &Msg, ctx: &mut Ctx<'_, Msg, Obs>) -> Option<(PaymentId, NetOp, bool)> {
        match *msg {
            Msg::Auth { reference, pan, amount, order } => {
                if let Some(r) = self.records.get(&reference) {
                    return Some((reference, NetOp::Auth, r.approved));
                }
                let card = self.cards.get(&pan).copied().filter(|_| luhn_valid(pan));
                let approved = card.is_some() && !ctx.rng.chance(self.cfg.decline_pct as f64 / 100.0);
                let rec = Record {
                    card: card.unwrap_or(u32::MAX),
                    order,
                    amount,
                    approved,
                    captured: false,
                    refunded: false,
                };
                self.records.insert(reference, rec);
                Some((reference, NetOp::Auth, approved))
            }
            Msg::Capture { reference } => {
                let Some(r) = self.records.get_mut(&reference) else { return Some((reference, NetOp::Capture, false)) };
                if r.approved && !r.captured {
                    r.captured = true;
                    let (card, order, amount) = (r.card, r.order, r.amount as i64);
                    ctx.observe(Obs::Money { reference, card, order, amount });
                }
                let ok = r.captured;
                Some((reference, NetOp::Capture, ok))
            }
            Msg::NetRefund { reference } => {
                let Some(r) = self.records.get_mut(&reference) else { return Some((reference, NetOp::Refund, false)) };
                if r.captured && !r.refunded {
                    r.refunded = true;
                    let (card, order, amount) = (r.card, r.order, r.amount as i64);
                    ctx.observe(Obs::Money { reference, card, order, amount: -amount });
                }
                let ok = r.refunded;
                Some((reference, NetOp::Refund, ok))
            }
            _ => None,
        }
    }
}

impl Actor for Network {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some((reference, op, ok)) = self.process(&msg, ctx) else { return };
        ctx.metrics.add("network.requests", 1);
        let reply = Msg::NetReply { reference, op, ok };
        if ctx.rng.chance(self.cfg.lost_pct as f64 / 100.0) {
            self.replies_lost += 1;
            ctx.note(format!("{op:?} p{reference} done, reply lost"));
            return;
        }
        let delay_ms = if ctx.rng.chance(self.cfg.slow_pct as f64 / 100.0) {
            self.replies_slow += 1;
            ctx.rng.between(500, 2_000)
        } else {
            ctx.rng.between(5, 40)
        };
        let tag = self.next_tag;
        self.next_tag += 1;
        self.pending.insert(tag, (from, reply));
        ctx.set_timer(SimDuration::from_ms(delay_ms), tag);
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some((to, reply)) = self.pending.remove(&tag) {
            ctx.send(to, reply);
        }
    }

    /// Replies not yet sent are lost; the records are the network's books and survive.
    fn on_crash(&mut self) {
        self.pending.clear();
    }

    fn on_restart(&mut self, _ctx: &mut Ctx<'_, Msg, Obs>) {}

    fn describe(&self) -> String {
        let captured = self.records.values().filter(|r| r.captured && !r.refunded).count();
        format!("{} refs, {captured} captured", self.records.len())
    }
}
