//! A merchant's checkout backend: it turns its customers' orders into payment requests,
//! retries a request that times out (capped exponential backoff, full jitter), and later
//! refunds some captured orders. Its orders are in its own database (durable): after a
//! crash it resumes every open order.
//!
//! With idempotency keys, an order gets a random key when it is created and every retry
//! carries it. Without (the naive strategy), a retry is just the same request again — and
//! to the gateway, a new payment. When a payment *fails for a technical reason* (the naive
//! `timeout-fails` gateway), the customer presses "pay" again: a new request with a new key
//! for the same order, which is correct only if the failure really moved no money.

use super::msg::{Msg, Obs, OrderRef, PaymentId};
use super::payment::State;
use super::vault::COUNTRIES;
use crate::blocks::backoff::Backoff;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Tries per payment request before the merchant stops asking (its order stays open
/// in its books; the gateway finishes the payment regardless).
pub const MAX_ATTEMPTS: u32 = 16;
/// "Pay again" presses per order after a technical failure.
pub const MAX_REPAYS: u32 = 2;

const ARRIVAL: u64 = 1;
const TIMEOUT: u64 = 2;
const RETRY: u64 = 3;
const REFUND: u64 = 4;
const REFUND_TIMEOUT: u64 = 5;
const REFUND_RETRY: u64 = 6;

fn tag(kind: u64, order: u64, attempt: u32) -> u64 {
    (order << 16) | (u64::from(attempt & 0x1fff) << 3) | kind
}

#[derive(Clone, Debug)]
pub struct MerchantCfg {
    pub index: u32,
    pub merchants: u32,
    pub gateway: NodeId,
    pub use_keys: bool,
    pub timeout_ms: u64,
    /// The customers' saved cards, as vault tokens, and each card's country.
    pub tokens: Vec<u64>,
    pub countries: Vec<u8>,
    pub foreign_pct: u64,
    pub refund_pct: u64,
    /// Payments per second across all merchants (already capped).
    pub workload: WorkloadSpec,
}

/// Where a refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundState {
    None,
    Wanted { attempt: u32 },
}

/// One open order.
#[derive(Clone, Debug)]
pub struct Order {
    pub key: Option<u64>,
    pub token: u64,
    pub amount: u64,
    pub country: u8,
    pub attempt: u32,
    pub repays: u32,
    pub paid: Option<PaymentId>,
    pub started: SimTime,
    pub refund: RefundState,
}

#[derive(Clone, Debug)]
pub struct Merchant {
    pub cfg: MerchantCfg,
    backoff: Backoff,
    /// Durable: open orders (settled ones leave the table).
    pub orders: BTreeMap<u64, Order>,
    next_order: u64,
    pub settled: u64,
    pub late_answers: u64,
}

impl Merchant {
    pub fn new(cfg: MerchantCfg) -> Merchant {
        Merchant {
            cfg,
            backoff: Backoff::from_ms(100, 2_000),
            orders: BTreeMap::new(),
            next_order: 1,
            settled: 0,
            late_answers: 0,
        }
    }

    fn order_ref(&self, order: u64) -> OrderRef {
        OrderRef { merchant: self.cfg.index, order }
    }

    fn schedule_arrival(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let w = &self.cfg.workload;
        if let Some(at) = w.next_arrival(ctx.now(), self.cfg.merchants, ctx.rng) {
            ctx.set_timer(at.since(ctx.now()), tag(ARRIVAL, 0, 0));
        }
    }

    fn new_order(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let id = self.next_order;
        self.next_order += 1;
        let card = ctx.rng.below(self.cfg.tokens.len() as u64) as usize;
        // Amounts: $1 plus an exponential tail with a $60 mean, at most $2,000.
        let amount = (100 + ctx.rng.exponential(6_000.0) as u64).min(200_000);
        let home = self.cfg.countries[card];
        let country = if ctx.rng.chance(self.cfg.foreign_pct as f64 / 100.0) {
            (home + 1 + ctx.rng.below(COUNTRIES.len() as u64 - 1) as u8) % COUNTRIES.len() as u8
        } else {
            home
        };
        let key = self.cfg.use_keys.then(|| ctx.rng.next_u64());
        let o = Order {
            key,
            token: self.cfg.tokens[card],
            amount,
            country,
            attempt: 0,
            repays: 0,
            paid: None,
            started: ctx.now(),
            refund: RefundState::None,
        };
        self.orders.insert(id, o);
        self.send_pay(id, ctx);
    }

    fn send_pay(&mut self, id: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let order = self.order_ref(id);
        let Some(o) = self.orders.get(&id) else { return };
        let msg =
            Msg::Pay { order, key: o.key, token: o.token, amount: o.amount, country: o.country, attempt: o.attempt };
        ctx.send(self.cfg.gateway, msg);
        ctx.set_timer(SimDuration::from_ms(self.cfg.timeout_ms), tag(TIMEOUT, id, o.attempt));
    }

    /// The current attempt failed to get an answer: try again after a backoff, or stop.
    fn retry_later(&mut self, id: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(o) = self.orders.get_mut(&id) else { return };
        if o.attempt + 1 >= MAX_ATTEMPTS {
            ctx.metrics.add("merchant.gave_up", 1);
            self.orders.remove(&id);
            return;
        }
        let wait = self.backoff.full_jitter(o.attempt, ctx.rng);
        o.attempt += 1;
        ctx.metrics.add("merchant.retries", 1);
        ctx.set_timer(wait, tag(RETRY, id, o.attempt));
    }

    fn settle(&mut self, id: u64, ok: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(o) = self.orders.remove(&id) {
            self.settled += 1;
            ctx.metrics.request(ctx.now(), ctx.now().since(o.started), ok);
        }
    }

    fn on_result(&mut self, id: u64, payment: PaymentId, state: State, retryable: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(o) = self.orders.get_mut(&id) else {
            // An answer for an order already settled: without keys, a second payment.
            self.late_answers += 1;
            if state == State::Captured {
                ctx.metrics.add("merchant.extra_captures", 1);
                ctx.note(format!("m{}/o{id}: p{payment} captured for an order already settled", self.cfg.index));
            }
            return;
        };
        if let RefundState::Wanted { .. } = o.refund {
            if state == State::Refunded || state == State::Failed {
                self.orders.remove(&id);
            }
            return;
        }
        if o.paid.is_some() {
            return;
        }
        match state {
            State::Captured => {
                o.paid = Some(payment);
                let started = o.started;
                ctx.metrics.request(ctx.now(), ctx.now().since(started), true);
                self.settled += 1;
                let window = SimTime::from_ms(self.cfg.workload.duration_ms);
                if ctx.now() < window && ctx.rng.chance(self.cfg.refund_pct as f64 / 100.0) {
                    o.refund = RefundState::Wanted { attempt: 0 };
                    let after = ctx.rng.between(200, 1_500);
                    ctx.set_timer(SimDuration::from_ms(after), tag(REFUND, id, 0));
                } else {
                    self.orders.remove(&id);
                }
            }
            State::Failed if retryable && o.repays < MAX_REPAYS => {
                // The customer presses "pay" again: a new request (and a new key).
                o.repays += 1;
                o.attempt += 1;
                o.key = self.cfg.use_keys.then(|| ctx.rng.next_u64());
                ctx.metrics.add("merchant.repays", 1);
                self.send_pay(id, ctx);
            }
            State::Failed => self.settle(id, false, ctx),
            _ => {}
        }
    }

    fn send_refund(&mut self, id: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let order = self.order_ref(id);
        let Some(o) = self.orders.get(&id) else { return };
        let (Some(payment), RefundState::Wanted { attempt }) = (o.paid, o.refund) else { return };
        ctx.send(self.cfg.gateway, Msg::Refund { order, payment });
        ctx.set_timer(SimDuration::from_ms(self.cfg.timeout_ms), tag(REFUND_TIMEOUT, id, attempt));
    }
}

impl Actor for Merchant {
    type Msg = Msg;
    type Obs = Obs;

    /// Starts the order stream; after a crash, also picks up every open order.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let open: Vec<u64> = self.orders.keys().copied().collect();
        for id in open {
            let Some(o) = self.orders.get_mut(&id) else { continue };
            match (o.paid, o.refund) {
                (None, _) => {
                    o.attempt += 1;
                    self.send_pay(id, ctx);
                }
                (Some(_), RefundState::Wanted { .. }) => self.send_refund(id, ctx),
                _ => {}
            }
        }
        self.schedule_arrival(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Result { order, payment, state, reason } => {
                let retryable = reason.is_some_and(|r| r.retryable());
                self.on_result(order.order, payment, state, retryable, ctx);
            }
            Msg::InProgress { order, attempt }
                if self.orders.get(&order.order).is_some_and(|o| o.paid.is_none() && o.attempt == attempt) =>
            {
                self.retry_later(order.order, ctx)
            }
            Msg::KeyReused { order } => {
                ctx.note(format!("{order}: key reused with another request"));
                self.settle(order.order, false, ctx);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, t: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let (kind, id, attempt) = (t & 7, t >> 16, ((t >> 3) & 0x1fff) as u32);
        let current = self.orders.get(&id).map(|o| (o.attempt, o.paid.is_some(), o.refund));
        match (kind, current) {
            (ARRIVAL, _) => {
                self.new_order(ctx);
                self.schedule_arrival(ctx);
            }
            (TIMEOUT, Some((a, false, _))) if a == attempt => self.retry_later(id, ctx),
            (RETRY, Some((a, false, _))) if a == attempt => self.send_pay(id, ctx),
            (REFUND, Some((_, true, RefundState::Wanted { .. }))) => self.send_refund(id, ctx),
            (REFUND_TIMEOUT, Some((_, true, RefundState::Wanted { attempt: r }))) if r == attempt => {
                if r + 1 >= MAX_ATTEMPTS {
                    ctx.metrics.add("merchant.gave_up", 1);
                    self.orders.remove(&id);
                    return;
                }
                let wait = self.backoff.full_jitter(r, ctx.rng);
                if let Some(o) = self.orders.get_mut(&id) {
                    o.refund = RefundState::Wanted { attempt: r + 1 };
                }
                ctx.set_timer(wait, tag(REFUND_RETRY, id, r + 1));
            }
            (REFUND_RETRY, Some((_, true, RefundState::Wanted { attempt: r }))) if r == attempt => {
                self.send_refund(id, ctx)
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} settled, {} open", self.settled, self.orders.len())
    }
}
