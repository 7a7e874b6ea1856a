//! Tests of the event-driven system. Each naive design is run until its check fails and
//! the world is read there, to show the predicted cause: a committed order whose event
//! never reached the bus (dual write); the same event id twice on the bus after a relay
//! crash, or re-read after a consumer crash, and two effect rows for it (no dedup); a
//! consumer whose reader cannot decode a body written by another schema version (no
//! registry). The robust design is shown doing the work — duplicates on the bus, skipped
//! by the processed-event table — with outboxes and dedup tables trimmed.

use super::bus::Bus;
use super::msg::{Effect, Event, Kind, Topic};
use super::registry::Registry;
use super::schema::{decode, encode, incompatibility, project, v1, Change, OrderData, Ty};
use super::*;
use crate::scenario::params::ParamValue;
use crate::system::testing::{self, failing};
use crate::system::BuildOptions;
use crate::view::View;
use std::collections::BTreeMap;

fn with(strategy: &str, seed: u64, params: &[(&str, ParamValue)], faults: Option<Vec<TimedFault>>) -> Scenario {
    testing::scenario(&DEF, strategy, seed, params, faults)
}

fn run_world(s: &Scenario) -> World<Node> {
    testing::run_world(build_world(s, &BuildOptions::default()).unwrap())
}

fn run_until_violation(s: &Scenario, check: &str) -> (World<Node>, String) {
    testing::run_until_violation(build_world(s, &BuildOptions::default()).unwrap(), s, check)
}

fn crash(node: &str, at: u64, down: u64) -> Vec<TimedFault> {
    vec![
        TimedFault { at_ms: at, fault: Fault::Crash { node: node.into() } },
        TimedFault { at_ms: at + down, fault: Fault::Restart { node: node.into() } },
    ]
}

fn service(w: &World<Node>, svc: Svc) -> &Service {
    match &w.nodes()[svc.index() as usize] {
        Node::Service(s) => s,
        _ => panic!("node {} is no service", svc.index()),
    }
}

fn bus(w: &World<Node>) -> &Bus {
    match &w.nodes()[BUS as usize] {
        Node::Bus(b) => b,
        _ => panic!("no bus"),
    }
}

fn registry(w: &World<Node>) -> &Registry {
    match &w.nodes()[REGISTRY as usize] {
        Node::Registry(r) => r,
        _ => panic!("no registry"),
    }
}

/// Every event on the bus, on every topic and partition.
fn all_events(w: &World<Node>) -> Vec<Event> {
    let mut out = Vec::new();
    for log in bus(w).logs.values() {
        if let Ok(rs) = log.read(log.log_start(), log.log_end(), usize::MAX) {
            out.extend(rs.into_iter().map(|r| r.value));
        }
    }
    out
}

fn order_of(detail: &str) -> u64 {
    let rest = detail.split("order ").nth(1).unwrap();
    rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

fn int(v: i64) -> ParamValue {
    ParamValue::Int(v)
}

fn text(v: &str) -> ParamValue {
    ParamValue::Text(v.into())
}

#[test]
fn strategy_ids_parse_and_every_one_is_defined() {
    for s in DEF.strategies {
        assert!(Strategy::from_id(s.id).is_some(), "{}", s.id);
    }
    assert_eq!(Strategy::from_id("exactly-once-magic"), None);
}

#[test]
fn decoding_follows_the_reader_schema() {
    let data = OrderData { order: 7, amount_cents: 1234, sku: 3 };
    let old = encode(&v1(), &data);
    // Same schema: every field, in the reader's order.
    assert_eq!(decode(&v1(), &old).unwrap().len(), 3);
    // A projection skips what it does not need.
    assert!(decode(&project(&v1(), &["order", "sku"]), &old).is_ok());
    // New reader, old event: an added optional field defaults, an added required one fails.
    let opt = Change::AddOptional.v2().unwrap();
    assert_eq!(decode(&opt, &old).unwrap()[3], None);
    assert!(decode(&Change::AddRequired.v2().unwrap(), &old).is_err());
    // A changed type fails both ways.
    let typed = Change::ChangeType.v2().unwrap();
    assert!(decode(&typed, &old).is_err());
    assert!(decode(&v1(), &encode(&typed, &data)).is_err());
    assert_eq!(typed.fields[1].ty, Ty::Str);
    // Old reader, new event without a required field.
    assert!(decode(&v1(), &encode(&Change::RemoveField.v2().unwrap(), &data)).is_err());
}

#[test]
fn the_registry_accepts_exactly_the_changes_every_reader_survives() {
    // Brute-force twin of the rule: a change is compatible iff every reader (v1, v2 and
    // each one-field projection of them) decodes every body (v1 and v2 writers).
    let data = OrderData { order: 1, amount_cents: 250, sku: 9 };
    for change in [Change::AddOptional, Change::AddRequired, Change::ChangeType, Change::RemoveField] {
        let v2 = change.v2().unwrap();
        let mut readers = vec![v1(), v2.clone()];
        for s in [v1(), v2.clone()] {
            for f in &s.fields {
                readers.push(project(&s, &[f.name]));
            }
        }
        // Old readers need only what they read; a projection of the other version that
        // names a field the other version does not have is not a reader that exists.
        let bodies = [encode(&v1(), &data), encode(&v2, &data)];
        let all_read = readers.iter().all(|r| bodies.iter().all(|b| decode(r, b).is_ok()));
        assert_eq!(incompatibility(&v2, &v1()).is_none(), all_read, "{change:?}");
    }
}

#[test]
fn dual_write_loses_an_event_between_commit_and_publish() {
    let faults = [crash("order", 1_500, 300), crash("order", 3_500, 300), crash("order", 5_500, 300)].concat();
    let s = with("dual-write", 1, &[], Some(faults.clone()));
    let (w, detail) = run_until_violation(&s, "events-exactly-once");
    assert!(detail.contains("no inventory decision"), "{detail}");
    let order = order_of(&detail);
    // The order row is committed in the order database…
    let row = service(&w, Svc::Order).orders.get(&order).expect("order committed");
    // …no event for it ever reached the bus…
    assert!(all_events(&w).iter().all(|e| e.order != order), "order {order} is on the bus");
    // …because it was committed less than one linger window before a crash.
    let linger = s.params.int("linger_ms") as f64;
    let crashed_soon = faults.iter().any(|f| {
        matches!(f.fault, Fault::Crash { .. })
            && (f.at_ms as f64) >= row.at_ms
            && (f.at_ms as f64) - row.at_ms <= linger
    });
    assert!(crashed_soon, "order {order} at {} ms was not caught by a crash", row.at_ms);
    // The same crashes lose nothing through an outbox.
    let robust = run_world(&with("outbox-idempotent", 1, &[], Some(faults)));
    assert!(failing(&robust.checks().results()).is_empty());
}

#[test]
fn a_relay_crash_republishes_and_consumers_without_dedup_apply_twice() {
    let s = with("outbox-no-dedup", 1, &[("rebalance_pct", int(0))], Some(crash("relay", 3_000, 300)));
    let (w, detail) = run_until_violation(&s, "events-exactly-once");
    assert!(detail.contains("applied 2 times"), "{detail}");
    let order = order_of(&detail);
    // The duplicate is on the bus: one event id appended twice.
    let mut ids: BTreeMap<u64, u32> = BTreeMap::new();
    for e in all_events(&w).iter().filter(|e| e.order == order) {
        *ids.entry(e.id).or_default() += 1;
    }
    assert!(ids.values().any(|&n| n >= 2), "no event of order {order} was published twice: {ids:?}");
    // And some service's database holds two rows of one step for it.
    let twice = Svc::ALL.iter().any(|&svc| {
        let rows = service(&w, svc).effects.get(&order).cloned().unwrap_or_default();
        rows.len() >= 2
            && rows.windows(2).any(|p| {
                p[0] == p[1]
                    || matches!(
                        (p[0], p[1]),
                        (Effect::Reserved, Effect::Rejected)
                            | (Effect::Rejected, Effect::Reserved)
                            | (Effect::Charged, Effect::Declined)
                            | (Effect::Declined, Effect::Charged)
                    )
            })
    });
    assert!(twice, "no database holds a doubled step for order {order}");
}

#[test]
fn a_consumer_crash_before_its_offset_commit_re_reads_applied_events() {
    // No relay crash and no rebalances: the bus holds each event once, so a second charge
    // can only come from billing reading again past its committed offset.
    let s = with(
        "outbox-no-dedup",
        1,
        &[("rebalance_pct", int(0)), ("commit_ms", int(1_000))],
        Some(crash("billing", 4_500, 300)),
    );
    let (w, detail) = run_until_violation(&s, "events-exactly-once");
    assert!(detail.contains("at billing"), "{detail}");
    let order = order_of(&detail);
    let stock_reserved: Vec<Event> =
        all_events(&w).into_iter().filter(|e| e.order == order && e.kind == Kind::StockReserved).collect();
    assert_eq!(stock_reserved.len(), 1, "the trigger was published once");
    let rows = service(&w, Svc::Billing).effects.get(&order).cloned().unwrap_or_default();
    assert!(rows.len() >= 2, "billing rows for order {order}: {rows:?}");
}

#[test]
fn idempotent_consumers_skip_the_duplicates_and_tables_stay_trimmed() {
    let faults = [crash("relay", 3_000, 300), crash("billing", 4_500, 300)].concat();
    let s = with("outbox-idempotent", 1, &[("rebalance_pct", int(5))], Some(faults));
    let w = run_world(&s);
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", failing(&w.checks().results()));
    // Duplicates did reach the bus and the consumers…
    let events = all_events(&w);
    let mut ids: BTreeMap<u64, u32> = BTreeMap::new();
    for e in &events {
        *ids.entry(e.id).or_default() += 1;
    }
    assert!(ids.values().any(|&n| n >= 2), "the relay crash republished nothing");
    let skipped: u64 = Svc::ALL.iter().map(|&svc| service(&w, svc).skipped).sum();
    assert!(skipped > 0, "no duplicate was skipped");
    // …and every step is in the databases once per order.
    for &svc in &Svc::ALL {
        for (order, rows) in &service(&w, svc).effects {
            let mut sorted = rows.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), rows.len(), "{} order {order}: {rows:?}", svc.name());
        }
        // Outboxes are emptied once relayed; dedup tables keep only the retention window.
        assert!(service(&w, svc).outbox.is_empty(), "{} outbox not trimmed", svc.name());
    }
    let short = run_world(&with("outbox-idempotent", 1, &[("dedup_retain_ms", int(1_000))], Some(Vec::new())));
    let per_s = events.len() as f64 / 8.0;
    for &svc in &Svc::ALL {
        let n = service(&short, svc).processed.len() as f64;
        assert!(n <= per_s * 1.5 + 10.0, "{} keeps {n} ids for a 1 s window", svc.name());
    }
}

#[test]
fn without_a_registry_a_new_reader_meets_an_old_event() {
    let s = with("incompatible-schema", 1, &[("schema_change", text("change-type"))], Some(Vec::new()));
    let (w, detail) = run_until_violation(&s, "no-old-schema-crash");
    assert!(detail.contains("amount"), "{detail}");
    // The failing reader reads v2; the body it choked on was written as v1.
    assert!(detail.contains("(v1,"), "{detail}");
    assert_eq!(service(&w, Svc::Billing).reader.version, 2);
    assert_eq!(service(&w, Svc::Order).writer.version, 2);
    let end = run_world(&s);
    assert!(bus(&end).logs.iter().any(|((t, _), l)| *t == Topic::Dlq && !l.is_empty()), "nothing dead-lettered");
    // With the registry the change is rejected and nobody moves off v1.
    let robust = run_world(&with("outbox-idempotent", 1, &[("schema_change", text("change-type"))], Some(Vec::new())));
    assert!(failing(&robust.checks().results()).is_empty());
    assert_eq!(registry(&robust).rejected.len(), 1);
    assert_eq!(service(&robust, Svc::Order).writer.version, 1);
    assert_eq!(service(&robust, Svc::Billing).reader.version, 1);
    // A compatible change is registered and deployed.
    let ok = run_world(&with("outbox-idempotent", 1, &[("schema_change", text("add-optional"))], Some(Vec::new())));
    assert_eq!(registry(&ok).versions.len(), 2);
    assert_eq!(service(&ok, Svc::Billing).reader.version, 2);
}

#[test]
fn without_a_dead_letter_topic_a_poison_event_stalls_its_partition() {
    let s = with(
        "incompatible-schema",
        1,
        &[("schema_change", text("remove-field")), ("dead_letter", ParamValue::Bool(false))],
        Some(Vec::new()),
    );
    let w = run_world(&s);
    let inv = service(&w, Svc::Inventory);
    // Inventory applied nothing for orders placed after the deploy.
    let deploy_ms = s.params.int("deploy_at_ms") as f64;
    let order = service(&w, Svc::Order);
    let late: Vec<u64> = order.orders.iter().filter(|(_, r)| r.at_ms > deploy_ms + 50.0).map(|(&o, _)| o).collect();
    assert!(!late.is_empty());
    assert!(late.iter().all(|o| !inv.effects.contains_key(o)));
    assert!(bus(&w).logs.iter().all(|((t, _), l)| *t != Topic::Dlq || l.is_empty()));
}

#[test]
fn orchestration_drives_the_saga_from_the_order_service() {
    let s = with("outbox-idempotent", 1, &[("saga", text("orchestration"))], None);
    let w = run_world(&s);
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", failing(&w.checks().results()));
    let order = service(&w, Svc::Order);
    let with_refund = order.orders.values().filter(|r| r.steps.contains(&Kind::RefundPayment)).count();
    let shipped = order.orders.values().filter(|r| r.steps.contains(&Kind::ShipOrder)).count();
    assert!(shipped > 0 && with_refund > 0, "ship {shipped}, refund {with_refund}");
    // In orchestration the services consume only commands: no OrderPlaced is published.
    assert!(all_events(&w).iter().all(|e| e.kind != Kind::OrderPlaced));
}

#[test]
fn robust_design_holds_over_seeds_and_naive_ones_fail() {
    for seed in 1..=4 {
        let w = run_world(&with("outbox-idempotent", seed, &[], None));
        assert!(failing(&w.checks().results()).is_empty(), "seed {seed}: {:?}", failing(&w.checks().results()));
    }
    for strategy in ["dual-write", "outbox-no-dedup", "incompatible-schema"] {
        let failed =
            (1..=4).any(|seed| !failing(&run_world(&with(strategy, seed, &[], None)).checks().results()).is_empty());
        assert!(failed, "{strategy} never failed");
    }
}

#[test]
fn views_show_sagas_log_and_plumbing() {
    let s = with("outbox-idempotent", 1, &[], None);
    let w = run_world(&s);
    let v = views::views(&w);
    assert!(matches!(&v[0], View::Table(t) if !t.rows.is_empty() && t.rows.len() <= 14));
    assert!(matches!(&v[1], View::Log(l) if l.lanes.iter().any(|lane| lane.name.starts_with("orders/"))));
    assert!(matches!(&v[2], View::Table(t) if t.rows.len() == 4));
}
