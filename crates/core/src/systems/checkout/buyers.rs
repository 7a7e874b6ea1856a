//! A region's buyers in a flash sale: many of them, arriving as an open Poisson stream,
//! mostly after the same few SKUs (Zipf). Each checkout gets a random Idempotency-Key when
//! the buyer presses "buy", and every retry (the page timed out, the answer was a 409)
//! carries it, so the order service sees one order however often the button is pressed.

use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::workload::{KeySampler, WorkloadSpec};
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Retries per checkout before the buyer gives up asking (the order still ends).
pub const MAX_ATTEMPTS: u32 = 12;
/// How long a buyer's page waits for an answer before retrying.
pub const TIMEOUT_MS: u64 = 1_500;

const ARRIVAL: u64 = 0;
const TIMEOUT: u64 = 1;

/// A SKU's unit price in cents (fixed per SKU).
pub fn price(sku: u32) -> u64 {
    500 + (crate::sim::rng::mix64(u64::from(sku) + 1) % 40) * 250
}

#[derive(Clone, Debug)]
pub struct BuyersCfg {
    pub orders: NodeId,
    pub regions: u32,
    pub cards: u32,
    pub workload: WorkloadSpec,
}

/// One checkout a buyer is waiting on.
#[derive(Clone, Debug)]
pub struct Pending {
    pub key: u64,
    pub sku: u32,
    pub qty: u32,
    pub card: u32,
    pub amount: u64,
    pub attempt: u32,
}

#[derive(Clone, Debug)]
pub struct Buyers {
    cfg: BuyersCfg,
    skus: KeySampler,
    pub waiting: BTreeMap<u64, Pending>,
    next: u64,
    pub confirmed: u64,
    pub failed: u64,
}

impl Buyers {
    pub fn new(cfg: BuyersCfg) -> Buyers {
        let skus = cfg.workload.key_sampler();
        Buyers { cfg, skus, waiting: BTreeMap::new(), next: 1, confirmed: 0, failed: 0 }
    }

    fn schedule(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(at) = self.cfg.workload.next_arrival(ctx.now(), self.cfg.regions, ctx.rng) {
            ctx.set_timer(at.since(ctx.now()), ARRIVAL);
        }
    }

    fn send(&mut self, n: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.waiting.get(&n) else { return };
        let msg = Msg::Checkout { order: n, key: p.key, sku: p.sku, qty: p.qty, card: p.card, amount: p.amount };
        ctx.send(self.cfg.orders, msg);
        ctx.set_timer(SimDuration::from_ms(TIMEOUT_MS), (n << 8) | (u64::from(p.attempt & 0x7f) << 1) | TIMEOUT);
    }
}

impl Actor for Buyers {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.schedule(ctx);
        let open: Vec<u64> = self.waiting.keys().copied().collect();
        for n in open {
            self.send(n, ctx);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, _ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Answer { order, failed, .. } if self.waiting.remove(&order).is_some() => {
                if failed.is_none() {
                    self.confirmed += 1;
                } else {
                    self.failed += 1;
                }
            }
            // In flight (409): the page keeps waiting and asks again at its timeout.
            Msg::Conflict { .. } => {}
            Msg::KeyReused { order } => {
                self.waiting.remove(&order);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == ARRIVAL {
            let n = self.next;
            self.next += 1;
            let sku = self.skus.sample(ctx.rng) as u32;
            let qty = 1 + ctx.rng.below(3) as u32;
            let card = ctx.rng.below(u64::from(self.cfg.cards)) as u32;
            let key = ctx.rng.next_u64();
            self.waiting.insert(n, Pending { key, sku, qty, card, amount: price(sku) * u64::from(qty), attempt: 0 });
            self.send(n, ctx);
            self.schedule(ctx);
            return;
        }
        let (n, attempt) = (tag >> 8, ((tag >> 1) & 0x7f) as u32);
        let Some(p) = self.waiting.get_mut(&n) else { return };
        if p.attempt != attempt {
            return;
        }
        if p.attempt + 1 >= MAX_ATTEMPTS {
            self.waiting.remove(&n);
            return;
        }
        p.attempt += 1;
        ctx.metrics.add("buyers.retries", 1);
        self.send(n, ctx);
    }

    fn describe(&self) -> String {
        format!("{} waiting, {} confirmed, {} failed", self.waiting.len(), self.confirmed, self.failed)
    }
}
