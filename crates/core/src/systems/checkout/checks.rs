//! The three properties, each judged against a record the order service cannot edit.
//!
//! - `never-oversell`: per (region, SKU), the units the warehouse reports shipping never
//!   exceed the physical stock the scenario put on its shelves (known before the run
//!   starts, from the parameters). Judged at every shipment.
//! - `money-conserved`: every entry the ledger applies sums to zero (judged at every
//!   entry), and at the end of a quiet run the clearing account equals the money the card
//!   network reports moving, so no charge is missing from the books and none is invented.
//! - `order-settled`: from the full history of every order — the order service's
//!   acceptance and verdict, the warehouse's holds, releases, expiries and shipments, the
//!   network's charges and refunds — each order accepted long enough before the end (and
//!   after the last fault) has ended, and ended whole: confirmed with its units shipped
//!   and its amount charged, or failed with nothing held, nothing shipped and no money
//!   kept.

use super::msg::{name, Account, Obs, OrderId};
use crate::check::{Property, RunEnd};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct NeverOversell {
    /// (region, sku) → physical units.
    physical: BTreeMap<(u32, u32), u32>,
    shipped: BTreeMap<(u32, u32), u32>,
    samples: u64,
}

impl NeverOversell {
    pub fn new(regions: u32, skus: u32, stock: u32) -> NeverOversell {
        let physical = (0..regions).flat_map(|r| (0..skus).map(move |s| ((r, s), stock))).collect();
        NeverOversell { physical, shipped: BTreeMap::new(), samples: 0 }
    }
}

impl Property<Obs> for NeverOversell {
    fn name(&self) -> &'static str {
        "never-oversell"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Shipped { id, region, sku, qty, .. } = *obs else { return None };
        self.samples += 1;
        let shipped = self.shipped.entry((region, sku)).or_insert(0);
        *shipped += qty;
        let physical = self.physical.get(&(region, sku)).copied().unwrap_or(0);
        (*shipped > physical).then(|| {
            format!(
                "region-{region} sku{sku}: {shipped} units shipped of {physical} on the shelf ({} ships {qty}; {} oversold)",
                name(id),
                *shipped - physical
            )
        })
    }

    fn samples(&self) -> u64 {
        self.samples
    }

    fn summary(&self) -> String {
        let total: u32 = self.shipped.values().sum();
        format!("{} shipments, {total} units, never more than the shelf held", self.samples)
    }
}

/// Whether the run ended quiet: the faults over, and nothing moved for `settle` since.
fn settled(end: SimTime, quiet: SimTime, last: SimTime, settle: SimDuration) -> bool {
    quiet != SimTime::MAX && end >= quiet.max(last) + settle
}

#[derive(Clone)]
pub struct MoneyConserved {
    quiet: SimTime,
    settle: SimDuration,
    clearing: i64,
    trial: i64,
    moved: i64,
    last: SimTime,
    samples: u64,
}

impl MoneyConserved {
    pub fn new(quiet: SimTime, settle: SimDuration) -> MoneyConserved {
        MoneyConserved { quiet, settle, clearing: 0, trial: 0, moved: 0, last: SimTime::ZERO, samples: 0 }
    }
}

impl Property<Obs> for MoneyConserved {
    fn name(&self) -> &'static str {
        "money-conserved"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Entry { postings } => {
                self.samples += 1;
                self.last = self.last.max(at);
                let sum: i64 = postings.iter().map(|p| p.1).sum();
                self.trial += sum;
                for &(a, d) in postings {
                    if a == Account::Clearing {
                        self.clearing += d;
                    }
                }
                (sum != 0).then(|| format!("a ledger entry sums to {sum:+}¢, not zero: {postings:?}"))
            }
            Obs::Money { amount, .. } => {
                self.samples += 1;
                self.last = self.last.max(at);
                self.moved += amount;
                None
            }
            _ => None,
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        if !settled(end.now, self.quiet, self.last, self.settle) {
            return None;
        }
        if self.trial != 0 {
            return Some(format!("the ledger's accounts sum to {:+}¢", self.trial));
        }
        (self.clearing != self.moved).then(|| {
            format!(
                "the ledger says the card network holds {}¢ for us; the network moved {}¢ ({:+}¢ unrecorded)",
                self.clearing,
                self.moved,
                self.moved - self.clearing
            )
        })
    }

    fn samples(&self) -> u64 {
        self.samples
    }

    fn summary(&self) -> String {
        format!("{} entries and money movements; books balanced, clearing = {}¢ moved", self.samples, self.moved)
    }
}

/// One order's history, as the other parties report it.
#[derive(Clone, Default)]
struct History {
    placed: SimTime,
    qty: u32,
    amount: u64,
    ended: Option<bool>,
    held: i64,
    shipped: u32,
    money: i64,
}

#[derive(Clone)]
pub struct OrderSettled {
    quiet: SimTime,
    deadline: SimDuration,
    orders: BTreeMap<OrderId, History>,
    judged: u64,
}

impl OrderSettled {
    /// `deadline`: how long after its acceptance (or after the last fault) an order has
    /// to end, compensations included.
    pub fn new(quiet: SimTime, deadline: SimDuration) -> OrderSettled {
        OrderSettled { quiet, deadline, orders: BTreeMap::new(), judged: 0 }
    }
}

impl Property<Obs> for OrderSettled {
    fn name(&self) -> &'static str {
        "order-settled"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Placed { id, qty, amount, .. } => {
                let h = self.orders.entry(id).or_default();
                (h.placed, h.qty, h.amount) = (at, qty, amount);
            }
            Obs::Ended { id, failed } => self.orders.entry(id).or_default().ended = Some(failed.is_none()),
            Obs::Held { id, qty } => self.orders.entry(id).or_default().held += i64::from(qty),
            Obs::Unheld { id, qty, .. } => self.orders.entry(id).or_default().held -= i64::from(qty),
            Obs::Shipped { id, qty, from_hold, .. } => {
                let h = self.orders.entry(id).or_default();
                h.shipped += qty;
                h.held -= i64::from(from_hold);
            }
            Obs::Money { id, amount } => self.orders.entry(id).or_default().money += amount,
            Obs::Entry { .. } => {}
        }
        None
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        if self.quiet == SimTime::MAX {
            return None;
        }
        let mut bad = Vec::new();
        for (&id, h) in &self.orders {
            if h.placed.max(self.quiet) + self.deadline > end.now {
                continue;
            }
            self.judged += 1;
            let what = match h.ended {
                None => Some("never ended".to_string()),
                Some(true) if h.shipped != h.qty || h.money != h.amount as i64 => Some(format!(
                    "confirmed, but {} of {} units shipped and {}¢ of {}¢ charged",
                    h.shipped, h.qty, h.money, h.amount
                )),
                Some(false) if h.held != 0 || h.shipped != 0 || h.money != 0 => Some(format!(
                    "failed, but still holds {} units, shipped {}, and {}¢ stays charged",
                    h.held, h.shipped, h.money
                )),
                _ => None,
            };
            if let Some(w) = what {
                bad.push(format!("{} {w}", name(id)));
            }
        }
        (!bad.is_empty()).then(|| {
            let n = bad.len();
            bad.truncate(3);
            format!("{n} orders not settled: {}", bad.join("; "))
        })
    }

    fn samples(&self) -> u64 {
        self.judged
    }

    fn summary(&self) -> String {
        format!("{} orders judged: each confirmed whole or fully compensated", self.judged)
    }
}
