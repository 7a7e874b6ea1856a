//! Tests of IoT ingestion: each naive design failing for its mechanism (a queue grown past
//! its budget during the burst; shed readings a bufferless device forgot; a re-sent copy
//! written twice; a forged reading in the store and the real device's readings then
//! refused by its poisoned replay window), the robust design holding with the same
//! faults, and the checks on hand-made histories.

use super::checks::{ForgedRejected, MemoryBound, NoLossNoDup};
use super::device::Device;
use super::msg::{LetGo, Obs};
use super::*;
use crate::check::{CheckResult, Property, RunEnd};
use crate::metrics::Metrics;
use crate::scenario::params::ParamValue;
use crate::system::run_validated;
use crate::view::View;
use std::collections::BTreeMap;

fn scenario_with(strategy: &str, params: &[(&str, ParamValue)], faults: Option<Vec<TimedFault>>) -> Scenario {
    let given: BTreeMap<String, ParamValue> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut spec = DEF.spec_with(given).expect("params in bounds");
    spec.strategy = Some(strategy.to_string());
    if let Some(f) = faults {
        spec.faults = f;
    }
    Scenario::validate(&DEF, &spec).expect("valid scenario")
}

fn scenario(strategy: &str) -> Scenario {
    scenario_with(strategy, &[], None)
}

fn failing(checks: &[CheckResult]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok).map(|c| c.name.clone()).collect()
}

fn finished(s: &Scenario) -> World<Node> {
    let mut w = build_world(s, &BuildOptions::default()).unwrap();
    w.run_to_end();
    w.finish();
    w
}

fn result(w: &World<Node>, check: &str) -> CheckResult {
    w.checks().results().into_iter().find(|c| c.name == check).expect("declared check")
}

fn gateways(w: &World<Node>) -> Vec<&gateway::Gateway> {
    w.nodes()
        .iter()
        .filter_map(|n| match n {
            Node::Gateway(g) => Some(&**g),
            _ => None,
        })
        .collect()
}

fn the_writer(w: &World<Node>) -> &writer::Writer {
    w.nodes()
        .iter()
        .find_map(|n| match n {
            Node::Writer(x) => Some(&**x),
            _ => None,
        })
        .expect("a writer")
}

fn fleets(w: &World<Node>) -> Vec<&fleet::Fleet> {
    w.nodes()
        .iter()
        .filter_map(|n| match n {
            Node::Fleet(f) => Some(&**f),
            _ => None,
        })
        .collect()
}

#[test]
fn strategies_parse_from_their_ids_only() {
    for st in DEF.strategies {
        assert!(Strategy::from_id(st.id).is_some(), "{}", st.id);
    }
    assert_eq!(Strategy::from_id("bounded"), None);
}

#[test]
fn a_device_is_24_bytes() {
    assert_eq!(std::mem::size_of::<Device>(), 24);
}

/// Unbounded: the queue passes its budget during the burst (2 s – 3.5 s), when arrivals
/// exceed the gateways' service rate, and it really holds that many readings — nothing
/// was shed, because nothing ever is.
#[test]
fn an_unbounded_queue_outgrows_its_budget_in_the_burst() {
    let s = scenario("unbounded-queue");
    let mut w = build_world(&s, &BuildOptions::default()).unwrap();
    let budget = 32 * 1_024;
    let mut crossed_at = None;
    for t in (10..=4_000).step_by(10) {
        w.run_until(SimTime::from_ms(t));
        if gateways(&w).iter().any(|g| g.queued_bytes() > budget) {
            crossed_at = Some(t);
            break;
        }
    }
    let t = crossed_at.expect("a gateway queue passes the budget");
    assert!((2_000..3_600).contains(&t), "crossed at {t} ms, outside the burst");
    assert!(!result(&w, "memory-bound").ok, "the check saw it");
    assert!(gateways(&w).iter().all(|g| g.shed == 0));
    w.run_to_end();
    w.finish();
    let peak = gateways(&w).iter().map(|g| g.peak_bytes).max().unwrap();
    assert!(peak > 4 * budget, "the burst piles up far more than the budget: {peak} B");
    // The same burst under the robust design: the queue stays within budget by shedding.
    let w = finished(&scenario("buffer-retry"));
    assert!(result(&w, "memory-bound").ok);
    assert!(gateways(&w).iter().map(|g| g.shed).sum::<u64>() > 0, "the burst was shed at the gateway");
}

/// No device buffer, no faults at all: the only readings lost are the ones the bounded
/// gateways shed in the burst — the device had already forgotten each.
#[test]
fn without_a_buffer_every_shed_reading_is_lost() {
    let s = scenario_with("no-device-buffer", &[("forged_per_s", ParamValue::Int(0))], Some(Vec::new()));
    let w = finished(&s);
    let shed: u64 = gateways(&w).iter().map(|g| g.shed).sum();
    assert!(shed > 0, "the burst overflows the queues");
    let r = result(&w, "no-loss-no-dup");
    assert!(!r.ok);
    let lost: u64 = r.detail.split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(lost, shed, "{}", r.detail);
    assert!(r.detail.contains("was sent (no buffer"), "{}", r.detail);
    // With buffers the same shedding loses nothing: the devices heard "busy" and retried.
    let s = scenario_with("buffer-retry", &[("forged_per_s", ParamValue::Int(0))], Some(Vec::new()));
    let w = finished(&s);
    assert!(gateways(&w).iter().map(|g| g.shed).sum::<u64>() > 0);
    assert!(result(&w, "no-loss-no-dup").ok, "{}", result(&w, "no-loss-no-dup").detail);
    assert!(fleets(&w).iter().map(|f| f.busy).sum::<u64>() > 0);
}

/// The robust design under the default faults (burst, gateway crash, flap, loss): every
/// check holds, and each mechanism was exercised — shed with busy, retries, duplicates
/// dropped by the writer.
#[test]
fn buffer_retry_holds_under_the_default_faults_and_uses_every_mechanism() {
    let r = run_validated(&scenario("buffer-retry"), &BuildOptions::default()).unwrap();
    assert!(failing(&r.checks).is_empty(), "{:?}", r.checks);
    let w = finished(&scenario("buffer-retry"));
    assert!(fleets(&w).iter().map(|f| f.resent).sum::<u64>() > 0, "devices re-sent");
    assert!(the_writer(&w).duplicates > 0, "the writer dropped duplicate copies");
    assert!(gateways(&w).iter().map(|g| g.forged_rejected).sum::<u64>() > 0);
}

/// Without deduplication a re-sent copy is written a second time: the copy exists in the
/// broker log twice (the first append's acknowledgement was lost in the crash or to
/// packet loss) and the writer, dropping nothing, writes both.
#[test]
fn without_dedup_a_resent_copy_is_written_twice() {
    let s = scenario_with("buffer-retry", &[("dedup", ParamValue::Text("none".into()))], None);
    let w = finished(&s);
    let r = result(&w, "no-loss-no-dup");
    assert!(!r.ok && r.detail.contains("written to the store twice"), "{}", r.detail);
    assert_eq!(the_writer(&w).duplicates, 0);
    // Find the doubled reading in the broker: two records with the same (device, seq).
    let broker = w
        .nodes()
        .iter()
        .find_map(|n| match n {
            Node::Broker(b) => Some(&**b),
            _ => None,
        })
        .unwrap();
    let words: Vec<&str> = r.detail.split_whitespace().collect();
    let device: u32 = words[1].trim_end_matches("'s").parse().unwrap();
    let seq: u32 = words[3].trim_start_matches('#').parse().unwrap();
    let p = broker::partition_of(device, broker.logs.len() as u32) as usize;
    let log = &broker.logs[p];
    let copies = log
        .read(log.log_start(), log.log_end(), usize::MAX)
        .unwrap()
        .iter()
        .filter(|rec| rec.value.device == device && rec.value.seq == seq)
        .count();
    // Retention may have deleted old segments; when the copies are still there, both are.
    assert!(copies == 0 || copies >= 2, "{copies} copies of d{device}#{seq}");
}

/// Trusting the claimed id: a forged reading is written, and its far-ahead number slides
/// the device's replay window so that the device's next real readings are refused as
/// "too old" — the attacker silences a real meter.
#[test]
fn trusting_device_ids_lets_forgeries_in_and_silences_the_real_device() {
    let s = scenario_with("buffer-retry", &[("auth", ParamValue::Text("device-id".into()))], None);
    let w = finished(&s);
    let r = result(&w, "forged-rejected");
    assert!(!r.ok && r.detail.contains("forged reading was accepted"), "{}", r.detail);
    assert!(gateways(&w).iter().all(|g| g.forged_rejected == 0));
    assert!(the_writer(&w).too_old > 0, "real readings refused behind a forged sequence number");
    assert!(!result(&w, "no-loss-no-dup").ok);
}

#[test]
fn no_loss_check_judges_what_devices_let_go_of() {
    let mut c = NoLossNoDup::new(4, SimTime::from_ms(9_000));
    let t = SimTime::from_ms(1);
    for seq in 0..4 {
        c.observe(t, &Obs::Generated { device: 1, seq });
    }
    c.observe(t, &Obs::Delivered { device: 1, seq: 0, how: LetGo::Acked });
    c.observe(t, &Obs::Stored { device: 1, seq: 0, value: 1 });
    c.observe(t, &Obs::Overflowed { device: 1, seq: 1 }); // known loss: not judged
    c.observe(SimTime::from_ms(9_500), &Obs::Delivered { device: 1, seq: 2, how: LetGo::Acked }); // late
    assert_eq!(c.observe(t, &Obs::Stored { device: 1, seq: 3, value: 1 }), None); // pending, stored: fine
    let metrics = Metrics::new(100);
    let end = RunEnd { now: SimTime::from_ms(10_000), metrics: &metrics, disruption: None };
    assert_eq!(c.clone().finish(&end), None);
    c.observe(t, &Obs::Delivered { device: 1, seq: 1, how: LetGo::Sent });
    let lost = c.clone().finish(&end).expect("a sent reading that is not stored is lost");
    assert!(lost.starts_with("1 delivered") && lost.contains("reading #1"), "{lost}");
    assert!(c.observe(t, &Obs::Stored { device: 1, seq: 0, value: 1 }).unwrap().contains("twice"));
}

#[test]
fn memory_check_rebuilds_each_queue_from_its_history() {
    let mut c = MemoryBound::new(128);
    let t = SimTime::from_ms(1);
    assert_eq!(c.observe(t, &Obs::Queue { gateway: 0, added: 64, removed: 0 }), None);
    assert_eq!(c.observe(t, &Obs::Queue { gateway: 1, added: 128, removed: 0 }), None);
    assert_eq!(c.observe(t, &Obs::Queue { gateway: 0, added: 64, removed: 0 }), None);
    c.observe(t, &Obs::GatewayStarted { gateway: 0 }); // a restart: memory is empty again
    assert_eq!(c.observe(t, &Obs::Queue { gateway: 0, added: 128, removed: 0 }), None);
    let over = c.observe(t, &Obs::Queue { gateway: 1, added: 64, removed: 0 }).expect("over budget");
    assert!(over.contains("gateway-1"), "{over}");
}

#[test]
fn forged_check_knows_what_each_device_made() {
    let mut c = ForgedRejected::new(10);
    let t = SimTime::from_ms(1);
    c.observe(t, &Obs::Generated { device: 3, seq: 0 });
    c.observe(t, &Obs::Generated { device: 3, seq: 1 });
    assert_eq!(c.observe(t, &Obs::Stored { device: 3, seq: 1, value: 5 }), None);
    assert!(c.observe(t, &Obs::Stored { device: 3, seq: 2, value: 5 }).is_some());
    assert!(c.observe(t, &Obs::Stored { device: 4, seq: 0, value: 5 }).is_some());
}

#[test]
fn estimates_follow_the_parameters() {
    let a = (DEF.estimates)(&scenario("buffer-retry"));
    let b = (DEF.estimates)(&scenario_with("buffer-retry", &[("gateway_rate", ParamValue::Int(10_000))], None));
    assert_ne!(a, b);
}

/// The page's views: queue depths against the budget and the rates (series), the devices
/// furthest behind and the gateways (tables), the partitions (log). After a flap that cut
/// fleet-0 off, its devices are behind while the flap lasts.
#[test]
fn views_show_queues_rates_lag_and_partitions() {
    let s = scenario("buffer-retry");
    let mut w = build_world(&s, &BuildOptions::default()).unwrap();
    w.run_until(SimTime::from_ms(7_000)); // fleet-0 is cut off from 6.5 s to 7.1 s
    let views = views::views(&w);
    let shapes: Vec<&str> = views
        .iter()
        .map(|v| match v {
            View::Series(_) => "series",
            View::Table(_) => "table",
            View::Log(_) => "log",
            _ => "other",
        })
        .collect();
    assert_eq!(shapes, ["series", "series", "table", "table", "log"]);
    let View::Series(queues) = &views[0] else { unreachable!() };
    assert_eq!(queues.lines.len(), 3, "two gateways and the budget line");
    assert!(queues.lines[0].values.iter().any(|&kb| kb > 0.0));
    let View::Table(lag) = &views[2] else { unreachable!() };
    assert!(!lag.rows.is_empty());
    assert!(lag.rows.iter().any(|r| r[1] == "fleet-0"), "fleet-0's devices are behind during the flap");
    let View::Log(parts) = &views[4] else { unreachable!() };
    assert_eq!(parts.lanes.len(), 4);
    assert!(parts.lanes.iter().all(|l| !l.entries.is_empty()));
}
