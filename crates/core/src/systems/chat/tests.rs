//! Tests of the chat system: each naive design fails its check for the reason the design
//! predicts (read from the world at the end of the run, not only from the verdict), the
//! robust design holds over seed sweeps with and without swarm faults, the store and the
//! device handle retries, copies and gaps as described, and each check flags a hand-made
//! violation.

use super::*;
use crate::check::{CheckResult, RunEnd};
use crate::metrics::Metrics;
use crate::sim::node::{Actor, Ctx, Effects};
use crate::sim::rng::Prng;
use crate::sim::time::SimTime;
use crate::system::{run_validated, sweep_scenario};
use msg::{Item, MsgId};

fn scenario(strategy: &str) -> Scenario {
    let mut spec = DEF.default_spec();
    spec.strategy = Some(strategy.to_string());
    Scenario::validate(&DEF, &spec).expect("valid default scenario")
}

fn failing(checks: &[CheckResult]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok).map(|c| c.name.clone()).collect()
}

fn ended(strategy: &str) -> World<Node> {
    let mut w = build_world(&scenario(strategy), &BuildOptions::default()).unwrap();
    w.run_to_end();
    w
}

#[test]
fn online_only_loses_what_offline_devices_were_pushed_and_never_recovers_it() {
    let w = ended("online-only");
    let r = w.checks().results();
    let f = failing(&r);
    assert!(f.contains(&"delivered-exactly-once".to_string()), "{r:?}");
    assert!(f.contains(&"conversation-order".to_string()), "{r:?}");
    // The mechanism: the store kept nothing to sync from, and devices end the run behind
    // the store's head although they are all back online and connected.
    let Some(Node::Store(store)) = w.nodes().iter().find(|n| matches!(n, Node::Store(_))) else { panic!() };
    assert!(store.tail.iter().all(|t| t.is_empty()));
    let mut behind = 0;
    for n in w.nodes() {
        if let Node::Device(d) = n {
            assert!(matches!(d.link, device::Link::Connected { .. }), "everyone is back in the app at the end");
            for &c in &d.cfg.convs {
                if d.shown.get(&c).copied().unwrap_or(0) < store.head[c as usize] {
                    behind += 1;
                }
            }
        }
    }
    assert!(behind > 0, "some device never saw the last messages of a conversation");
}

#[test]
fn event_presence_keeps_a_crashed_gateways_devices_online() {
    let w = ended("persist-events");
    let r = w.checks().results();
    assert_eq!(failing(&r), vec!["presence-accurate".to_string()], "{r:?}");
    let detail = &r.iter().find(|c| c.name == "presence-accurate").unwrap().detail;
    assert!(detail.contains("online") && detail.contains("truly disconnected"), "{detail}");
    // The mechanism: presence still counts connections that gateway-0 held when it
    // crashed; no gateway holds that many sessions of the device now.
    let Some(Node::Presence(p)) = w.nodes().iter().find(|n| matches!(n, Node::Presence(_))) else { panic!() };
    let stale = (0..p.conns.len()).filter(|&d| {
        let held =
            w.nodes().iter().filter(|n| matches!(n, Node::Gateway(g) if g.sessions.contains_key(&(d as u32)))).count();
        p.conns[d] as usize > held
    });
    assert!(stale.count() > 0, "some device's connection count outlived its crashed gateway");
}

#[test]
fn heartbeat_presence_and_persisted_delivery_hold_by_default() {
    let r = run_validated(&scenario("persist-heartbeat"), &BuildOptions::default()).unwrap();
    assert!(failing(&r.checks).is_empty(), "{:?}", r.checks);
    assert!(r.checks.iter().all(|c| c.samples > 0));
}

#[test]
fn robust_design_holds_over_seeds_plain_and_with_swarm_faults() {
    for swarm in [false, true] {
        for seed in 1..=12 {
            let s = sweep_scenario(&scenario("persist-heartbeat"), seed, swarm);
            let r = run_validated(&s, &BuildOptions::default()).unwrap();
            assert!(failing(&r.checks).is_empty(), "seed {seed} swarm {swarm}: {:?}\n{}", r.checks, r.link);
        }
    }
}

#[test]
fn default_runs_are_cheap() {
    for st in DEF.strategies {
        let r = run_validated(&scenario(st.id), &BuildOptions::default()).unwrap();
        assert!(r.events < 50_000, "{}: {} events", st.id, r.events);
    }
}

fn ctx_parts() -> (Prng, Metrics, Effects<Msg, Obs>) {
    (Prng::new(1), Metrics::new(100), Effects::default())
}

#[test]
fn the_store_stores_a_retried_message_once() {
    let mut store = store::Store::new(9, 1, 4, 100);
    let (mut rng, mut m, mut fx) = ctx_parts();
    let id = MsgId { device: 2, n: 0 };
    for _ in 0..2 {
        let mut ctx = Ctx::detached(SimTime::from_ms(1), 8, &mut rng, &mut m, &mut fx);
        store.on_message(5, Msg::Append { conv: 0, id, sent_at: SimTime::ZERO }, &mut ctx);
    }
    assert_eq!(store.head[0], 1);
    assert_eq!(store.tail[0].len(), 1);
    let acks: Vec<u64> = fx
        .sends
        .iter()
        .filter_map(|(_, m)| if let Msg::Appended { item } = m { Some(item.seq) } else { None })
        .collect();
    assert_eq!(acks, vec![1, 1], "the retry gets the first copy's number back");
    assert_eq!(fx.sends.iter().filter(|(_, m)| matches!(m, Msg::Publish { .. })).count(), 1);
}

#[test]
fn a_device_drops_copies_and_holds_messages_behind_a_gap() {
    let s = scenario("persist-heartbeat");
    let w = build_world(&s, &BuildOptions::default()).unwrap();
    let Node::Device(mut d) = w.nodes()[0].clone() else { panic!() };
    d.link = device::Link::Connected { gw: 0 };
    let gw = d.cfg.gateways[0];
    let conv = d.cfg.convs[0];
    let item = |seq| Item { conv, seq, id: MsgId { device: 1, n: seq as u32 }, sent_at: SimTime::ZERO };
    let (mut rng, mut m, mut fx) = ctx_parts();
    for seq in [2, 1, 1, 3] {
        let mut ctx = Ctx::detached(SimTime::from_ms(10), 0, &mut rng, &mut m, &mut fx);
        d.on_message(gw, Msg::Push { item: item(seq) }, &mut ctx);
    }
    let shown: Vec<u64> =
        fx.obs.iter().filter_map(|o| if let Obs::Displayed { item, .. } = o { Some(item.seq) } else { None }).collect();
    assert_eq!(shown, vec![1, 2, 3], "#2 waits for #1; the second #1 is a copy");
    assert_eq!(d.copies_dropped, 1);
    assert!(
        fx.sends.iter().any(|(to, m)| *to == gw && matches!(m, Msg::SyncReq { after: 0, .. })),
        "the gap asks for a sync"
    );
}

fn names() -> Vec<String> {
    ["a-phone", "b-phone", "gateway-0"].map(String::from).to_vec()
}

fn end(at_ms: u64, m: &Metrics) -> RunEnd<'_> {
    RunEnd { now: SimTime::from_ms(at_ms), metrics: m, disruption: None }
}

#[test]
fn exactly_once_flags_a_copy_and_a_missing_display() {
    let conv_names = vec!["a–b".to_string()];
    let mk = || checks::DeliveredExactlyOnce::new(names(), conv_names.clone(), vec![vec![0, 1]], vec![false, false]);
    let item = Item { conv: 0, seq: 1, id: MsgId { device: 0, n: 0 }, sent_at: SimTime::ZERO };
    let t = SimTime::from_ms(1);
    let mut c = mk();
    assert!(c.observe(t, &Obs::Acked { item }).is_none());
    assert!(c.observe(t, &Obs::Displayed { device: 1, item }).is_none());
    assert!(c.observe(t, &Obs::Displayed { device: 1, item }).is_some_and(|d| d.contains("second time")));
    let m = Metrics::new(100);
    let mut c = mk();
    c.observe(t, &Obs::Acked { item });
    c.observe(t, &Obs::Displayed { device: 0, item });
    assert!(c.finish(&end(10, &m)).is_some_and(|d| d.contains("never reached b-phone")));
    // The same message id under a second sequence number was stored twice.
    let mut c = mk();
    c.observe(t, &Obs::Acked { item });
    assert!(c.observe(t, &Obs::Acked { item: Item { seq: 2, ..item } }).is_some_and(|d| d.contains("stored twice")));
}

#[test]
fn order_flags_a_gap_and_a_step_back() {
    let mut c = checks::ConversationOrder::new(names(), vec!["a–b".into()]);
    let item = |seq| Item { conv: 0, seq, id: MsgId { device: 0, n: 0 }, sent_at: SimTime::ZERO };
    let t = SimTime::from_ms(1);
    assert!(c.observe(t, &Obs::Displayed { device: 1, item: item(1) }).is_none());
    assert!(c.observe(t, &Obs::Displayed { device: 1, item: item(3) }).is_some_and(|d| d.contains("skipping #2..#2")));
    assert!(c.observe(t, &Obs::Displayed { device: 1, item: item(2) }).is_some_and(|d| d.contains("backwards")));
}

#[test]
fn presence_check_uses_the_plan_for_truth() {
    let roles = ["device", "device", "gateway"];
    let faults = vec![TimedFault { at_ms: 1_000, fault: Fault::Crash { node: "gateway-0".into() } }];
    let bound = SimDuration::from_ms(1_600);
    let mut c = presence_check::PresenceAccurate::new(names(), &roles, 2, bound, &faults);
    let at = SimTime::from_ms;
    assert!(c.observe(at(10), &Obs::Session { device: 0, gateway: Some(2) }).is_none());
    assert!(c.observe(at(12), &Obs::Presence { device: 0, online: true }).is_none());
    // The gateway crashes at 1 s; nothing is observed about it. At 2 s presence is still
    // within the bound; at 3 s the stretch since the crash is past it.
    assert!(c.observe(at(2_000), &Obs::Presence { device: 1, online: false }).is_none());
    let bad = c.observe(at(3_000), &Obs::Presence { device: 1, online: false });
    assert!(bad.is_some_and(|d| d.contains("a-phone online from 1000")));
    let m = Metrics::new(100);
    // A presence that follows the truth within the bound passes.
    let mut ok = presence_check::PresenceAccurate::new(names(), &roles, 2, bound, &faults);
    ok.observe(at(10), &Obs::Session { device: 0, gateway: Some(2) });
    ok.observe(at(12), &Obs::Presence { device: 0, online: true });
    assert!(ok.observe(at(2_100), &Obs::Presence { device: 0, online: false }).is_none());
    assert!(ok.finish(&end(5_000, &m)).is_none());
}
