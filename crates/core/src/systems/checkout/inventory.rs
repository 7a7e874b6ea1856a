//! A region's warehouse: stock per SKU, reservations with a time to live, shipments.
//!
//! Its stock record is a database (durable across a crash): units on hand, holds, and the
//! orders already shipped. A *hold* sets units aside for one order until its expiry; units
//! available to a new order are those on hand minus those held. A hold that expires is
//! dropped (the units go back on sale), so a buyer who walks away, or an order service
//! that never comes back, cannot keep stock forever. Every request is idempotent per
//! order: a retried reserve, confirm or release finds what the first one did.
//!
//! The naive design talks to the same warehouse differently: it *reads* whether units are
//! on hand (no hold) before payment and *decrements* after payment. The decrement is
//! unconditional — the buyer has paid — so when two buyers read the last unit, both ship
//! it, and the shelf goes negative: that is the oversold unit.

use super::msg::{Msg, Obs, OrderId, StockStep};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

/// How often expired holds are swept while any exist.
pub const SWEEP_MS: u64 = 100;

/// One SKU's stock in one warehouse.
#[derive(Clone, Debug)]
pub struct Sku {
    /// Units received (the physical stock at the start).
    pub physical: u32,
    /// Units on the shelf (negative only when the naive design oversells).
    pub on_hand: i64,
    /// Units shipped.
    pub shipped: u32,
    /// Order → (units held, expiry in local µs).
    pub holds: BTreeMap<OrderId, (u32, u64)>,
}

impl Sku {
    pub fn held(&self) -> u32 {
        self.holds.values().map(|h| h.0).sum()
    }

    pub fn available(&self) -> i64 {
        self.on_hand - i64::from(self.held())
    }
}

#[derive(Clone, Debug)]
pub struct Warehouse {
    pub region: u32,
    ttl_us: u64,
    // Durable.
    pub skus: Vec<Sku>,
    shipped_orders: BTreeSet<OrderId>,
    // Volatile.
    sweeping: bool,
    pub expired: u64,
}

impl Warehouse {
    pub fn new(region: u32, skus: u32, stock: u32, ttl_ms: u64) -> Warehouse {
        let sku = Sku { physical: stock, on_hand: i64::from(stock), shipped: 0, holds: BTreeMap::new() };
        Warehouse {
            region,
            ttl_us: ttl_ms * 1_000,
            skus: vec![sku; skus as usize],
            shipped_orders: BTreeSet::new(),
            sweeping: false,
            expired: 0,
        }
    }

    fn holds_any(&self) -> bool {
        self.skus.iter().any(|s| !s.holds.is_empty())
    }

    fn arm_sweep(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.sweeping && self.holds_any() {
            self.sweeping = true;
            ctx.set_timer(SimDuration::from_ms(SWEEP_MS), 0);
        }
    }

    /// Drops every hold past its expiry.
    fn sweep(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.local_time().micros();
        for s in &mut self.skus {
            let gone: Vec<(OrderId, u32)> =
                s.holds.iter().filter(|(_, h)| h.1 <= now).map(|(&id, h)| (id, h.0)).collect();
            for (id, qty) in gone {
                s.holds.remove(&id);
                self.expired += 1;
                ctx.observe(Obs::Unheld { id, qty, expired: true });
            }
        }
    }

    fn ship(&mut self, id: OrderId, sku: u32, qty: u32, from_hold: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let s = &mut self.skus[sku as usize];
        s.on_hand -= i64::from(qty);
        s.shipped += qty;
        self.shipped_orders.insert(id);
        ctx.observe(Obs::Shipped { id, region: self.region, sku, qty, from_hold });
        ctx.metrics.add("warehouse.units_shipped", u64::from(qty));
    }

    /// Handles one request; `None` for a SKU this warehouse does not stock.
    fn handle(&mut self, msg: &Msg, ctx: &mut Ctx<'_, Msg, Obs>) -> Option<(OrderId, StockStep, bool)> {
        let now = ctx.local_time().micros();
        let (id, sku) = match *msg {
            Msg::Reserve { id, sku, .. }
            | Msg::Confirm { id, sku, .. }
            | Msg::Release { id, sku }
            | Msg::Check { id, sku, .. }
            | Msg::Decrement { id, sku, .. } => (id, sku),
            _ => return None,
        };
        let s = self.skus.get_mut(sku as usize)?;
        Some(match *msg {
            Msg::Reserve { qty, .. } => {
                let ok = if self.shipped_orders.contains(&id) || s.holds.contains_key(&id) {
                    true
                } else if s.available() >= i64::from(qty) {
                    s.holds.insert(id, (qty, now + self.ttl_us));
                    ctx.observe(Obs::Held { id, qty });
                    true
                } else {
                    false
                };
                (id, StockStep::Reserve, ok)
            }
            Msg::Confirm { qty, .. } => {
                let ok = if self.shipped_orders.contains(&id) {
                    true
                } else if let Some((held, _)) = s.holds.remove(&id) {
                    self.ship(id, sku, held, held, ctx);
                    true
                } else if s.available() >= i64::from(qty) {
                    // The hold expired, but the units are still free: take them now.
                    self.ship(id, sku, qty, 0, ctx);
                    true
                } else {
                    false
                };
                (id, StockStep::Confirm, ok)
            }
            Msg::Release { .. } => {
                if let Some((qty, _)) = s.holds.remove(&id) {
                    ctx.observe(Obs::Unheld { id, qty, expired: false });
                }
                (id, StockStep::Release, true)
            }
            Msg::Check { qty, .. } => (id, StockStep::Check, s.on_hand >= i64::from(qty)),
            Msg::Decrement { qty, .. } => {
                if !self.shipped_orders.contains(&id) {
                    if s.on_hand < i64::from(qty) {
                        ctx.note(format!("sku{sku}: {} on hand, shipping {qty} anyway (paid)", s.on_hand));
                    }
                    self.ship(id, sku, qty, 0, ctx);
                }
                (id, StockStep::Decrement, true)
            }
            _ => return None,
        })
    }
}

impl Actor for Warehouse {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.arm_sweep(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.sweep(ctx);
        if let Some((id, step, ok)) = self.handle(&msg, ctx) {
            ctx.send(from, Msg::Stock { id, step, ok });
        }
        self.arm_sweep(ctx);
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.sweeping = false;
        self.sweep(ctx);
        self.arm_sweep(ctx);
    }

    fn on_crash(&mut self) {
        self.sweeping = false;
    }

    fn describe(&self) -> String {
        let on_hand: i64 = self.skus.iter().map(|s| s.on_hand).sum();
        let held: u32 = self.skus.iter().map(Sku::held).sum();
        format!("{on_hand} on hand, {held} held")
    }
}
