//! The views: each recent order's saga state as every service's database records it (with
//! a verdict: done, compensated, in flight, or a double effect), the event log per topic
//! and partition with the offset every consumer group has committed, and each service's
//! outbox, dedup table and schema versions. The service graph is the automatic topology.

use super::msg::{Effect, Svc, Topic};
use super::node::Node;
use super::registry::Registry;
use super::service::Service;
use crate::sim::world::World;
use crate::view::{Log, LogLane, Table, View};
use std::collections::BTreeMap;

/// Orders shown in the saga table.
const ROWS: usize = 14;
/// Records shown per partition lane.
const LOG_ROWS: usize = 10;

pub fn views(world: &World<Node>) -> Vec<View> {
    let mut services: BTreeMap<Svc, &Service> = BTreeMap::new();
    let mut bus = None;
    let mut registry: Option<&Registry> = None;
    for n in world.nodes() {
        match n {
            Node::Service(s) => {
                services.insert(s.cfg.svc, s);
            }
            Node::Bus(b) => bus = Some(b),
            Node::Registry(r) => registry = Some(r),
            Node::Relay(_) => {}
        }
    }
    let mut views = vec![View::Table(saga_table(&services))];
    if let Some(b) = bus {
        views.push(View::Log(event_log(b)));
    }
    views.push(View::Table(plumbing(&services, registry)));
    views
}

fn rows_of<'a>(s: Option<&&'a Service>, order: u64) -> &'a [Effect] {
    s.and_then(|s| s.effects.get(&order)).map(|v| v.as_slice()).unwrap_or(&[])
}

fn cell(rows: &[Effect]) -> String {
    if rows.is_empty() {
        return "—".into();
    }
    rows.iter().map(|e| format!("{e:?}")).collect::<Vec<_>>().join(" → ")
}

fn verdict(all: &[Effect]) -> &'static str {
    let n = |e: Effect| all.iter().filter(|&&x| x == e).count() as i32;
    let stock = n(Effect::Reserved) - n(Effect::Released);
    let money = n(Effect::Charged) - n(Effect::Refunded);
    if n(Effect::Charged) > 1 || n(Effect::Reserved) > 1 || n(Effect::Shipped) > 1 {
        return "DUPLICATE effect";
    }
    match (stock, money, n(Effect::Shipped), n(Effect::Done), n(Effect::Cancelled)) {
        (1, 1, 1, 1, 0) => "done",
        (0, 0, 0, 0, 1) => "compensated",
        (_, 1, 0, _, _) => "charged, not shipped",
        _ => "in flight",
    }
}

fn saga_table(services: &BTreeMap<Svc, &Service>) -> Table {
    let order_svc = services.get(&Svc::Order);
    let orders: Vec<(u64, f64)> =
        order_svc.map(|s| s.orders.iter().rev().take(ROWS).map(|(&o, r)| (o, r.at_ms)).collect()).unwrap_or_default();
    let rows = orders
        .into_iter()
        .map(|(order, at)| {
            let mut row = vec![format!("o{order}"), format!("{at:.0}")];
            let mut all = Vec::new();
            for svc in [Svc::Inventory, Svc::Billing, Svc::Shipping, Svc::Order] {
                let r = rows_of(services.get(&svc), order);
                all.extend_from_slice(r);
                row.push(cell(r));
            }
            if let Some(steps) = order_svc.and_then(|s| s.orders.get(&order)).filter(|r| !r.steps.is_empty()) {
                row.push(steps.steps.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", "));
            } else {
                row.push("—".into());
            }
            row.push(verdict(&all).into());
            row
        })
        .collect();
    let columns =
        ["order", "placed ms", "inventory", "billing", "shipping", "order status", "orchestrator commands", "verdict"]
            .map(String::from)
            .to_vec();
    Table { title: "Saga state per order (latest orders, from each service's database)".into(), columns, rows }
}

fn event_log(bus: &super::bus::Bus) -> Log {
    let mut lanes = Vec::new();
    for (&(t, p), log) in &bus.logs {
        if log.is_empty() {
            continue;
        }
        let from = log.log_end().saturating_sub(LOG_ROWS as u64).max(log.log_start());
        let Ok(records) = log.read(from, log.log_end(), LOG_ROWS) else { continue };
        let min_committed =
            bus.committed.iter().filter(|((_, tt, pp), _)| *tt == t && *pp == p).map(|(_, &o)| o).min().unwrap_or(0);
        let committed = min_committed.saturating_sub(from).min(records.len() as u64) as usize;
        let entries = records.iter().map(|r| format!("#{} {}", r.offset, r.value)).collect();
        let name = if t == Topic::Dlq { format!("{}/{p} ⚠", t.name()) } else { format!("{}/{p}", t.name()) };
        lanes.push(LogLane { name, entries, committed });
    }
    Log {
        title: "Event log per topic/partition (last records; the prefix every consumer group has committed is marked)"
            .into(),
        lanes,
    }
}

fn plumbing(services: &BTreeMap<Svc, &Service>, registry: Option<&Registry>) -> Table {
    let rows = services
        .values()
        .map(|s| {
            vec![
                s.cfg.svc.name().to_string(),
                s.outbox.len().to_string(),
                s.processed.len().to_string(),
                s.skipped.to_string(),
                format!("v{}", s.writer.version),
                format!("v{}", s.reader_schema().version),
            ]
        })
        .collect();
    let versions = registry.map(|r| format!("registry: v1–v{}", r.versions.len())).unwrap_or_default();
    let columns =
        ["service", "outbox rows", "processed ids", "duplicates skipped", "writes", "reads"].map(String::from).to_vec();
    Table { title: format!("Outboxes, dedup tables and schemas {versions}"), columns, rows }
}
