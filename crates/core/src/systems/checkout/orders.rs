//! A region's order service: the Idempotency-Key front door, the fraud rules, and the
//! order saga that drives the warehouse, the card network and the ledger.
//!
//! The saga (robust) is reserve → pay → confirm. Each step is retried until answered
//! (every participant is idempotent per order), except the charge, which is tried
//! `pay_attempts` times: after that the order gives up, and giving up is itself a step —
//! a refund of the reference, which voids a charge that never happened and returns one
//! whose reply was lost. Every failure after a step that changed something runs the
//! compensations of the steps before it, newest first: refund, then release the hold.
//!
//! The two naive designs are each one change away:
//! - **decrement-on-payment**: no reservation. A read ("in stock?") before paying, and an
//!   unconditional decrement after — the buyer has paid. Buyers racing for the last units
//!   all pass the read: oversold;
//! - **no-compensation**: the saga's forward steps, but a failure just marks the order
//!   failed where it stands: a declined card leaves its hold in place until the TTL, a
//!   charge whose replies were lost stays on the card, a confirm that found the hold
//!   expired keeps the money.
//!
//! Durable (a database): orders, keys, the ledger outbox. Volatile: the fraud rules'
//! velocity counts and the retry tick. After a crash the tick resends every step in flight.

use super::msg::{name, order_id, Account, Movement, Msg, Obs, OrderId, Reason};
use super::Strategy;
use crate::blocks::idempotency::{IdempotencyKeys, Lookup};
use crate::sim::node::{Actor, Ctx};
use crate::sim::rng::mix64;
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How often steps in flight are checked for a timeout.
pub const TICK_MS: u64 = 50;
/// How long a warehouse or ledger call waits for its answer before it is sent again.
pub const STEP_TIMEOUT_MS: u64 = 250;
/// Keys kept at most (the retention usually retires them first).
pub const MAX_KEYS: usize = 50_000;
/// Orders kept; beyond it the oldest ended ones move to cold storage.
pub const MAX_ORDERS: usize = 20_000;
/// How long a key is kept.
pub const KEY_TTL_MS: u64 = 60_000;
/// The velocity rule's window.
pub const VELOCITY_WINDOW_MS: u64 = 10_000;

#[derive(Clone, Debug)]
pub struct OrdersCfg {
    pub strategy: Strategy,
    pub region: u32,
    pub warehouse: NodeId,
    pub network: NodeId,
    pub ledger: NodeId,
    pub pay_timeout_ms: u64,
    pub pay_attempts: u32,
    pub amount_limit: u64,
    pub velocity_max: u64,
}

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Reserving,
    Checking,
    Paying,
    Confirming,
    Decrementing,
    /// Compensation of a charge whose outcome is unknown: refund (or void) the reference.
    Voiding,
    /// Compensation of a charge that went through.
    Refunding,
    /// Compensation of a hold.
    Releasing,
    Confirmed,
    Failed,
}

impl Stage {
    pub fn ended(self) -> bool {
        matches!(self, Stage::Confirmed | Stage::Failed)
    }

    pub fn compensating(self) -> bool {
        matches!(self, Stage::Voiding | Stage::Refunding | Stage::Releasing)
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::Reserving => "reserve",
            Stage::Checking => "in stock?",
            Stage::Paying => "pay",
            Stage::Confirming => "confirm",
            Stage::Decrementing => "decrement",
            Stage::Voiding => "void",
            Stage::Refunding => "refund",
            Stage::Releasing => "release",
            Stage::Confirmed => "confirmed",
            Stage::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Order {
    pub id: OrderId,
    buyer: NodeId,
    buyer_order: u64,
    pub sku: u32,
    pub qty: u32,
    card: u32,
    pub amount: u64,
    pub stage: Stage,
    pub reason: Option<Reason>,
    attempts: u32,
    sent_at_us: u64,
    /// The capture is in the ledger (so a refund must be too).
    captured: bool,
    /// Each stage entered, with the true time in ms (the saga timeline).
    pub steps: Vec<(f64, Stage)>,
}

/// A ledger entry not yet acknowledged: its postings, and when it was last sent (local µs).
type Unposted = (Vec<(Account, i64)>, u64);

#[derive(Clone, Debug)]
pub struct Orders {
    pub cfg: OrdersCfg,
    // Durable.
    pub orders: BTreeMap<OrderId, Order>,
    open: BTreeSet<OrderId>,
    keys: IdempotencyKeys<(NodeId, u64), OrderId>,
    outbox: BTreeMap<(OrderId, Movement), Unposted>,
    next: u64,
    // Volatile.
    velocity: BTreeMap<u32, VecDeque<u64>>,
    ticking: bool,
}

fn fingerprint(sku: u32, qty: u32, card: u32, amount: u64) -> u64 {
    mix64(u64::from(sku) ^ mix64((u64::from(qty) << 32) | u64::from(card)) ^ mix64(amount))
}

impl Orders {
    pub fn new(cfg: OrdersCfg) -> Orders {
        Orders {
            cfg,
            orders: BTreeMap::new(),
            open: BTreeSet::new(),
            keys: IdempotencyKeys::new(MAX_KEYS),
            outbox: BTreeMap::new(),
            next: 1,
            velocity: BTreeMap::new(),
            ticking: false,
        }
    }

    pub fn open(&self) -> usize {
        self.open.len()
    }

    fn arm(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.ticking && (!self.open.is_empty() || !self.outbox.is_empty()) {
            self.ticking = true;
            ctx.set_timer(SimDuration::from_ms(TICK_MS), 0);
        }
    }

    /// The fraud rules: a single order above the amount limit, or a card used more than
    /// `velocity_max` times in the window, is refused before anything is reserved.
    fn screen(&mut self, now_us: u64, card: u32, amount: u64) -> bool {
        if amount > self.cfg.amount_limit {
            return false;
        }
        let seen = self.velocity.entry(card).or_default();
        while seen.front().is_some_and(|&t| t + VELOCITY_WINDOW_MS * 1_000 <= now_us) {
            seen.pop_front();
        }
        seen.push_back(now_us);
        seen.len() as u64 <= self.cfg.velocity_max
    }

    /// Sends the request of the order's current stage.
    fn send_step(&mut self, id: OrderId, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(o) = self.orders.get_mut(&id) else { return };
        o.sent_at_us = ctx.local_time().micros();
        let (sku, qty) = (o.sku, o.qty);
        let (to, msg) = match o.stage {
            Stage::Reserving => (self.cfg.warehouse, Msg::Reserve { id, sku, qty }),
            Stage::Checking => (self.cfg.warehouse, Msg::Check { id, sku, qty }),
            Stage::Confirming => (self.cfg.warehouse, Msg::Confirm { id, sku, qty }),
            Stage::Decrementing => (self.cfg.warehouse, Msg::Decrement { id, sku, qty }),
            Stage::Releasing => (self.cfg.warehouse, Msg::Release { id, sku }),
            Stage::Paying => (self.cfg.network, Msg::Charge { id, card: o.card, amount: o.amount }),
            Stage::Voiding | Stage::Refunding => (self.cfg.network, Msg::Refund { id }),
            Stage::Confirmed | Stage::Failed => return,
        };
        ctx.send(to, msg);
    }

    /// Moves an order to `stage` and starts it (or ends the order).
    fn enter(&mut self, id: OrderId, stage: Stage, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(o) = self.orders.get_mut(&id) else { return };
        o.stage = stage;
        o.attempts = 0;
        o.steps.push((ctx.now().as_ms(), stage));
        if stage.ended() {
            let failed = if stage == Stage::Failed { Some(o.reason.unwrap_or(Reason::Declined)) } else { None };
            ctx.observe(Obs::Ended { id, failed });
            ctx.metrics.add(if failed.is_none() { "orders.confirmed" } else { "orders.failed" }, 1);
            ctx.send(o.buyer, Msg::Answer { order: o.buyer_order, id, failed });
            self.open.remove(&id);
        } else {
            self.open.insert(id);
            self.send_step(id, ctx);
        }
    }

    /// A step failed with `reason`: compensate what the earlier steps did (saga), or stop.
    fn fail(&mut self, id: OrderId, reason: Reason, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(o) = self.orders.get_mut(&id) else { return };
        o.reason = Some(reason);
        let (stage, captured) = (o.stage, o.captured);
        let next = match self.cfg.strategy {
            Strategy::NoCompensation => Stage::Failed,
            Strategy::Saga => match (stage, reason) {
                (Stage::Paying, Reason::PayTimeout) => Stage::Voiding,
                (Stage::Paying, _) => Stage::Releasing,
                (Stage::Confirming, _) if captured => Stage::Refunding,
                _ => Stage::Failed,
            },
            Strategy::DecrementOnPayment => match stage {
                Stage::Paying if reason == Reason::PayTimeout => Stage::Voiding,
                _ => Stage::Failed,
            },
        };
        self.enter(id, next, ctx);
    }

    fn post(&mut self, id: OrderId, movement: Movement, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(o) = self.orders.get(&id) else { return };
        let a = o.amount as i64;
        let sign = if movement == Movement::Capture { 1 } else { -1 };
        let postings = vec![(Account::Clearing, sign * a), (Account::Sales(self.cfg.region), -sign * a)];
        self.outbox.insert((id, movement), (postings.clone(), ctx.local_time().micros()));
        ctx.send(self.cfg.ledger, Msg::Post { id, movement, postings });
    }

    fn on_checkout(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::Checkout { order, key, sku, qty, card, amount } = msg else { return };
        let now_us = ctx.local_time().micros();
        let fp = fingerprint(sku, qty, card, amount);
        match self.keys.lookup(&(from, key), fp, now_us) {
            Lookup::Mismatch => return ctx.send(from, Msg::KeyReused { order }),
            Lookup::Known(id) => {
                ctx.metrics.add("orders.key_hits", 1);
                match self.orders.get(&id) {
                    Some(o) if o.stage.ended() => {
                        let failed = if o.stage == Stage::Failed { o.reason } else { None };
                        ctx.send(from, Msg::Answer { order, id, failed });
                    }
                    _ => ctx.send(from, Msg::Conflict { order }),
                }
                return;
            }
            Lookup::Fresh => {}
        }
        let id = order_id(self.cfg.region, self.next);
        self.next += 1;
        self.keys.bind((from, key), fp, id, now_us + KEY_TTL_MS * 1_000);
        let o = Order {
            id,
            buyer: from,
            buyer_order: order,
            sku,
            qty,
            card,
            amount,
            stage: Stage::Reserving,
            reason: None,
            attempts: 0,
            sent_at_us: now_us,
            captured: false,
            steps: Vec::new(),
        };
        self.orders.insert(id, o);
        ctx.observe(Obs::Placed { id, sku, qty, amount });
        self.prune();
        if !self.screen(now_us, card, amount) {
            ctx.metrics.add("orders.fraud_refusals", 1);
            if let Some(o) = self.orders.get_mut(&id) {
                o.reason = Some(Reason::Fraud);
            }
            self.enter(id, Stage::Failed, ctx);
            return;
        }
        let first = if self.cfg.strategy == Strategy::DecrementOnPayment { Stage::Checking } else { Stage::Reserving };
        self.enter(id, first, ctx);
    }

    fn prune(&mut self) {
        while self.orders.len() > MAX_ORDERS {
            let Some(id) = self.orders.values().find(|o| o.stage.ended()).map(|o| o.id) else { break };
            self.orders.remove(&id);
        }
    }

    fn on_stock(&mut self, id: OrderId, ok: bool, step: super::msg::StockStep, ctx: &mut Ctx<'_, Msg, Obs>) {
        use super::msg::StockStep as S;
        let Some(stage) = self.orders.get(&id).map(|o| o.stage) else { return };
        match (stage, step) {
            (Stage::Reserving, S::Reserve) | (Stage::Checking, S::Check) => {
                if ok {
                    self.enter(id, Stage::Paying, ctx);
                } else {
                    if let Some(o) = self.orders.get_mut(&id) {
                        o.reason = Some(Reason::OutOfStock);
                    }
                    self.enter(id, Stage::Failed, ctx);
                }
            }
            (Stage::Confirming, S::Confirm) => {
                if ok {
                    self.enter(id, Stage::Confirmed, ctx);
                } else {
                    self.fail(id, Reason::HoldExpired, ctx);
                }
            }
            (Stage::Decrementing, S::Decrement) => self.enter(id, Stage::Confirmed, ctx),
            (Stage::Releasing, S::Release) => self.enter(id, Stage::Failed, ctx),
            _ => ctx.metrics.add("orders.stale_replies", 1),
        }
    }

    fn on_paid(&mut self, id: OrderId, op: super::msg::PayOp, ok: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        use super::msg::PayOp;
        let Some(o) = self.orders.get(&id) else { return };
        let (stage, captured) = (o.stage, o.captured);
        match (stage, op) {
            (Stage::Paying, PayOp::Charge) if ok => {
                self.post(id, Movement::Capture, ctx);
                if let Some(o) = self.orders.get_mut(&id) {
                    o.captured = true;
                }
                let next = if self.cfg.strategy == Strategy::DecrementOnPayment {
                    Stage::Decrementing
                } else {
                    Stage::Confirming
                };
                self.enter(id, next, ctx);
            }
            (Stage::Paying, PayOp::Charge) => self.fail(id, Reason::Declined, ctx),
            (Stage::Voiding | Stage::Refunding, PayOp::Refund) => {
                if captured {
                    self.post(id, Movement::Refund, ctx);
                }
                let next = if self.cfg.strategy == Strategy::Saga { Stage::Releasing } else { Stage::Failed };
                self.enter(id, next, ctx);
            }
            _ => ctx.metrics.add("orders.stale_replies", 1),
        }
    }

    /// Resends every step (and ledger entry) unanswered past its timeout; a charge is
    /// tried `pay_attempts` times, then the order gives up on it.
    fn on_tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.local_time().micros();
        let ids: Vec<OrderId> = self.open.iter().copied().collect();
        for id in ids {
            let Some(o) = self.orders.get_mut(&id) else { continue };
            let pay = matches!(o.stage, Stage::Paying | Stage::Voiding | Stage::Refunding);
            let timeout = if pay { self.cfg.pay_timeout_ms } else { STEP_TIMEOUT_MS } * 1_000;
            if now < o.sent_at_us + timeout {
                continue;
            }
            o.attempts += 1;
            if o.stage == Stage::Paying {
                ctx.metrics.add("orders.pay_timeouts", 1);
                if o.attempts >= self.cfg.pay_attempts {
                    ctx.note(format!("{}: no answer to {} charges, giving up", name(id), o.attempts));
                    self.fail(id, Reason::PayTimeout, ctx);
                    continue;
                }
            }
            self.send_step(id, ctx);
        }
        let due: Vec<(OrderId, Movement)> =
            self.outbox.iter().filter(|(_, (_, at))| now >= at + STEP_TIMEOUT_MS * 1_000).map(|(&k, _)| k).collect();
        for (id, movement) in due {
            if let Some((postings, at)) = self.outbox.get_mut(&(id, movement)) {
                *at = now;
                ctx.send(self.cfg.ledger, Msg::Post { id, movement, postings: postings.clone() });
            }
        }
    }
}

impl Actor for Orders {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.arm(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Checkout { .. } => self.on_checkout(from, msg, ctx),
            Msg::Stock { id, step, ok } => self.on_stock(id, ok, step, ctx),
            Msg::Paid { id, op, ok } => self.on_paid(id, op, ok, ctx),
            Msg::PostAck { id, movement } => {
                self.outbox.remove(&(id, movement));
            }
            _ => {}
        }
        self.arm(ctx);
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.ticking = false;
        self.on_tick(ctx);
        self.arm(ctx);
    }

    fn on_crash(&mut self) {
        self.ticking = false;
        self.velocity.clear();
    }

    fn describe(&self) -> String {
        format!("{} orders, {} open, {} unposted", self.orders.len(), self.open.len(), self.outbox.len())
    }
}
