//! The usage meter: counts each tenant's served requests from the shards' usage events
//! and issues invoice lines. Delivery is at-least-once (a shard resends whatever is not
//! acknowledged), so counting must be idempotent: an event is `(shard, sequence number)`,
//! and the meter keeps, per shard, the next number it expects, counting only the events
//! from there on (a cumulative acknowledgement, as in TCP). Totals and those positions are
//! committed together, so a crash of the meter loses nothing and counts nothing twice.
//!
//! The `count-every-delivery` setting counts every event of every batch it receives: a
//! batch resent because its acknowledgement was late is billed again.

use super::msg::{Msg, Obs, TenantId};
use super::Ctx;
use crate::sim::node::Actor;
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TAG_INVOICE: u64 = 1;

#[derive(Clone, Debug)]
pub struct Meter {
    pub dedup: bool,
    pub invoice_ms: u64,
    /// Durable: per shard, the next usage sequence number expected.
    pub next: BTreeMap<u32, u64>,
    /// Durable: units billed per tenant.
    pub units: Vec<u64>,
    pub duplicates_dropped: u64,
}

impl Meter {
    pub fn new(tenants: u32, dedup: bool, invoice_ms: u64) -> Meter {
        Meter { dedup, invoice_ms, next: BTreeMap::new(), units: vec![0; tenants as usize], duplicates_dropped: 0 }
    }

    fn bill(&mut self, tenant: TenantId) {
        if let Some(u) = self.units.get_mut(tenant as usize) {
            *u += 1;
        }
    }
}

impl Actor for Meter {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        ctx.set_timer(SimDuration::from_ms(self.invoice_ms), TAG_INVOICE);
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_>) {
        if tag == TAG_INVOICE {
            for (tenant, &units) in self.units.iter().enumerate() {
                ctx.observe(Obs::Invoice { tenant: tenant as TenantId, units });
            }
            ctx.set_timer(SimDuration::from_ms(self.invoice_ms), TAG_INVOICE);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_>) {
        let Msg::Usage { shard, from: first, tenants } = msg else { return };
        let end = first + tenants.len() as u64;
        if !self.dedup {
            for t in tenants {
                self.bill(t);
            }
            ctx.send(from, Msg::UsageAck { upto: end });
            return;
        }
        let next = self.next.get(&shard).copied().unwrap_or(0);
        if first <= next && next < end {
            let skip = (next - first) as usize;
            self.duplicates_dropped += skip as u64;
            for &t in &tenants[skip..] {
                self.bill(t);
            }
            self.next.insert(shard, end);
        } else if end <= next {
            self.duplicates_dropped += tenants.len() as u64;
        }
        ctx.send(from, Msg::UsageAck { upto: self.next.get(&shard).copied().unwrap_or(0) });
    }

    fn describe(&self) -> String {
        format!("{} units billed, {} duplicates dropped", self.units.iter().sum::<u64>(), self.duplicates_dropped)
    }
}
