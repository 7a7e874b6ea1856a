//! Tests of the payment gateway. Each naive design is run until its check fails and the
//! world is read there, to show the predicted mechanism: two payments for one order, both
//! captured in the card network's record (no key); a payment the gateway failed on a
//! timeout whose capture the network did make (timeout = failure); a ledger that applied
//! more balance writes than the gateway ever issued (single entry). The robust design is
//! shown doing the work: keys hit, duplicate journal entries recognized, books balanced.

use super::checks::{ChargedOnce, LedgerBalanced, TerminalState};
use super::gateway::{Gateway, GatewayCfg};
use super::ledger::Ledger;
use super::msg::{Account, Msg, Obs, OrderRef};
use super::network::Network;
use super::payment::{Reason, State};
use super::*;
use crate::check::RunEnd;
use crate::metrics::Metrics;
use crate::sim::node::{Actor, Ctx, Effects};
use crate::sim::rng::Prng;
use crate::system::testing::{self, failing};
use crate::view::View;
use std::collections::BTreeMap;

fn with(strategy: &str, seed: u64, params: &[(&str, i64)], faults: Option<Vec<TimedFault>>) -> Scenario {
    testing::scenario(&DEF, strategy, seed, &testing::ints(params), faults)
}

fn run_world(s: &Scenario) -> World<Node> {
    testing::run_world(build_world(s, &BuildOptions::default()).unwrap())
}

fn run_until_violation(s: &Scenario, check: &str) -> (World<Node>, String) {
    testing::run_until_violation(build_world(s, &BuildOptions::default()).unwrap(), s, check)
}

fn gateway(w: &World<Node>) -> &Gateway {
    w.nodes().iter().find_map(|n| if let Node::Gateway(g) = n { Some(&**g) } else { None }).unwrap()
}

fn network(w: &World<Node>) -> &Network {
    w.nodes().iter().find_map(|n| if let Node::Network(x) = n { Some(x) } else { None }).unwrap()
}

fn ledger(w: &World<Node>) -> &Ledger {
    w.nodes().iter().find_map(|n| if let Node::Ledger(l) = n { Some(l) } else { None }).unwrap()
}

/// Payment ids named in a check's detail ("p12").
fn payments_in(detail: &str) -> Vec<u64> {
    detail
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|w| w.strip_prefix('p').and_then(|n| n.parse().ok()))
        .collect()
}

fn brownout() -> Vec<TimedFault> {
    let (from, to) = ("network".to_string(), "gateway".to_string());
    vec![
        TimedFault { at_ms: 2_000, fault: Fault::Clog { from: from.clone(), to: to.clone(), extra_ms: 700 } },
        TimedFault { at_ms: 3_000, fault: Fault::Unclog { from, to } },
    ]
}

fn ledger_pause() -> Vec<TimedFault> {
    vec![TimedFault { at_ms: 3_000, fault: Fault::Pause { node: "ledger".into(), for_ms: 800 } }]
}

#[test]
fn strategy_ids_parse_and_every_one_is_defined() {
    for s in DEF.strategies {
        assert!(Strategy::from_id(s.id).is_some(), "{}", s.id);
    }
    assert_eq!(Strategy::from_id("exactly-once-magic"), None);
}

#[test]
fn without_keys_a_slow_request_and_its_retry_both_charge_the_card() {
    let s = with("retry-no-key", 1, &[], Some(brownout()));
    let (w, detail) = run_until_violation(&s, "charged-once");
    let ids = payments_in(&detail);
    assert_eq!(ids.len(), 2, "{detail}");
    let g = gateway(&w);
    let (a, b) = (&g.payments[&ids[0]], &g.payments[&ids[1]]);
    // Two gateway payments for one merchant order, neither carrying a key…
    assert_eq!(a.order, b.order);
    assert_eq!((a.key, b.key), (None, None));
    // …and the network's own record captured both, on the same card.
    let net = network(&w);
    let (ra, rb) = (net.records[&ids[0]], net.records[&ids[1]]);
    assert!(ra.captured && rb.captured && ra.card == rb.card && ra.order == rb.order);
    assert_eq!(w.metrics.counter("gateway.key_hits"), 0);
}

#[test]
fn with_keys_the_same_brownout_charges_each_order_once() {
    let s = with("keys-double-entry", 1, &[], Some(brownout()));
    let w = run_world(&s);
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", failing(&w.checks().results()));
    assert!(w.metrics.counter("gateway.key_hits") > 0, "merchants did retry, and found their keys");
    assert!(w.metrics.counter("merchant.retries") > 0);
    let mut captured: BTreeMap<(u32, OrderRef), u32> = BTreeMap::new();
    for r in network(&w).records.values().filter(|r| r.captured) {
        *captured.entry((r.card, r.order)).or_default() += 1;
    }
    assert!(captured.values().all(|&n| n == 1));
}

#[test]
fn a_key_that_expires_before_the_retry_charges_again() {
    let s = with("keys-double-entry", 1, &[("key_ttl_ms", 500)], Some(brownout()));
    let (w, detail) = run_until_violation(&s, "charged-once");
    let ids = payments_in(&detail);
    let g = gateway(&w);
    let (a, b) = (&g.payments[&ids[0]], &g.payments[&ids[1]]);
    assert_eq!(a.order, b.order);
    assert_eq!(a.key, b.key, "the same key, forgotten in between");
    assert!(a.key.is_some());
}

#[test]
fn a_timeout_read_as_failure_leaves_money_on_a_failed_payment() {
    let s = with("timeout-fails", 1, &[], Some(Vec::new()));
    let (w, detail) = run_until_violation(&s, "terminal-state");
    let id = payments_in(&detail)[0];
    let p = &gateway(&w).payments[&id];
    assert_eq!((p.state, p.reason), (State::Failed, Some(Reason::Timeout)), "{detail}");
    let r = network(&w).records[&id];
    assert!(r.captured && !r.refunded, "the network did capture it");
    assert!(network(&w).replies_lost + network(&w).replies_slow > 0);
}

#[test]
fn single_entry_applies_retried_writes_twice() {
    let s = with("single-entry", 1, &[], Some(ledger_pause()));
    let w = run_world(&s);
    let fails = failing(&w.checks().results());
    assert!(fails.iter().any(|f| f.starts_with("ledger-balanced")), "{fails:?}");
    assert!(!fails.iter().any(|f| f.starts_with("charged-once")), "{fails:?}");
    let (g, l) = (gateway(&w), ledger(&w));
    // The ledger applied more balance changes than the gateway ever made: retries counted.
    assert!(l.applied() > g.writes_issued(), "applied {} of {} writes", l.applied(), g.writes_issued());
    assert_ne!(l.trial_balance(), 0);
    assert!(w.metrics.counter("gateway.ledger_retries") > 0);
}

#[test]
fn double_entry_recognizes_the_same_retries_and_balances() {
    let s = with("keys-double-entry", 1, &[], Some(ledger_pause()));
    let w = run_world(&s);
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", failing(&w.checks().results()));
    let (l, net) = (ledger(&w), network(&w));
    assert!(l.duplicates() > 0, "retried entries arrived, and were recognized");
    assert_eq!(l.applied(), gateway(&w).writes_issued());
    assert_eq!(l.trial_balance(), 0);
    let moved: i64 = net.records.keys().map(|&r| net.net(r)).sum();
    assert_eq!(l.balances().get(&Account::Clearing).copied().unwrap_or(0), moved);
}

#[test]
fn the_default_scenario_fails_each_naive_design_and_not_the_robust_one() {
    for (st, check) in
        [("retry-no-key", "charged-once"), ("timeout-fails", "terminal-state"), ("single-entry", "ledger-balanced")]
    {
        let w = run_world(&with(st, 1, &[], None));
        let fails = failing(&w.checks().results());
        assert!(fails.iter().any(|f| f.starts_with(check)), "{st}: {fails:?}");
    }
    let w = run_world(&with("keys-double-entry", 1, &[], None));
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", failing(&w.checks().results()));
    assert!(w.checks().results().iter().all(|c| c.samples > 0));
}

#[test]
fn a_crashed_gateway_resumes_calls_and_ledger_writes() {
    let faults = vec![
        TimedFault { at_ms: 3_000, fault: Fault::Crash { node: "gateway".into() } },
        TimedFault { at_ms: 4_000, fault: Fault::Restart { node: "gateway".into() } },
    ];
    let w = run_world(&with("keys-double-entry", 3, &[], Some(faults)));
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", failing(&w.checks().results()));
    let g = gateway(&w);
    assert!(g.outbox.is_empty(), "every entry acknowledged in the end");
    assert!(g.payments.values().all(|p| p.pending.is_none() && p.state.terminal()));
}

/// A gateway and a context to drive it by hand.
fn lone_gateway() -> Gateway {
    let vault = vault::Vault::issue(4, &mut Prng::new(1));
    let cfg = GatewayCfg {
        strategy: Strategy::Robust,
        network: 10,
        ledger: 11,
        net_timeout_ms: 300,
        key_ttl_ms: 60_000,
        fee_bps: 290,
        amount_limit: 50_000,
        velocity_max: 8,
    };
    Gateway::new(cfg, vault)
}

#[test]
fn a_key_reused_for_another_request_is_refused_and_a_repeat_is_in_progress() {
    let mut g = lone_gateway();
    let vault = vault::Vault::issue(4, &mut Prng::new(1));
    let (tok, country) = (vault.tokens[0], vault.cards[0].country);
    let order = OrderRef { merchant: 0, order: 1 };
    let (mut rng, mut metrics) = (Prng::new(2), Metrics::new(100));
    let mut fx: Effects<Msg, Obs> = Effects::default();
    let pay = |amount| Msg::Pay { order, key: Some(7), token: tok, amount, country, attempt: 0 };
    {
        let mut ctx = Ctx::detached(crate::sim::time::SimTime::ZERO, 3, &mut rng, &mut metrics, &mut fx);
        g.on_message(0, pay(1_000), &mut ctx);
        g.on_message(0, pay(1_000), &mut ctx);
        g.on_message(0, pay(2_000), &mut ctx);
    }
    assert_eq!(g.payments.len(), 1, "one payment for the key");
    let to_network = fx.sends.iter().filter(|(to, m)| *to == 10 && matches!(m, Msg::Auth { .. })).count();
    assert_eq!(to_network, 1);
    assert!(fx.sends.iter().any(|(_, m)| matches!(m, Msg::InProgress { .. })));
    assert!(fx.sends.iter().any(|(_, m)| matches!(m, Msg::KeyReused { .. })));
}

#[test]
fn charged_once_counts_live_charges_per_card_and_order() {
    let order = OrderRef { merchant: 1, order: 5 };
    let money = |reference, amount| Obs::Money { reference, card: 3, order, amount };
    let mut c = ChargedOnce::default();
    let t = crate::sim::time::SimTime::ZERO;
    assert!(c.observe(t, &money(1, 500)).is_none());
    assert!(c.observe(t, &money(1, -500)).is_none(), "refunded");
    assert!(c.observe(t, &money(2, 500)).is_none(), "a second try after a full refund is one charge");
    let v = c.observe(t, &money(3, 500)).expect("two live charges");
    assert!(v.contains("p2") && v.contains("p3"), "{v}");
}

#[test]
fn ledger_balanced_catches_a_one_sided_write_and_a_missing_entry() {
    use crate::check::Property;
    use crate::sim::time::{SimDuration, SimTime};
    let order = OrderRef { merchant: 0, order: 1 };
    let metrics = Metrics::new(100);
    let end = RunEnd { now: SimTime::from_ms(20_000), metrics: &metrics, disruption: None };
    let f = payment::fee(10_000, 290) as i64;
    let entry = vec![(Account::Clearing, 10_000), (Account::Merchant(0), -(10_000 - f)), (Account::Fees, -f)];
    let fresh = || LedgerBalanced::new(290, SimTime::ZERO, SimDuration::from_ms(1_000));
    let t = SimTime::from_ms(1);
    // Balanced and matching the network.
    let mut ok = fresh();
    ok.observe(t, &Obs::Money { reference: 1, card: 0, order, amount: 10_000 });
    ok.observe(t, &Obs::Posted { postings: entry.clone() });
    assert!(ok.finish(&end).is_none());
    // One side applied twice.
    let mut twice = fresh();
    twice.observe(t, &Obs::Money { reference: 1, card: 0, order, amount: 10_000 });
    twice.observe(t, &Obs::Posted { postings: entry.clone() });
    twice.observe(t, &Obs::Posted { postings: vec![(Account::Clearing, 10_000)] });
    assert!(twice.finish(&end).unwrap().contains("do not balance"));
    // Money moved that the books never heard of.
    let mut missing = fresh();
    missing.observe(t, &Obs::Money { reference: 1, card: 0, order, amount: 10_000 });
    assert!(missing.finish(&end).unwrap().contains("network moved"));
}

#[test]
fn terminal_state_holds_payments_to_their_deadline() {
    use crate::check::Property;
    use crate::sim::time::{SimDuration, SimTime};
    let metrics = Metrics::new(100);
    let order = OrderRef { merchant: 0, order: 1 };
    let mut c = TerminalState::new(SimDuration::from_ms(1_000), SimTime::ZERO, SimDuration::from_ms(500));
    c.observe(SimTime::from_ms(10), &Obs::Created { payment: 1, order, card: 0, amount: 100 });
    c.observe(SimTime::from_ms(20), &Obs::Created { payment: 2, order, card: 0, amount: 100 });
    c.observe(SimTime::from_ms(30), &Obs::Transition { payment: 1, from: State::Created, to: State::Failed });
    let end = RunEnd { now: SimTime::from_ms(5_000), metrics: &metrics, disruption: None };
    let v = c.finish(&end).expect("p2 never finished");
    assert!(v.contains("p2") && v.contains("created"), "{v}");
}

#[test]
fn views_show_payments_ledger_and_audit() {
    let mut sim = with("keys-double-entry", 1, &[], None).build(&BuildOptions::default()).unwrap();
    sim.run_to_end();
    let views = sim.views();
    let tables = views.iter().filter(|v| matches!(v, View::Table(t) if !t.rows.is_empty())).count();
    let logs = views.iter().filter(|v| matches!(v, View::Log(l) if !l.lanes[0].entries.is_empty())).count();
    assert_eq!((tables, logs), (2, 2));
    let text = format!("{views:?}");
    assert!(text.contains("trial balance") && text.contains("→ captured"));
    // No card number in any view: no run of 13 or more digits anywhere.
    let longest = text.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    assert!(longest < 13, "a PAN-like number in the views");
}

#[test]
fn estimates_follow_the_parameters() {
    let a = (DEF.estimates)(&with("keys-double-entry", 1, &[], None));
    let b = (DEF.estimates)(&with("keys-double-entry", 1, &[("lost_reply_pct", 20)], None));
    assert_ne!(a, b);
}
