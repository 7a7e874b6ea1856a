//! Tests of checkout. Each naive design is run until its check fails and the world is
//! read there, to show the mechanism: a shelf the warehouse shipped more units from than it
//! ever held (decrement on payment); a failed order whose units are still on hold, and a
//! failed order whose charge the card network kept while the ledger never heard of it (no
//! compensation). The saga under the same scenarios holds, and is shown doing the work:
//! holds released, charges voided or refunded, retries answered from their keys.

use super::inventory::Warehouse;
use super::ledger::Ledger;
use super::msg::{Account, Movement, Reason};
use super::network::Network;
use super::orders::{Orders, Stage};
use super::*;
use crate::system::testing::{self, failing};
use crate::view::View;

fn with(strategy: &str, seed: u64, params: &[(&str, i64)], faults: Option<Vec<TimedFault>>) -> Scenario {
    testing::scenario(&DEF, strategy, seed, &testing::ints(params), faults)
}

fn run_world(s: &Scenario) -> World<Node> {
    testing::run_world(build_world(s, &BuildOptions::default()).unwrap())
}

fn run_until_violation(s: &Scenario, check: &str) -> World<Node> {
    testing::run_until_violation(build_world(s, &BuildOptions::default()).unwrap(), s, check).0
}

fn warehouses(w: &World<Node>) -> Vec<&Warehouse> {
    w.nodes().iter().filter_map(|n| if let Node::Warehouse(x) = n { Some(&**x) } else { None }).collect()
}

fn order_services(w: &World<Node>) -> Vec<&Orders> {
    w.nodes().iter().filter_map(|n| if let Node::Orders(x) = n { Some(&**x) } else { None }).collect()
}

fn network(w: &World<Node>) -> &Network {
    w.nodes().iter().find_map(|n| if let Node::Network(x) = n { Some(x) } else { None }).unwrap()
}

fn ledger(w: &World<Node>) -> &Ledger {
    w.nodes().iter().find_map(|n| if let Node::Ledger(x) = n { Some(x) } else { None }).unwrap()
}

#[test]
fn decrement_on_payment_ships_units_the_shelf_never_had() {
    let s = with("decrement-on-payment", 1, &[], None);
    let w = run_until_violation(&s, "never-oversell");
    let oversold: Vec<(u32, usize, i64, u32, u32)> = warehouses(&w)
        .iter()
        .flat_map(|x| x.skus.iter().enumerate().map(move |(i, k)| (x.region, i, k.on_hand, k.shipped, k.physical)))
        .filter(|&(_, _, on_hand, shipped, physical)| shipped > physical && on_hand < 0)
        .collect();
    assert!(!oversold.is_empty(), "a shelf below zero, more shipped than it held");
    // Every shipment was paid for: the buyers who raced were all charged.
    let charged = network(&w).records.values().filter(|r| r.charged && !r.refunded).count();
    let shipped_units: u32 = warehouses(&w).iter().flat_map(|x| x.skus.iter().map(|k| k.shipped)).sum();
    assert!(charged > 0 && shipped_units > 0);

    let robust = run_world(&with("saga", 1, &[], None));
    assert!(failing(&robust.checks().results()).is_empty(), "{:?}", failing(&robust.checks().results()));
    for x in warehouses(&robust) {
        for k in &x.skus {
            assert!(k.shipped <= k.physical && k.on_hand >= 0, "the saga never ships past the shelf");
        }
    }
}

#[test]
fn no_compensation_keeps_the_hold_of_a_declined_order() {
    let s = with("no-compensation", 1, &[], None);
    let w = run_world(&s);
    assert!(failing(&w.checks().results()).iter().any(|f| f.starts_with("order-settled")));
    let stuck: Vec<u64> = order_services(&w)
        .iter()
        .flat_map(|o| o.orders.values())
        .filter(|o| o.stage == Stage::Failed && o.reason == Some(Reason::Declined))
        .filter(|o| warehouses(&w).iter().any(|x| x.skus[o.sku as usize].holds.contains_key(&o.id)))
        .map(|o| o.id)
        .collect();
    assert!(!stuck.is_empty(), "a declined order whose units are still held at the end");

    let robust = run_world(&with("saga", 1, &[], None));
    for o in order_services(&robust).iter().flat_map(|o| o.orders.values()) {
        assert!(o.stage.ended(), "every order ended");
        if o.stage == Stage::Failed {
            assert!(warehouses(&robust).iter().all(|x| !x.skus[o.sku as usize].holds.contains_key(&o.id)));
            assert_eq!(network(&robust).net(o.id), 0, "a failed order keeps no money");
        }
    }
    let released = order_services(&robust)
        .iter()
        .flat_map(|o| o.orders.values())
        .filter(|o| o.steps.iter().any(|s| s.1 == Stage::Releasing))
        .count();
    assert!(released > 0, "the saga released holds");
}

#[test]
fn no_compensation_leaves_a_charge_the_ledger_never_saw() {
    let s = with("no-compensation", 1, &[("lost_reply_pct", 30)], None);
    let w = run_until_violation(&s, "money-conserved");
    let j = &ledger(&w).journal;
    let kept: Vec<u64> = order_services(&w)
        .iter()
        .flat_map(|o| o.orders.values())
        .filter(|o| o.stage == Stage::Failed && o.reason == Some(Reason::PayTimeout))
        .filter(|o| network(&w).net(o.id) > 0 && !j.contains(&(o.id, Movement::Capture)))
        .map(|o| o.id)
        .collect();
    assert!(!kept.is_empty(), "an order failed on timeouts, charged at the network, absent from the ledger");
    let moved: i64 = network(&w).records.keys().map(|&id| network(&w).net(id)).sum();
    assert!(j.balance(Account::Clearing) < moved);

    let robust = run_world(&with("saga", 1, &[("lost_reply_pct", 30)], None));
    assert!(failing(&robust.checks().results()).is_empty(), "{:?}", failing(&robust.checks().results()));
    let voided = network(&robust).records.values().filter(|r| r.voided || (r.charged && r.refunded)).count();
    assert!(voided > 0, "the saga voided or refunded the charges it gave up on");
    let moved: i64 = network(&robust).records.keys().map(|&id| network(&robust).net(id)).sum();
    assert_eq!(ledger(&robust).journal.balance(Account::Clearing), moved);
}

#[test]
fn retries_are_one_order_and_answered_from_their_keys() {
    let loss = vec![
        TimedFault { at_ms: 1_000, fault: Fault::Loss { rate: 0.2 } },
        TimedFault { at_ms: 5_000, fault: Fault::Loss { rate: 0.0 } },
    ];
    let w = run_world(&with("saga", 2, &[], Some(loss)));
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", failing(&w.checks().results()));
    assert!(w.metrics.counter("orders.key_hits") > 0, "buyers retried and found their keys");
    assert!(w.metrics.counter("buyers.retries") > 0);
}

#[test]
fn the_saga_refunds_when_a_hold_expires_before_confirm() {
    let s = with("saga", 2, &[("reservation_ttl_ms", 200), ("slow_pct", 30)], None);
    let w = run_world(&s);
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", failing(&w.checks().results()));
    assert!(warehouses(&w).iter().any(|x| x.expired > 0), "holds expired mid-payment");
}

#[test]
fn views_show_the_timeline_and_the_stock() {
    let mut sim = (DEF.build)(&with("saga", 1, &[], None), &BuildOptions::default()).unwrap();
    sim.run_to_end();
    let views = sim.views();
    let compensated = |t: &crate::view::Timeline| t.lanes.iter().any(|l| l.spans.iter().any(|s| s.kind == "warn"));
    assert!(views
        .iter()
        .any(|v| matches!(v, View::Timeline(t) if !t.lanes.is_empty() && t.lanes.iter().all(|l| !l.spans.is_empty()))));
    let _ = compensated;
    assert!(views.iter().any(|v| matches!(v, View::Table(t) if t.title == "Stock per SKU" && !t.rows.is_empty())));
}

#[test]
fn strategy_ids_have_no_fallback() {
    for st in STRATEGIES {
        assert!(Strategy::from_id(st.id).is_some());
    }
    assert!(Strategy::from_id("optimistic").is_none());
}
