//! Tests of the metadata catalog. Each naive design is run until its check fails and the
//! world is read there, to show the predicted mechanism: two metadata files built on the
//! same parent, the acknowledged one off the chain (last-write-wins); a registered schema
//! with which a file in the table's own history no longer decodes (no compatibility check);
//! a role the catalog has revoked that the search index still holds (index ACL). The robust
//! design runs the same scenarios clean, and is shown doing the work: conflicts detected
//! and rebased, schemas rejected, hits filtered.

use super::catalog::Catalog;
use super::index::Index;
use super::user::User;
use super::writer::{evolve, initial_schema, Evolution};
use super::*;
use crate::blocks::avro_schema::{can_read, decode};
use crate::sim::fault::{Fault, TimedFault};
use crate::system::outcome::sweep_scenario;
use crate::system::testing::{self, failing};
use crate::view::View;

fn with(strategy: &str, seed: u64, params: &[(&str, i64)], faults: Option<Vec<TimedFault>>) -> Scenario {
    testing::scenario(&DEF, strategy, seed, &testing::ints(params), faults)
}

fn run_world(s: &Scenario) -> World<Node> {
    testing::run_world(build_world(s, &BuildOptions::default()).unwrap())
}

fn run_until_violation(s: &Scenario, check: &str) -> (World<Node>, String) {
    testing::run_until_violation(build_world(s, &BuildOptions::default()).unwrap(), s, check)
}

fn catalog(w: &World<Node>) -> &Catalog {
    w.nodes().iter().find_map(|n| if let Node::Catalog(c) = n { Some(&**c) } else { None }).unwrap()
}

fn index(w: &World<Node>) -> &Index {
    w.nodes().iter().find_map(|n| if let Node::Index(i) = n { Some(&**i) } else { None }).unwrap()
}

fn users(w: &World<Node>) -> Vec<&User> {
    w.nodes().iter().filter_map(|n| if let Node::User(u) = n { Some(&**u) } else { None }).collect()
}

fn all_hold(s: &Scenario) -> World<Node> {
    let w = run_world(s);
    let bad = failing(&w.checks().results());
    assert!(bad.is_empty(), "{bad:?} in {}", s.link());
    w
}

#[test]
fn strategy_ids_parse_and_every_one_is_defined() {
    for s in DEF.strategies {
        assert!(Strategy::from_id(s.id).is_some(), "{}", s.id);
    }
    assert_eq!(Strategy::from_id("eventually-fine"), None);
}

#[test]
fn last_write_wins_drops_an_acknowledged_commit_off_the_chain() {
    let s = with("last-write-wins", 1, &[], Some(Vec::new()));
    let (w, detail) = run_until_violation(&s, "no-lost-update");
    let c = catalog(&w);
    // The lost commit is on disk — a metadata file holds it — but not on the chain from
    // the pointer, and the table's versions forked: two metadata files share a parent.
    let mut found = false;
    for t in &c.tables {
        let chain = t.chain();
        let lost_here = t.metas.iter().enumerate().any(|(i, m)| {
            !chain.contains(&(i as u32)) && detail.split([' ', ',']).any(|w| w == msg::snapshot_name(m.snapshot))
        });
        let mut parents: Vec<Option<u32>> = t.metas.iter().map(|m| m.parent).collect();
        let n = parents.len();
        parents.sort_unstable();
        parents.dedup();
        if lost_here && parents.len() < n {
            found = true;
        }
    }
    assert!(found, "{detail}");
    assert_eq!(c.conflicts, 0, "nothing was ever refused");
}

#[test]
fn compare_and_swap_turns_the_same_races_into_conflicts_and_rebases() {
    let s = with("cas-compat-acl", 1, &[], Some(Vec::new()));
    let w = all_hold(&s);
    let c = catalog(&w);
    assert!(c.conflicts > 0, "writers did race");
    // Every table's history is one chain: no two metadata files share a parent.
    for t in &c.tables {
        let parents: Vec<Option<u32>> = t.metas.iter().map(|m| m.parent).collect();
        let mut dedup = parents.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(parents.len(), dedup.len(), "{}", t.name);
        assert_eq!(t.chain().len(), t.metas.len());
    }
}

#[test]
fn without_a_compatibility_check_a_file_in_the_history_stops_decoding() {
    let s = with("no-compat-check", 1, &[("schema_change_pct", 30)], Some(Vec::new()));
    let (w, detail) = run_until_violation(&s, "incompatible-schema-rejected");
    let c = catalog(&w);
    // Read the table back: some file it still holds does not decode with its newest schema,
    // or a reader already failed.
    let stranded = c.tables.iter().any(|t| {
        let latest = t.latest_schema();
        t.metas.iter().any(|m| m.file.records.iter().any(|r| decode(latest, &m.file.schema, r).is_err()))
    });
    let reader_failed = users(&w).iter().any(|u| u.decode_errors > 0);
    assert!(stranded || reader_failed, "{detail}");
    assert_eq!(c.rejected, 0, "nothing was refused");
}

#[test]
fn the_registry_refuses_the_same_changes_when_it_checks() {
    let s = with("cas-compat-acl", 1, &[("schema_change_pct", 30)], Some(Vec::new()));
    let w = all_hold(&s);
    let c = catalog(&w);
    assert!(c.rejected > 0, "incompatible changes were proposed and refused");
    assert!(c.tables.iter().any(|t| t.schemas.len() > 1), "compatible ones went through");
}

#[test]
fn trusting_the_index_shows_a_revoked_user_the_domain() {
    let s = with("index-acl", 1, &[], Some(Vec::new()));
    let (w, detail) = run_until_violation(&s, "no-unauthorized-view");
    let (c, i) = (catalog(&w), index(&w));
    // The index still holds a role the catalog has already revoked.
    let stale: Vec<&(u32, u8)> = i.grants.iter().filter(|g| !c.grants.contains(g)).collect();
    assert!(!stale.is_empty(), "{detail}");
    assert!(i.offset < c.log.len() as u64, "the index is behind the change log");
}

#[test]
fn filtering_at_query_time_holds_under_the_same_lag() {
    let s = with("cas-compat-acl", 1, &[], Some(Vec::new()));
    let w = all_hold(&s);
    assert!(users(&w).iter().map(|u| u.seen).sum::<u64>() > 100);
}

#[test]
fn robust_holds_under_default_and_swarm_faults() {
    for seed in 1..=6 {
        all_hold(&with("cas-compat-acl", seed, &[], None));
        let base = with("cas-compat-acl", seed, &[], None);
        all_hold(&sweep_scenario(&base, seed, true));
    }
}

#[test]
fn an_unanswered_commit_is_probed_not_repeated() {
    // The catalog crashes mid-run: replies are lost, writers ask whether their snapshot
    // landed, and no table holds a snapshot twice.
    let faults = vec![
        TimedFault { at_ms: 2_000, fault: Fault::Loss { rate: 0.3 } },
        TimedFault { at_ms: 5_000, fault: Fault::Loss { rate: 0.0 } },
    ];
    let w = all_hold(&with("cas-compat-acl", 2, &[], Some(faults)));
    for t in &catalog(&w).tables {
        let mut snaps: Vec<u64> = t.metas.iter().map(|m| m.snapshot).collect();
        let n = snaps.len();
        snaps.sort_unstable();
        snaps.dedup();
        assert_eq!(snaps.len(), n, "{}", t.name);
    }
}

#[test]
fn backward_only_breaks_readers_with_an_old_cached_schema() {
    // Widening int → long is backward compatible: new readers read old files. A reader
    // still on the old schema cannot read a new file.
    let v1 = initial_schema();
    let v2 = evolve(&v1, Evolution::Widen, "x");
    assert!(can_read(&v2, &v1).is_none());
    assert!(can_read(&v1, &v2).is_some());
}

#[test]
fn views_show_the_lineage_graph() {
    let w = run_world(&with("cas-compat-acl", 1, &[], None));
    let v = views::views(&w);
    let Some(View::Tree(tree)) = v.first() else { panic!("lineage tree first") };
    assert_eq!(tree.nodes.len(), 8);
    assert!(tree.nodes.iter().filter(|n| n.parent.is_some()).count() >= 6);
    assert!(v.iter().any(|x| matches!(x, View::Table(t) if t.title.starts_with("Roles"))));
}
