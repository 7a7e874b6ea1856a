//! The three properties, each judged from the services' own database rows as they are
//! written (reported when a local transaction commits) against the order database's
//! committed orders — never from the bus, the outbox or the dedup table, which are the
//! machinery under test.
//!
//! - `events-exactly-once`: every committed order gets each downstream step exactly once
//!   in effect. A second inventory decision, charge decision, shipping decision, refund or
//!   release for one order fails at once (a duplicate); an effect for an order the order
//!   database never committed fails at once (a phantom). At the end, each step the saga
//!   path requires — the inventory decision always; the charge decision once stock was
//!   reserved; the shipping decision once charged; the refund once shipping failed; the
//!   release once the charge was declined or refunded — must exist (else an event was
//!   lost). Missing steps are judged only when the fault plan was quiet for `settle_ms`
//!   before the end, so work still in flight after a late fault is not called lost.
//! - `saga-consistent`: at the end (same quiet rule) each committed order is either fully
//!   done — stock held once, money taken once, shipped once, order marked done — or fully
//!   compensated — no stock held, no money kept, nothing shipped, order marked cancelled.
//!   Net amounts count rows, so a double charge with one refund is still money kept.
//! - `no-old-schema-crash`: no consumer fails to decode the body of an event it received.

use super::msg::{Effect, Obs, Svc};
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

const EFFECTS: usize = 10;

/// What the checks know about one order: committed or not, and its effect rows by kind.
#[derive(Clone, Default)]
struct Tally {
    committed: bool,
    rows: [u8; EFFECTS],
}

impl Tally {
    fn n(&self, e: Effect) -> u8 {
        self.rows[e as usize]
    }
}

/// The step an effect belongs to (a decision is one step whichever way it went).
fn step(e: Effect) -> (&'static str, &'static [Effect]) {
    use Effect::*;
    match e {
        Reserved | Rejected => ("inventory decision", &[Reserved, Rejected]),
        Released => ("stock release", &[Released]),
        Charged | Declined => ("payment decision", &[Charged, Declined]),
        Refunded => ("refund", &[Refunded]),
        Shipped | ShipFailed => ("shipping decision", &[Shipped, ShipFailed]),
        Done | Cancelled => ("order outcome", &[Done, Cancelled]),
    }
}

/// The record every check keeps: orders and their effect rows.
#[derive(Clone, Default)]
struct Ledger {
    orders: BTreeMap<u64, Tally>,
}

impl Ledger {
    /// Records an observation; returns the duplicate or phantom it reveals, if any.
    fn record(&mut self, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::OrderCommitted { order } => {
                self.orders.entry(order).or_default().committed = true;
                None
            }
            Obs::Applied { svc, order, effect } => {
                let t = self.orders.entry(order).or_default();
                t.rows[effect as usize] = t.rows[effect as usize].saturating_add(1);
                if !t.committed {
                    return Some(format!(
                        "{} wrote {effect:?} for order {order}, which was never committed",
                        svc.name()
                    ));
                }
                let (what, kinds) = step(effect);
                let n: u32 = kinds.iter().map(|&k| u32::from(t.n(k))).sum();
                (n > 1).then(|| {
                    let rows: Vec<String> =
                        kinds.iter().filter(|&&k| t.n(k) > 0).map(|&k| format!("{k:?}×{}", t.n(k))).collect();
                    format!("order {order}: {what} applied {n} times at {} ({})", svc.name(), rows.join(", "))
                })
            }
            Obs::ParseFailed { .. } => None,
        }
    }
}

fn quiet_enough(end: &RunEnd<'_>, judge_from: SimTime) -> bool {
    end.now >= judge_from
}

#[derive(Clone)]
pub struct ExactlyOnce {
    ledger: Ledger,
    judge_from: SimTime,
    effects: u64,
    judged: u64,
}

impl ExactlyOnce {
    /// `judge_from`: missing steps are judged only if the run ends at or after it.
    pub fn new(judge_from: SimTime) -> ExactlyOnce {
        ExactlyOnce { ledger: Ledger::default(), judge_from, effects: 0, judged: 0 }
    }
}

/// The first step the saga path of `t` requires but no service wrote.
fn missing_step(t: &Tally) -> Option<&'static str> {
    use Effect::*;
    let has = |e: Effect| t.n(e) > 0;
    if !has(Reserved) && !has(Rejected) {
        return Some("no inventory decision");
    }
    if has(Reserved) && !has(Charged) && !has(Declined) {
        return Some("stock reserved, but no payment decision");
    }
    if has(Charged) && !has(Shipped) && !has(ShipFailed) {
        return Some("charged, but no shipping decision");
    }
    if has(ShipFailed) && !has(Refunded) {
        return Some("shipping failed, but no refund");
    }
    if has(Reserved) && (has(Declined) || has(Refunded)) && !has(Released) {
        return Some("payment declined or refunded, but stock never released");
    }
    None
}

impl Property<Obs> for ExactlyOnce {
    fn name(&self) -> &'static str {
        "events-exactly-once"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        if matches!(obs, Obs::Applied { .. }) {
            self.effects += 1;
        }
        self.ledger.record(obs)
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        if !quiet_enough(end, self.judge_from) {
            return None;
        }
        let mut lost = Vec::new();
        for (order, t) in self.ledger.orders.iter().filter(|(_, t)| t.committed) {
            self.judged += 1;
            if let Some(why) = missing_step(t) {
                lost.push((order, why));
            }
        }
        let (order, why) = lost.first()?;
        Some(format!("{} committed orders lost a step; first: order {order}: {why}", lost.len()))
    }
    fn samples(&self) -> u64 {
        self.effects
    }
    fn summary(&self) -> String {
        format!("{} effect rows, {} committed orders judged at the end", self.effects, self.judged)
    }
}

#[derive(Clone)]
pub struct SagaConsistent {
    ledger: Ledger,
    judge_from: SimTime,
    judged: u64,
    done: u64,
    compensated: u64,
}

impl SagaConsistent {
    pub fn new(judge_from: SimTime) -> SagaConsistent {
        SagaConsistent { ledger: Ledger::default(), judge_from, judged: 0, done: 0, compensated: 0 }
    }
}

/// `Ok(true)` fully done, `Ok(false)` fully compensated, `Err` what is half-way.
fn settle(t: &Tally) -> Result<bool, String> {
    use Effect::*;
    let stock = i32::from(t.n(Reserved)) - i32::from(t.n(Released));
    let money = i32::from(t.n(Charged)) - i32::from(t.n(Refunded));
    let shipped = i32::from(t.n(Shipped));
    let (done, cancelled) = (t.n(Done), t.n(Cancelled));
    let state = format!(
        "stock held {stock}, charges kept {money}, shipped {shipped}, marked done {done} / cancelled {cancelled}"
    );
    match (stock, money, shipped, done, cancelled) {
        (1, 1, 1, 1, 0) => Ok(true),
        (0, 0, 0, 0, 1) => Ok(false),
        _ => Err(state),
    }
}

impl Property<Obs> for SagaConsistent {
    fn name(&self) -> &'static str {
        "saga-consistent"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        self.ledger.record(obs);
        None
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        if !quiet_enough(end, self.judge_from) {
            return None;
        }
        let mut bad = Vec::new();
        for (order, t) in self.ledger.orders.iter().filter(|(_, t)| t.committed) {
            self.judged += 1;
            match settle(t) {
                Ok(true) => self.done += 1,
                Ok(false) => self.compensated += 1,
                Err(state) => bad.push((order, state)),
            }
        }
        let (order, state) = bad.first()?;
        Some(format!("{} orders neither done nor compensated; first: order {order}: {state}", bad.len()))
    }
    fn samples(&self) -> u64 {
        self.judged
    }
    fn summary(&self) -> String {
        format!("{} orders: {} done, {} compensated", self.judged, self.done, self.compensated)
    }
}

#[derive(Clone, Default)]
pub struct NoParseFailure {
    decoded: u64,
}

impl Property<Obs> for NoParseFailure {
    fn name(&self) -> &'static str {
        "no-old-schema-crash"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Applied { .. } => {
                self.decoded += 1;
                None
            }
            Obs::ParseFailed { svc, event, reason } => {
                Some(format!("{} could not read {event}: {reason}", Svc::name(*svc)))
            }
            Obs::OrderCommitted { .. } => None,
        }
    }
    fn samples(&self) -> u64 {
        self.decoded
    }
    fn summary(&self) -> String {
        format!("{} events decoded and applied", self.decoded)
    }
}
