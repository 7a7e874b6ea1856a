//! The views: the saga timeline of the latest orders (one lane per order, one span per
//! step, compensations in amber, the verdict in green or red), the stock levels per SKU
//! in every region (physical, on hand, held, shipped, and what was oversold), and the
//! ledger's balances beside the money the card network moved.

use super::msg::name;
use super::node::Node;
use super::orders::{Order, Stage};
use crate::sim::world::World;
use crate::view::{Span, Table, Timeline, TimelineLane, View};

/// Orders on the timeline (the latest, across regions).
const LANES: usize = 14;

pub fn views(world: &World<Node>) -> Vec<View> {
    let now = world.now().as_ms();
    let mut orders: Vec<&Order> = Vec::new();
    let mut stock = Vec::new();
    let mut out = Vec::new();
    let (mut ledger, mut moved) = (None, 0i64);
    for n in world.nodes() {
        match n {
            Node::Orders(o) => orders.extend(o.orders.values().rev().take(LANES)),
            Node::Warehouse(w) => {
                for (sku, s) in w.skus.iter().enumerate() {
                    let oversold = (i64::from(s.shipped) - i64::from(s.physical)).max(0);
                    stock.push(vec![
                        format!("region-{}", w.region),
                        format!("sku{sku}"),
                        s.physical.to_string(),
                        s.on_hand.to_string(),
                        s.held().to_string(),
                        s.shipped.to_string(),
                        s.available().max(0).to_string(),
                        if oversold > 0 { format!("{oversold} ⚠") } else { "0".into() },
                    ]);
                }
            }
            Node::Network(x) => moved = x.records.keys().map(|&id| x.net(id)).sum(),
            Node::Ledger(l) => ledger = Some(l),
            Node::Buyers(_) => {}
        }
    }
    let started = |o: &Order| o.steps.first().map_or(0.0, |s| s.0);
    orders.sort_by(|a, b| started(b).total_cmp(&started(a)));
    orders.truncate(LANES);
    out.push(View::Timeline(timeline(&orders, now)));
    let columns = ["region", "sku", "physical", "on hand", "held", "shipped", "available", "oversold"];
    out.push(View::Table(Table {
        title: "Stock per SKU".into(),
        columns: columns.map(String::from).to_vec(),
        rows: stock,
    }));
    if let Some(l) = ledger {
        let mut rows: Vec<Vec<String>> =
            l.journal.balances().iter().map(|(a, b)| vec![a.to_string(), format!("{b:+}¢")]).collect();
        rows.push(vec!["trial balance (Σ all accounts)".into(), format!("{:+}¢", l.journal.trial_balance())]);
        rows.push(vec!["money the card network holds".into(), format!("{moved:+}¢")]);
        out.push(View::Table(Table {
            title: format!("Ledger ({} entries, {} retries recognised)", l.journal.applied, l.journal.duplicates),
            columns: vec!["account".into(), "balance".into()],
            rows,
        }));
    }
    out
}

fn timeline(orders: &[&Order], now: f64) -> Timeline {
    let lanes = orders
        .iter()
        .rev()
        .map(|o| {
            let mut spans = Vec::new();
            for (i, &(start, stage)) in o.steps.iter().enumerate() {
                let end = o.steps.get(i + 1).map_or(if stage.ended() { start + 30.0 } else { now }, |s| s.0);
                let kind = match stage {
                    Stage::Confirmed => "ok",
                    Stage::Failed => "bad",
                    s if s.compensating() => "warn",
                    _ => "info",
                };
                let label = match (stage, o.reason) {
                    (Stage::Failed, Some(r)) => format!("failed: {}", r.name()),
                    _ => stage.name().to_string(),
                };
                spans.push(Span { start_ms: start, end_ms: end.max(start), label, kind: kind.into() });
            }
            TimelineLane { name: format!("{} sku{}×{}", name(o.id), o.sku, o.qty), spans }
        })
        .collect();
    Timeline { title: "Saga timeline (latest orders)".into(), lanes }
}
