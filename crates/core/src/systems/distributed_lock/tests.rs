//! Tests of the distributed-lock system: determinism, the naive strategies failing the
//! check they are meant to fail, robust strategies passing seed sweeps with and without
//! swarm faults, the Raft log against a brute-force replay, a golden trace, and each check
//! flagging a hand-made violation. The mechanism tests stop a run at the event where a
//! check first fails and read the world there, to show the failure has the cause the design
//! predicts: a blind DEL of a live lock, a paused writer erasing updates, a lock server's
//! clock jump, a token counter that forgot its value.

use super::*;
use crate::sim::world::World;
use crate::system::testing::{self, failing};
use crate::system::BuildOptions;
use crate::system::{run_validated, sweep_scenario};

fn scenario(strategy: &str) -> Scenario {
    testing::scenario(&DEF, strategy, DEF.default_spec().seed, &[], None)
}

/// Brute-force twin of the replicated lock: replay the committed commands with a plain
/// sequential state machine; the grants it makes, with their tokens (log indices).
fn replay(log: &[(u64, msg::Cmd)]) -> Vec<(msg::Lease, u64)> {
    let mut holder: Option<msg::Lease> = None;
    let mut grants = Vec::new();
    for &(index, cmd) in log {
        match cmd {
            msg::Cmd::Acquire(l) if holder.is_none() => {
                holder = Some(l);
                grants.push((l, index));
            }
            msg::Cmd::Release(l) | msg::Cmd::Expire(l) if holder == Some(l) => holder = None,
            _ => {}
        }
    }
    grants
}

/// The consensus strategy under swarm faults, with Figure 3's four Raft invariants
/// (`blocks::raft::RaftInvariants`) judged over all replicas after every kernel event and
/// every applied entry fed to the applied history. Then the history, replayed by a plain
/// state machine, must grant exactly the tokens the workers wrote with.
#[test]
fn raft_invariants_hold_every_step_and_grants_match_a_sequential_replay() {
    use crate::blocks::raft::{Payload, RaftInvariants};
    let mut compacted = 0;
    for seed in 0..12 {
        let s = sweep_scenario(&scenario("consensus"), seed, true);
        let mut w = build_world(&s, &BuildOptions::default()).unwrap();
        let mut inv = RaftInvariants::new();
        // How much of each replica's applied trail has been fed to the checker.
        let mut fed = vec![0; w.nodes().len()];
        while w.step() {
            for (id, n) in w.nodes().iter().enumerate() {
                if let Node::Replica(r) = n {
                    for (i, e) in &r.applied_trail[fed[id]..] {
                        inv.applied(id as u32, *i, e).unwrap_or_else(|b| panic!("seed {seed}: {b}"));
                    }
                    fed[id] = r.applied_trail.len();
                }
            }
            let rafts: Vec<_> =
                w.nodes().iter().filter_map(|n| if let Node::Replica(r) = n { Some(&r.raft) } else { None }).collect();
            compacted = compacted.max(rafts.iter().map(|r| r.log.start()).max().unwrap());
            inv.check(&rafts).unwrap_or_else(|b| panic!("seed {seed} at {}: {b}", w.now()));
        }
        let history: Vec<(u64, msg::Cmd)> = (1..)
            .map_while(|i| inv.applied_entry(i).map(|e| (i, e.payload.clone())))
            .filter_map(|(i, p)| if let Payload::Cmd(c) = p { Some((i, c)) } else { None })
            .collect();
        let grants = replay(&history);
        assert!(grants.windows(2).all(|g| g[0].1 < g[1].1));
        for (id, n) in w.nodes().iter().enumerate() {
            if let Node::Worker(wk) = n {
                for s in wk.spans.iter().filter(|s| s.outcome == "accepted") {
                    assert!(
                        grants.iter().any(|(l, t)| *t == s.token && l.worker == id as u32),
                        "seed {seed}: worker {id} wrote with token {} the replay never granted it",
                        s.token
                    );
                }
            }
        }
    }
    assert!(compacted > 0, "no replica ever took a snapshot");
}

#[test]
fn storage_fencing_rule_matches_brute_force() {
    // Twin: accept iff the token is at least every token accepted before, and, for a write,
    // above every token written before.
    let mut rng = crate::sim::Prng::new(7);
    let mut st = storage::Storage::new(true);
    let mut history: Vec<(u64, bool)> = Vec::new();
    for _ in 0..2_000 {
        let token = rng.between(0, 40);
        let write = rng.chance(0.5);
        let twin = history.iter().all(|&(t, w)| token >= t && (!write || !w || token > t));
        assert_eq!(st.admits(token, write), twin);
        if twin {
            history.push((token, write));
            st.max_token = st.max_token.max(token);
            if write {
                st.last_write_token = token;
            }
        }
    }
}

#[test]
fn golden_trace_of_the_default_scenario() {
    let mut sim =
        build(&scenario("setnx-blind-del"), &BuildOptions { keep_trace: 40, ..BuildOptions::default() }).unwrap();
    for _ in 0..40 {
        sim.step();
    }
    let events = sim.recent_trace();
    let rendered = crate::trace::render(&events, &sim.node_names());
    // Right-aligned sequence numbers would confuse expect-test's indentation stripping.
    let text: String = rendered.lines().map(|l| format!("{}\n", l.trim_start())).collect();
    expect_test::expect![[r#"
        5      0.000ms worker-2   timer 17
        6      0.616ms lock-0     <- worker-2 acquire #d170
        7      1.349ms worker-2   <- lock-0 granted
        8      1.886ms storage    <- worker-2 read token 0
        9      2.602ms worker-2   <- storage value 0
        10      3.000ms worker-0   timer 17
        11      3.705ms lock-0     <- worker-0 acquire #c01f
        12      4.512ms worker-0   <- lock-0 busy
        13      7.000ms worker-1   timer 17
        14      7.662ms lock-0     <- worker-1 acquire #dc38
        15      8.807ms worker-1   <- lock-0 busy
        16     10.512ms worker-0   timer 49
        17     11.124ms lock-0     <- worker-0 acquire #00cb
        18     11.961ms worker-0   <- lock-0 busy
        19     26.807ms worker-1   timer 49
        20     27.410ms lock-0     <- worker-1 acquire #f688
        21     28.145ms worker-1   <- lock-0 busy
        22     34.961ms worker-0   timer 81
        23     35.536ms lock-0     <- worker-0 acquire #0bdb
        24     36.076ms worker-0   <- lock-0 busy
        25     42.602ms worker-2   timer 67
        26     43.326ms storage    <- worker-2 write 1 token 0
        27     44.481ms worker-2   <- storage write ok
        28     45.098ms lock-0     <- worker-2 release #d170
        29     47.145ms worker-1   timer 81
        30     47.687ms lock-0     <- worker-1 acquire #f4a6
        31     48.236ms worker-1   <- lock-0 granted
        32     49.387ms storage    <- worker-1 read token 0
        33     50.000ms worker-2   timer 34
        34     50.060ms worker-1   <- storage value 1
        35     51.076ms worker-0   timer 113
        36     51.838ms lock-0     <- worker-0 acquire #a2f0
        37     52.652ms worker-0   <- lock-0 busy
        38     53.000ms worker-0   timer 34
        39     57.000ms worker-1   timer 34
    "#]]
    .assert_eq(&text);
}

#[test]
fn each_check_flags_a_hand_made_violation() {
    let l = |worker, nonce| msg::Lease { worker, nonce };
    let ms = SimTime::from_ms;
    let names: Vec<String> = (0..3).map(|i| format!("worker-{i}")).collect();
    let write = |lease, value| Obs::Access { lease, token: 0, write: true, accepted: true, value };
    // Two workers read 7; both writes of 8 land: the second erases the first.
    let mut p = checks::NoStaleWrite::new(names.clone());
    for v in 1..=7 {
        assert!(p.observe(ms(v), &write(l(2, v), v)).is_none());
    }
    assert!(p.observe(ms(8), &write(l(1, 8), 8)).is_none());
    assert!(p.observe(ms(8), &write(l(1, 8), 8)).is_none(), "a duplicate of the same write is no update");
    assert_eq!(
        p.observe(ms(9), &write(l(0, 9), 8)).as_deref(),
        Some("worker-0 wrote 8 computed from 7, overwriting worker-1's 8 (update lost)")
    );
    // Writes must follow grant order, whatever tokens say.
    let mut p = checks::TokensIncrease::new(names.clone());
    assert!(p.observe(ms(1), &Obs::Grant { lease: l(0, 1), token: 5 }).is_none());
    assert!(p.observe(ms(2), &Obs::Grant { lease: l(1, 2), token: 2 }).is_none());
    assert!(p.observe(ms(3), &write(l(1, 2), 1)).is_none());
    assert_eq!(
        p.observe(ms(4), &write(l(0, 1), 2)).as_deref(),
        Some("storage accepted worker-0's write (token 5, granted at 1.000ms) after worker-1's, whose lease came later (token 2, granted at 2.000ms)")
    );
    // Overlapping holds in true time; a higher token ends a fenced hold, a lower one does not.
    let mut p = checks::SingleHolder::new(names.clone(), vec![Vec::new(); 3]);
    let hold = |lease, token, exp| Obs::Holding { lease, token, expires: ms(exp) };
    assert!(p.observe(ms(1), &hold(l(0, 1), 0, 300)).is_none());
    assert!(p.observe(ms(200), &hold(l(1, 2), 0, 500)).unwrap().contains("worker-0 still holds it"));
    let mut p = checks::SingleHolder::new(names.clone(), vec![Vec::new(); 3]);
    assert!(p.observe(ms(0), &Obs::Grant { lease: l(0, 1), token: 7 }).is_none());
    assert!(p.observe(ms(1), &hold(l(0, 1), 7, 300)).is_none());
    assert!(p.observe(ms(100), &Obs::Grant { lease: l(1, 2), token: 8 }).is_none());
    assert!(p.observe(ms(101), &hold(l(1, 2), 8, 400)).is_none(), "token 8 fenced token 7 off");
    assert!(p.observe(ms(150), &Obs::Grant { lease: l(2, 3), token: 1 }).is_none());
    assert!(p.observe(ms(151), &hold(l(2, 3), 1, 450)).unwrap().contains("worker-1 (token 8) still holds it"));
    // A crash in the plan ends a hold; so does the end of the critical section.
    let mut p = checks::SingleHolder::new(names, vec![vec![ms(50)], Vec::new(), Vec::new()]);
    assert!(p.observe(ms(1), &hold(l(0, 1), 0, 300)).is_none());
    assert!(p.observe(ms(60), &hold(l(1, 2), 0, 360)).is_none());
    assert!(p.observe(ms(90), &Obs::Done { lease: l(1, 2) }).is_none());
    assert!(p.observe(ms(95), &hold(l(2, 3), 0, 395)).is_none());
    let mut p = checks::Progress::new(Some(SimTime::from_ms(1_000)), 500, SimTime::from_ms(5_000));
    assert!(p.observe(SimTime::from_ms(1_200), &write(l(0, 1), 1)).is_none());
    let metrics = crate::metrics::Metrics::new(100);
    let end = crate::check::RunEnd { now: SimTime::from_ms(6_000), metrics: &metrics, disruption: None };
    assert!(p.finish(&end).unwrap().contains("no write accepted"));
}

#[test]
fn quiet_from_pairs_faults_with_their_repairs() {
    let f = |at_ms, fault| TimedFault { at_ms, fault };
    let plan = vec![
        f(100, Fault::Crash { node: "lock-0".into() }),
        f(200, Fault::Pause { node: "worker-0".into(), for_ms: 500 }),
        f(300, Fault::Restart { node: "lock-0".into() }),
    ];
    assert_eq!(quiet_from(&plan), Some(SimTime::from_ms(700)));
    assert_eq!(quiet_from(&plan[..2]), None);
    assert_eq!(quiet_from(&[]), Some(SimTime::ZERO));
}

#[test]
fn views_show_lanes_rows_and_a_bad_span_for_the_naive_default() {
    let mut sim = build(&scenario("setnx-blind-del"), &BuildOptions::default()).unwrap();
    sim.run_to_end();
    let views = sim.views();
    let crate::view::View::Timeline(t) = &views[0] else { panic!("timeline first") };
    assert_eq!(t.lanes.len(), 3);
    assert!(t.lanes.iter().any(|l| l.spans.iter().any(|s| s.kind == "bad")));
    let crate::view::View::Table(storage) = &views[1] else { panic!("storage table") };
    assert!(!storage.rows.is_empty());
}

/// Clock jumps on two Redlock instances at a time (no pause anywhere) free a key early and
/// let a second client assemble a majority while the first still works.
fn skew_faults() -> Vec<TimedFault> {
    (0..8)
        .flat_map(|i| {
            let at_ms = 800 + 1_000 * i as u64;
            [i % 5, (i + 1) % 5].map(|k| TimedFault {
                at_ms,
                fault: Fault::Skew { node: format!("lock-{k}"), offset_ms: 290, drift_ppm: 0 },
            })
        })
        .collect()
}

#[test]
fn redlock_breaks_under_clock_jumps_alone() {
    let mut failing_seeds = Vec::new();
    for seed in 0..20 {
        let r = run_validated(&with("redlock", seed, skew_faults(), true), &BuildOptions::default()).unwrap();
        if failing(&r.checks).iter().any(|f| f.starts_with("single-holder:")) {
            failing_seeds.push(seed);
        }
    }
    assert!(failing_seeds.len() >= 3, "{failing_seeds:?}");
    // The mechanism: nobody is paused, yet a second worker assembles a majority while the
    // first one's lease is still running in true time, because two instances jumped ahead.
    let (w, detail) = run_until_violation(&with("redlock", failing_seeds[0], skew_faults(), true), "single-holder");
    let holder = between(&detail, "while ", " still holds it");
    let span = worker_of(&w, holder).spans.last().unwrap();
    assert!(span.end_ms.is_none() && w.now().as_ms() < span.expiry_ms, "{span:?} / {detail}");
    assert!(w.faults().iter().all(|f| matches!(f.fault, Fault::Skew { .. })));
}

/// Runs `s` keeping the whole trace, up to the event at which `check` first fails; returns
/// the world as it is at that event and the violation's detail.
fn run_until_violation(s: &Scenario, check: &str) -> (World<Node>, String) {
    let opts = BuildOptions { keep_trace: 1 << 20, ..BuildOptions::default() };
    testing::run_until_violation(build_world(s, &opts).unwrap(), s, check)
}

fn with(strategy: &str, seed: u64, faults: Vec<TimedFault>, durable: bool) -> Scenario {
    let durable = [("durable_counter", crate::scenario::params::ParamValue::Bool(durable))];
    testing::scenario(&DEF, strategy, seed, &durable, Some(faults))
}

/// The text between `before` and `after` in `s`.
fn between<'a>(s: &'a str, before: &str, after: &str) -> &'a str {
    let from = s.find(before).map(|i| i + before.len()).unwrap_or_else(|| panic!("no {before:?} in {s:?}"));
    let to = s[from..].find(after).unwrap_or_else(|| panic!("no {after:?} in {s:?}")) + from;
    &s[from..to]
}

fn storage_of(w: &World<Node>) -> &storage::Storage {
    w.nodes().iter().find_map(|n| if let Node::Storage(s) = n { Some(s) } else { None }).unwrap()
}

fn worker_of<'a>(w: &'a World<Node>, name: &str) -> &'a worker::Worker {
    let id = w.node_names().iter().position(|n| n == name).unwrap();
    let Node::Worker(wk) = &w.nodes()[id] else { panic!("{name} is not a worker") };
    wk
}

#[test]
fn a_blind_del_frees_a_live_lease_and_a_second_holder_walks_in() {
    let (w, detail) = run_until_violation(&scenario("setnx-blind-del"), "single-holder");
    // "worker-A holds the lock from T while worker-B still holds it (since S, ...)"
    let newcomer = between(&detail, "", " holds the lock");
    let victim = between(&detail, "while ", " still holds it");
    assert_ne!(newcomer, victim);
    let held = worker_of(&w, victim).spans.last().unwrap().clone();
    // The blind DEL: after the victim was granted the lock and before its lease ran out,
    // another worker's release deleted the victim's key, so the server granted it again.
    let (at, note) = w
        .trace
        .recent()
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            crate::trace::TraceKind::Note { text } if text.ends_with(&format!("deleted {victim}'s live lock")) => {
                Some((e.at.as_ms(), text.clone()))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no blind DEL of {victim}'s lock: {detail}"));
    assert!(held.start_ms < at && at < held.expiry_ms && at < w.now().as_ms(), "{note} at {at} / {held:?} / {detail}");
    // The deleter, woken from a pause after its own lease had run out, was not the victim
    // (it may be the newcomer itself, acquiring again after its blind release).
    let deleter = between(&note, "", " deleted");
    assert_ne!(deleter, victim, "{note} / {detail}");
    let woke = worker_of(&w, deleter).spans.iter().rev().find(|s| s.end_ms.is_some_and(|e| e <= at)).unwrap();
    assert!(woke.end_ms.unwrap() > woke.expiry_ms, "{deleter} released within its lease: {woke:?}");
    assert!(
        w.faults().iter().any(|f| matches!(&f.fault, Fault::Pause { node, for_ms }
            if node == deleter && (f.at_ms as f64) < woke.end_ms.unwrap() && woke.start_ms < (f.at_ms + for_ms) as f64)),
        "{deleter} was not paused during its hold"
    );
}

/// The pause fault on `worker` that overlapped its hold `span`, if any.
fn paused_during(w: &World<Node>, worker: &str, span: &worker::HoldSpan, until_ms: f64) -> bool {
    w.faults().iter().any(|f| {
        matches!(&f.fault, Fault::Pause { node, for_ms }
            if node == worker && (f.at_ms as f64) < until_ms && span.start_ms < (f.at_ms + for_ms) as f64)
    })
}

#[test]
fn a_paused_holder_writes_after_its_lease_and_erases_the_next_holders_update() {
    let (w, detail) = run_until_violation(&scenario("token-release"), "no-stale-write");
    // "worker-X wrote V computed from B, overwriting worker-Y's W (update lost)"
    let writer = between(&detail, "", " wrote");
    let value: u64 = between(&detail, "wrote ", " computed").parse().unwrap();
    let basis: u64 = between(&detail, "computed from ", ",").parse().unwrap();
    let erased = between(&detail, "overwriting ", "'s");
    let erased_value: u64 = between(&detail, "'s ", " (").parse().unwrap();
    let lost = erased_value - basis;
    assert!(detail.ends_with(&format!("({lost} updates lost)")) || lost == 1, "{detail}");
    assert_ne!(writer, erased);
    assert!(erased_value > basis, "{detail}");
    // The storage's own record: the last two accepted writes are the erased one, then the
    // stale one, and the counter now holds the stale value.
    let st = storage_of(&w);
    assert_eq!(st.value, value);
    let writes: Vec<&storage::AccessRow> = st.log.iter().filter(|r| r.write && r.accepted).collect();
    let names = w.node_names();
    let [.., before, last] = writes[..] else { panic!("fewer than two writes") };
    assert_eq!((names[before.worker as usize].as_str(), before.value), (erased, erased_value));
    assert_eq!((names[last.worker as usize].as_str(), last.value), (writer, value));
    // The stale writer had been paused while it held the lock, and its write left after its
    // lease ran out (token-checked release does nothing to stop a write).
    let span = worker_of(&w, writer).spans.last().unwrap();
    assert!(span.late, "{writer}'s write left within its lease: {span:?}");
    assert!(paused_during(&w, writer, span, w.now().as_ms()), "{writer} was not paused: {span:?}");
}

/// Lock-0's clock jumps 290 ms ahead every second; no process pauses.
fn lock0_jumps() -> Vec<TimedFault> {
    (0..8u64)
        .map(|i| TimedFault {
            at_ms: 800 + 1_000 * i,
            fault: Fault::Skew { node: "lock-0".into(), offset_ms: 290, drift_ppm: 0 },
        })
        .collect()
}

#[test]
fn a_clock_jump_on_the_lock_server_hands_a_live_lease_to_a_second_worker() {
    let s = with("token-release", 1, lock0_jumps(), true);
    let (w, detail) = run_until_violation(&s, "single-holder");
    let newcomer = between(&detail, "", " holds the lock");
    let holder = between(&detail, "while ", " still holds it");
    assert_ne!(newcomer, holder);
    // The holder is not paused and its lease has not run out in true time: the server
    // expired the key early on its jumped clock and granted it again.
    let span = worker_of(&w, holder).spans.last().unwrap();
    assert!(span.end_ms.is_none() && w.now().as_ms() < span.expiry_ms, "{span:?} / {detail}");
    assert!(w.faults().iter().all(|f| !matches!(f.fault, Fault::Pause { .. })));
    let jumps_before = w.faults().iter().filter(|f| (f.at_ms as f64) <= w.now().as_ms()).count();
    assert!(jumps_before >= 1, "{detail}");
    // With fencing the same jumps are harmless: the early grant carries a higher token,
    // which ends the old hold, and the storage refuses the old holder from then on.
    let r = run_validated(&with("fencing", 1, lock0_jumps(), true), &BuildOptions::default()).unwrap();
    assert!(failing(&r.checks).is_empty(), "{:?}", failing(&r.checks));
}

#[test]
fn a_counter_that_forgets_reissues_tokens_below_a_live_holder() {
    // Lock-0 crashes at 2 s and is back 5 ms later, while some worker holds the lock.
    let blip = || {
        vec![
            TimedFault { at_ms: 2_000, fault: Fault::Crash { node: "lock-0".into() } },
            TimedFault { at_ms: 2_005, fault: Fault::Restart { node: "lock-0".into() } },
        ]
    };
    let (w, detail) = run_until_violation(&with("fencing", 0, blip(), false), "single-holder");
    // "worker-A (token t) holds the lock from … while worker-B (token T) still holds it …;
    //  token t was granted before, to worker-C"
    let reissued: u64 = between(&detail, "(token ", ")").parse().unwrap();
    let live: u64 =
        between(&detail, "while ", " still").split("token ").nth(1).unwrap().trim_end_matches(')').parse().unwrap();
    assert!(reissued < live, "{detail}");
    assert!(detail.contains(&format!("token {reissued} was granted before")), "{detail}");
    assert!(w.now() > SimTime::from_ms(2_005), "{detail}");
    // The storage still refuses the re-issued tokens, so no update is lost; the lock
    // itself is what broke. With a durable counter the same blip is harmless.
    let r = run_validated(&with("fencing", 0, blip(), false), &BuildOptions::default()).unwrap();
    let bad = failing(&r.checks);
    assert!(!bad.iter().any(|f| f.starts_with("no-stale-write:") || f.starts_with("tokens-increase:")), "{bad:?}");
    let r = run_validated(&with("fencing", 0, blip(), true), &BuildOptions::default()).unwrap();
    assert!(failing(&r.checks).is_empty(), "{:?}", failing(&r.checks));
}
