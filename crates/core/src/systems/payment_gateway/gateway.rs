//! The payment gateway: the merchants' API, the payment state machine, the fraud rules,
//! the card vault, and the two outgoing conversations — with the card network (one call
//! at a time per payment, retried) and with the ledger (through a durable outbox).
//!
//! What the four designs change here:
//! - **idempotency keys** (all but `retry-no-key`): the key, bound to a fingerprint of the
//!   request, is stored with the payment in the same write that creates it and kept for
//!   `key_ttl_ms`. A retry finds it and gets the payment's outcome (or "in progress"),
//!   never a second payment. Without a key every retry is a new payment;
//! - **network timeouts**: the robust gateway retries the same operation under the same
//!   reference, with capped exponential backoff and full jitter, until the network answers
//!   — a timeout means "unknown", not "no". `timeout-fails` marks the payment failed
//!   instead, though the charge may have gone through;
//! - **ledger writes**: double entry (one balanced journal entry per movement, named, so
//!   a retry or replay is harmless) or single entry (three separate balance increments).
//!
//! Durable (survives a crash): payments, keys, the ledger outbox, the audit log. Volatile:
//! attempt counters and the fraud rules' velocity counts. On restart every payment with a
//! network call outstanding and every unacknowledged ledger write is sent again.

use super::fraud::Rules;
use super::msg::{Account, LedgerWrite, Movement, Msg, NetOp, Obs, OrderRef, PaymentId};
use super::payment::{fee, Reason, State};
use super::vault::Vault;
use super::Strategy;
use crate::blocks::backoff::Backoff;
use crate::blocks::idempotency::{IdempotencyKeys, Lookup};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// Payments kept; beyond it the oldest settled ones move out (to cold storage).
pub const MAX_PAYMENTS: usize = 60_000;
/// Idempotency keys kept at most (the TTL usually retires them first).
pub const MAX_KEYS: usize = 100_000;
/// Audit lines kept for the view (the count of all is kept too).
const AUDIT_LINES: usize = 60;
/// How long the gateway waits for a ledger acknowledgement.
pub const LEDGER_TIMEOUT_MS: u64 = 200;

const NET_TIMEOUT: u64 = 1;
const NET_RETRY: u64 = 2;
const LEDGER_TIMEOUT: u64 = 3;
const LEDGER_RETRY: u64 = 4;

fn tag(kind: u64, id: u64, attempt: u32) -> u64 {
    (id << 16) | (u64::from(attempt & 0x1fff) << 3) | kind
}

fn untag(t: u64) -> (u64, u64, u32) {
    (t & 7, t >> 16, ((t >> 3) & 0x1fff) as u32)
}

#[derive(Clone, Debug)]
pub struct GatewayCfg {
    pub strategy: Strategy,
    pub network: NodeId,
    pub ledger: NodeId,
    pub net_timeout_ms: u64,
    pub key_ttl_ms: u64,
    pub fee_bps: u64,
    pub amount_limit: u64,
    pub velocity_max: u64,
}

/// One payment, as the payments table holds it.
#[derive(Clone, Debug)]
pub struct Payment {
    pub id: PaymentId,
    pub order: OrderRef,
    pub key: Option<u64>,
    pub card: u32,
    pub amount: u64,
    pub state: State,
    pub reason: Option<Reason>,
    /// The network call outstanding, if any.
    pub pending: Option<NetOp>,
    pub created_ms: f64,
}

#[derive(Clone, Debug)]
pub struct Gateway {
    pub cfg: GatewayCfg,
    vault: Vault,
    rules: Rules,
    net_backoff: Backoff,
    ledger_backoff: Backoff,
    // Durable.
    pub payments: BTreeMap<PaymentId, Payment>,
    keys: IdempotencyKeys<(u32, u64), PaymentId>,
    pub outbox: BTreeMap<u64, LedgerWrite>,
    next_payment: PaymentId,
    next_write: u64,
    pub audit: VecDeque<(f64, String)>,
    pub audit_total: u64,
    // Volatile: the current attempt of each outstanding call.
    net_attempt: BTreeMap<PaymentId, u32>,
    ledger_attempt: BTreeMap<u64, u32>,
}

/// A request's fingerprint: a key reused with different contents is refused (HTTP 422).
fn fingerprint(token: u64, amount: u64, country: u8) -> u64 {
    crate::sim::rng::mix64(token ^ crate::sim::rng::mix64(amount ^ (u64::from(country) << 56)))
}

impl Gateway {
    pub fn new(cfg: GatewayCfg, vault: Vault) -> Gateway {
        let rules = Rules::new(cfg.amount_limit, cfg.velocity_max);
        Gateway {
            cfg,
            vault,
            rules,
            net_backoff: Backoff::from_ms(50, 1_000),
            ledger_backoff: Backoff::from_ms(50, 1_000),
            payments: BTreeMap::new(),
            keys: IdempotencyKeys::new(MAX_KEYS),
            outbox: BTreeMap::new(),
            next_payment: 1,
            next_write: 1,
            audit: VecDeque::new(),
            audit_total: 0,
            net_attempt: BTreeMap::new(),
            ledger_attempt: BTreeMap::new(),
        }
    }

    /// Ledger writes created so far (each may be sent several times).
    pub fn writes_issued(&self) -> u64 {
        self.next_write - 1
    }

    fn audit(&mut self, ctx: &Ctx<'_, Msg, Obs>, text: String) {
        self.audit_total += 1;
        self.audit.push_back((ctx.now().as_ms(), text));
        if self.audit.len() > AUDIT_LINES {
            self.audit.pop_front();
        }
    }

    fn reply(&self, p: &Payment, ctx: &mut Ctx<'_, Msg, Obs>) {
        let msg = Msg::Result { order: p.order, payment: p.id, state: p.state, reason: p.reason };
        ctx.send(p.order.merchant, msg);
    }

    /// Moves payment `id` to `to` if the state machine allows it.
    fn transition(&mut self, id: PaymentId, to: State, ctx: &mut Ctx<'_, Msg, Obs>) -> bool {
        let Some(p) = self.payments.get_mut(&id) else { return false };
        let from = p.state;
        if !from.allows(to) {
            ctx.note(format!("p{id}: refused {} → {}", from.name(), to.name()));
            return false;
        }
        p.state = to;
        ctx.observe(Obs::Transition { payment: id, from, to });
        self.audit(ctx, format!("p{id} {} → {}", from.name(), to.name()));
        true
    }

    fn fail(&mut self, id: PaymentId, reason: Reason, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.transition(id, State::Failed, ctx) {
            if let Some(p) = self.payments.get_mut(&id) {
                p.reason = Some(reason);
                p.pending = None;
            }
            self.net_attempt.remove(&id);
            self.audit(ctx, format!("p{id} failed: {}", reason.name()));
            if let Some(p) = self.payments.get(&id) {
                self.reply(p, ctx);
            }
        }
    }

    /// Sends payment `id`'s outstanding network call (the next attempt) and arms its timeout.
    fn call_network(&mut self, id: PaymentId, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.payments.get(&id) else { return };
        let Some(op) = p.pending else { return };
        let msg = match op {
            NetOp::Auth => {
                let pan = self.vault.cards.get(p.card as usize).map_or(0, |c| c.pan);
                Msg::Auth { reference: id, pan, amount: p.amount, order: p.order }
            }
            NetOp::Capture => Msg::Capture { reference: id },
            NetOp::Refund => Msg::NetRefund { reference: id },
        };
        let attempt = self.net_attempt.get(&id).map_or(0, |a| a + 1);
        self.net_attempt.insert(id, attempt);
        if attempt > 0 {
            ctx.metrics.add("gateway.network_retries", 1);
        }
        ctx.send(self.cfg.network, msg);
        ctx.set_timer(SimDuration::from_ms(self.cfg.net_timeout_ms), tag(NET_TIMEOUT, id, attempt));
    }

    fn start_call(&mut self, id: PaymentId, op: NetOp, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(p) = self.payments.get_mut(&id) {
            p.pending = Some(op);
        }
        self.net_attempt.remove(&id);
        self.call_network(id, ctx);
    }

    /// Queues the ledger writes for one money movement in the outbox and sends them.
    fn post(&mut self, id: PaymentId, movement: Movement, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.payments.get(&id) else { return };
        let (amount, f) = (p.amount as i64, fee(p.amount, self.cfg.fee_bps) as i64);
        let sign = if movement == Movement::Capture { 1 } else { -1 };
        let postings = vec![
            (Account::Clearing, sign * amount),
            (Account::Merchant(p.order.merchant), -sign * (amount - f)),
            (Account::Fees, -sign * f),
        ];
        let writes: Vec<LedgerWrite> = if self.cfg.strategy.double_entry() {
            vec![LedgerWrite::Post { payment: id, movement, postings }]
        } else {
            postings.into_iter().map(|(account, delta)| LedgerWrite::Adjust { account, delta }).collect()
        };
        for body in writes {
            let w = self.next_write;
            self.next_write += 1;
            self.outbox.insert(w, body);
            self.send_write(w, ctx);
        }
    }

    fn send_write(&mut self, w: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(body) = self.outbox.get(&w) else { return };
        let attempt = self.ledger_attempt.get(&w).map_or(0, |a| a + 1);
        self.ledger_attempt.insert(w, attempt);
        if attempt > 0 {
            ctx.metrics.add("gateway.ledger_retries", 1);
        }
        ctx.send(self.cfg.ledger, Msg::Ledger { write: w, body: body.clone() });
        ctx.set_timer(SimDuration::from_ms(LEDGER_TIMEOUT_MS), tag(LEDGER_TIMEOUT, w, attempt));
    }

    /// Keeps the payments table bounded: the oldest settled payments move out first.
    fn prune(&mut self) {
        while self.payments.len() > MAX_PAYMENTS {
            let Some(&id) =
                self.payments.iter().find(|(_, p)| p.state.terminal() && p.pending.is_none()).map(|(id, _)| id)
            else {
                break;
            };
            self.payments.remove(&id);
        }
    }

    /// A `Msg::Pay`: answer a retry from its key, or create, screen and start a payment.
    fn on_pay(&mut self, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::Pay { order, key, token, amount, country, attempt } = msg else { return };
        let now_us = ctx.local_time().micros();
        let fp = fingerprint(token, amount, country);
        if let Some(k) = key {
            match self.keys.lookup(&(order.merchant, k), fp, now_us) {
                Lookup::Fresh => {}
                Lookup::Mismatch => {
                    ctx.metrics.add("gateway.key_hits", 1);
                    ctx.send(order.merchant, Msg::KeyReused { order });
                    return;
                }
                Lookup::Known(payment) => {
                    ctx.metrics.add("gateway.key_hits", 1);
                    match self.payments.get(&payment) {
                        None => ctx.send(
                            order.merchant,
                            Msg::Result { order, payment, state: State::Failed, reason: Some(Reason::Expired) },
                        ),
                        Some(p) if p.state.terminal() => self.reply(p, ctx),
                        Some(_) => ctx.send(order.merchant, Msg::InProgress { order, attempt }),
                    }
                    return;
                }
            }
        }
        let id = self.next_payment;
        self.next_payment += 1;
        let found = self.vault.detokenize(token);
        let card = found.map_or(u32::MAX, |(i, _)| i);
        let p = Payment {
            id,
            order,
            key,
            card,
            amount,
            state: State::Created,
            reason: None,
            pending: None,
            created_ms: ctx.now().as_ms(),
        };
        self.payments.insert(id, p);
        if let Some(k) = key {
            let expires = now_us + self.cfg.key_ttl_ms * 1_000;
            self.keys.bind((order.merchant, k), fp, id, expires);
        }
        ctx.observe(Obs::Created { payment: id, order, card, amount });
        let masked = found.map_or("?".to_string(), |(_, c)| c.masked());
        let key_text = key.map_or("no key".to_string(), |k| format!("key {:04x}", k & 0xffff));
        self.audit(ctx, format!("p{id} created: {order} {masked} {amount}¢ ({key_text})"));
        self.prune();
        let Some((card, c)) = found else {
            self.fail(id, Reason::UnknownToken, ctx);
            return;
        };
        if let Some(rule) = self.rules.screen(now_us, card, c.country, country, amount) {
            ctx.metrics.add("gateway.fraud_declines", 1);
            self.fail(id, rule, ctx);
            return;
        }
        self.start_call(id, NetOp::Auth, ctx);
    }

    fn on_refund(&mut self, order: OrderRef, id: PaymentId, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.payments.get(&id) else {
            let msg = Msg::Result { order, payment: id, state: State::Failed, reason: Some(Reason::Expired) };
            ctx.send(order.merchant, msg);
            return;
        };
        match (p.state, p.pending) {
            // In progress: the answer comes when the network replies.
            (State::Captured, Some(NetOp::Refund)) => {}
            (State::Captured, None) => {
                self.audit(ctx, format!("p{id} refund requested"));
                self.start_call(id, NetOp::Refund, ctx);
            }
            _ => self.reply(p, ctx),
        }
    }

    fn on_net_reply(&mut self, id: PaymentId, op: NetOp, ok: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.payments.get(&id) else { return };
        if p.pending != Some(op) {
            ctx.metrics.add("gateway.late_replies", 1);
            if p.state == State::Failed && ok && op != NetOp::Auth {
                ctx.note(format!("p{id}: the network says {op:?} succeeded, but the payment already failed"));
            }
            return;
        }
        self.net_attempt.remove(&id);
        if let Some(p) = self.payments.get_mut(&id) {
            p.pending = None;
        }
        match (op, ok) {
            (NetOp::Auth, true) => {
                self.transition(id, State::Authorized, ctx);
                self.start_call(id, NetOp::Capture, ctx);
            }
            (NetOp::Auth, false) | (NetOp::Capture, false) => self.fail(id, Reason::IssuerDeclined, ctx),
            (NetOp::Capture, true) => {
                // State and outbox change in one durable step: a crash cannot separate them.
                self.transition(id, State::Captured, ctx);
                self.post(id, Movement::Capture, ctx);
                if let Some(p) = self.payments.get(&id) {
                    self.reply(p, ctx);
                }
            }
            (NetOp::Refund, ok) => {
                if ok {
                    self.transition(id, State::Refunded, ctx);
                    self.post(id, Movement::Refund, ctx);
                }
                if let Some(p) = self.payments.get(&id) {
                    self.reply(p, ctx);
                }
            }
        }
    }

    fn on_net_timeout(&mut self, id: PaymentId, attempt: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(op) = self.payments.get(&id).and_then(|p| p.pending) else { return };
        if self.net_attempt.get(&id) != Some(&attempt) {
            return;
        }
        ctx.metrics.add("gateway.network_timeouts", 1);
        if self.cfg.strategy == Strategy::TimeoutFails && op != NetOp::Refund {
            // The naive reading of a timeout: "it did not work". The charge may have.
            self.fail(id, Reason::Timeout, ctx);
            return;
        }
        let wait = self.net_backoff.full_jitter(attempt, ctx.rng);
        ctx.set_timer(wait, tag(NET_RETRY, id, attempt));
    }
}

impl Actor for Gateway {
    type Msg = Msg;
    type Obs = Obs;

    /// A fresh start does nothing; a restart resumes every outstanding call and write.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let open: Vec<PaymentId> = self.payments.values().filter(|p| p.pending.is_some()).map(|p| p.id).collect();
        for id in open {
            self.call_network(id, ctx);
        }
        let writes: Vec<u64> = self.outbox.keys().copied().collect();
        if !writes.is_empty() {
            ctx.note(format!("recovery: resending {} ledger writes", writes.len()));
        }
        for w in writes {
            self.send_write(w, ctx);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Pay { .. } => self.on_pay(msg, ctx),
            Msg::Refund { order, payment } => self.on_refund(order, payment, ctx),
            Msg::NetReply { reference, op, ok } => self.on_net_reply(reference, op, ok, ctx),
            Msg::LedgerAck { write } => {
                self.outbox.remove(&write);
                self.ledger_attempt.remove(&write);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, t: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let (kind, id, attempt) = untag(t);
        match kind {
            NET_TIMEOUT => self.on_net_timeout(id, attempt, ctx),
            NET_RETRY if self.net_attempt.get(&id) == Some(&attempt) => self.call_network(id, ctx),
            LEDGER_TIMEOUT if self.outbox.contains_key(&id) && self.ledger_attempt.get(&id) == Some(&attempt) => {
                let wait = self.ledger_backoff.full_jitter(attempt, ctx.rng);
                ctx.set_timer(wait, tag(LEDGER_RETRY, id, attempt));
            }
            LEDGER_RETRY if self.ledger_attempt.get(&id) == Some(&attempt) => self.send_write(id, ctx),
            // A stale timer: its call was answered, or a newer attempt is out.
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.net_attempt.clear();
        self.ledger_attempt.clear();
        self.rules.reset();
    }

    fn describe(&self) -> String {
        let open = self.payments.values().filter(|p| !p.state.terminal() || p.pending.is_some()).count();
        format!("{} payments, {open} open, {} unposted", self.payments.len(), self.outbox.len())
    }
}
