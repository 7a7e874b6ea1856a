//! Tests of the object store. Each naive design is run until its check fails and the world
//! is read there for the predicted mechanism: the lost version's only bytes on the dead
//! machine's disk (one copy; the lazy primary that acknowledged alone), a replica in the
//! placement that had not yet heard of the version a stale read missed. The robust designs
//! are shown doing the work under the same faults: the dead node gone from every placement,
//! every acknowledged version back on N live disks, a shard decoded byte for byte.

use super::frontend::Frontend;
use super::msg::{Key, Version};
use super::storage::Storage;
use super::*;
use crate::check::CheckResult;
use crate::sim::world::World;
use crate::system::testing;
use crate::view::View;

fn with(strategy: &str, seed: u64, params: &[(&str, i64)], faults: Vec<TimedFault>) -> Scenario {
    testing::scenario(&DEF, strategy, seed, &testing::ints(params), Some(faults))
}

fn lose(nodes: &[&str]) -> Vec<TimedFault> {
    nodes.iter().map(|n| TimedFault { at_ms: 4_000, fault: Fault::Crash { node: n.to_string() } }).collect()
}

fn run(s: &Scenario) -> World<Node> {
    testing::run_world(build_world(s, &BuildOptions::default()).unwrap())
}

fn failing(w: &World<Node>) -> Vec<CheckResult> {
    w.checks().results().into_iter().filter(|c| !c.ok).collect()
}

fn detail(w: &World<Node>, check: &str) -> String {
    let r = w.checks().results().into_iter().find(|c| c.name == check).unwrap();
    assert!(!r.ok, "{check} held");
    r.detail
}

fn frontend(w: &World<Node>) -> &Frontend {
    w.nodes().iter().find_map(|n| if let Node::Frontend(f) = n { Some(&**f) } else { None }).unwrap()
}

/// Storage node `i` (node id 2 + i).
fn storage(w: &World<Node>, i: u32) -> &Storage {
    match &w.nodes()[2 + i as usize] {
        Node::Storage(s) => s,
        _ => panic!("node {} is not storage", 2 + i),
    }
}

/// The first "k{key} v{version}" a detail names.
fn key_version(detail: &str) -> (Key, Version) {
    let words: Vec<&str> = detail.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    for pair in words.windows(2) {
        if let (Some(k), Some(v)) = (pair[0].strip_prefix('k'), pair[1].strip_prefix('v')) {
            if let (Ok(k), Ok(v)) = (k.parse(), v.parse()) {
                return (k, v);
            }
        }
    }
    panic!("no k/v in {detail:?}")
}

fn holders_on_disk(w: &World<Node>, nodes: u32, key: Key, version: Version) -> Vec<u32> {
    (0..nodes).filter(|&i| storage(w, i).disk.contains_key(&(key, version))).collect()
}

#[test]
fn single_copy_loses_what_the_dead_disk_held() {
    let w = run(&with("single-copy", 1, &[], lose(&["storage-2"])));
    let (key, version) = key_version(&detail(&w, "no-acked-loss"));
    // The version was acknowledged and its one copy sits on storage-2's disk, nowhere else.
    assert!(frontend(&w).meta[&key].versions[&version].acked);
    assert_eq!(holders_on_disk(&w, 8, key, version), vec![2]);
    assert_eq!(frontend(&w).meta[&key].placement, vec![4], "storage-2 (node 4) still the only placement");
    detail(&w, "redundancy-restored");
}

#[test]
fn lazy_primary_acknowledged_alone_then_died() {
    let w = run(&with("replicas-w1", 2, &[], lose(&["storage-2"])));
    let (key, version) = key_version(&detail(&w, "no-acked-loss"));
    let f = frontend(&w);
    let vm = &f.meta[&key].versions[&version];
    // Acknowledged on the word of one node: storage-2 was the primary and the only holder.
    assert!(vm.acked);
    assert_eq!(vm.holders.iter().map(|h| h.0).collect::<Vec<_>>(), vec![4]);
    assert_eq!(holders_on_disk(&w, 8, key, version), vec![2], "its copies were still in the outbox");
    // The quorum design under the same loss keeps every acknowledged version on 3 live disks.
    let q = run(&with("quorum", 2, &[], lose(&["storage-2"])));
    assert!(failing(&q).is_empty(), "{:?}", failing(&q));
    let qf = frontend(&q);
    for (&k, km) in &qf.meta {
        assert!(!km.placement.contains(&4), "k{k} still placed on the dead node");
        for (&v, _) in km.versions.iter().filter(|(_, vm)| vm.acked) {
            let live: Vec<u32> = holders_on_disk(&q, 8, k, v).into_iter().filter(|&i| i != 2).collect();
            assert!(live.len() >= 3, "k{k} v{v} on {live:?}");
        }
    }
    assert!(qf.repaired > 0);
}

#[test]
fn stale_read_asked_a_replica_that_had_not_heard() {
    let s = with("replicas-w1", 1, &[], Vec::new());
    let mut w = build_world(&s, &BuildOptions::default()).unwrap();
    let detail = loop {
        assert!(w.step(), "read-latest never failed");
        if let Some(c) = w.checks().results().into_iter().find(|c| c.name == "read-latest" && !c.ok) {
            break c.detail;
        }
    };
    // "… k47 … v1 had been acknowledged …": the acknowledged version is on the primary,
    // and some replica of the placement does not have it yet.
    let key: Key =
        detail.split("k").nth(1).unwrap().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
    let lv: Version = detail.split(" v").last().unwrap().split(' ').next().unwrap().parse().unwrap();
    let placement = frontend(&w).meta[&key].placement.clone();
    assert!(storage(&w, placement[0] - 2).disk.contains_key(&(key, lv)), "the primary has it");
    assert!(placement.iter().any(|&n| !storage(&w, n - 2).disk.contains_key(&(key, lv))), "a replica is behind");
    // The quorum design reads the same workload without a stale answer.
    let q = run(&with("quorum", 1, &[], Vec::new()));
    assert!(failing(&q).is_empty(), "{:?}", failing(&q));
}

#[test]
fn reed_solomon_rebuilds_lost_shards_byte_for_byte() {
    let w = run(&with("reed-solomon", 1, &[], lose(&["storage-2", "storage-3"])));
    assert!(failing(&w).is_empty(), "{:?}", failing(&w));
    let f = frontend(&w);
    let d = f.demo.as_ref().expect("a shard was rebuilt");
    let lost = storage(&w, d.lost - 2).disk.get(&(d.key, d.version)).expect("the dead disk's bytes");
    assert_eq!(lost.0, d.slot);
    assert_eq!(lost.1, d.rebuilt, "decoded shard equals the lost one");
    assert_eq!(&storage(&w, d.target - 2).disk[&(d.key, d.version)].1, &d.rebuilt);
    assert!(d.fetched[d.slot as usize].is_none());
    // A third loss is more than m = 2: a stripe keeps only three of the four shards it needs.
    let w3 = run(&with("reed-solomon", 1, &[], lose(&["storage-2", "storage-3", "storage-4"])));
    let (key, version) = key_version(&detail(&w3, "no-acked-loss"));
    let live = holders_on_disk(&w3, 8, key, version).into_iter().filter(|i| ![2, 3, 4].contains(i)).count();
    assert_eq!(live, 3);
}

#[test]
fn views_and_estimates_follow_the_design() {
    let w = run(&with("reed-solomon", 1, &[], lose(&["storage-2"])));
    let views = views::views(&w);
    let titles: Vec<String> =
        views.iter().filter_map(|v| if let View::Table(t) = v { Some(t.title.clone()) } else { None }).collect();
    assert!(titles.iter().any(|t| t.starts_with("Placement")));
    assert!(titles.iter().any(|t| t.contains("identical to the lost bytes")), "{titles:?}");
    let est = |strategy: &str| (DEF.estimates)(&with(strategy, 1, &[], Vec::new()));
    assert_eq!(est("quorum")[0].value, "3.00×");
    assert_eq!(est("reed-solomon")[0].value, "1.50×");
    // f = 1 is the RAID-5 closed form μ / (n (n − 1) λ²).
    let (l, m) = (1e-5, 0.05);
    assert!((mttdl_hours(5, 1, l, m) - m / (5.0 * 4.0 * l * l)).abs() < 1e-3);
}

#[test]
fn every_bound_builds_and_strategy_ids_parse() {
    for s in DEF.strategies {
        assert!(Strategy::from_id(s.id).is_some());
        let small = with(s.id, 1, &[("nodes", 4), ("k", 8), ("m", 4), ("replicas", 5)], Vec::new());
        assert!(build_world(&small, &BuildOptions::default()).is_ok());
    }
    assert!(Strategy::from_id("nope").is_none());
}
