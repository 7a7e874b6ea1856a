//! Tests of the time-series database. Each naive design is run until its check fails and
//! the world is read there, to show the predicted mechanism: acknowledged points that sat
//! in the memtable when the process died and are in no table (no WAL); chunks whose bytes
//! are 17 plus the series name per point (a row per point). The robust design is shown
//! doing the work: the same crash replayed from the WAL, a crash in the middle of a
//! compaction leaving the inputs in place, rollups answering aggregates.

use super::checks::AckedDurable;
use super::db::Db;
use super::msg::{labels, matches, series_name, Label};
use super::query::LabelIndex;
use super::scraper::Scraper;
use super::table::{Encoding, Table};
use super::*;
use crate::check::Property;
use crate::sim::time::SimTime;
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

fn db(w: &World<Node>) -> &Db {
    w.nodes().iter().find_map(|n| if let Node::Db(d) = n { Some(&**d) } else { None }).unwrap()
}

fn scraper(w: &World<Node>) -> &Scraper {
    w.nodes().iter().find_map(|n| if let Node::Scraper(s) = n { Some(&**s) } else { None }).unwrap()
}

/// Whether the database holds (series, ts) anywhere: a table, the flushing memtable, the
/// memtable.
fn held(d: &Db, series: u32, ts: i64) -> bool {
    d.mem.contains_key(&(series, ts))
        || d.imm.as_ref().is_some_and(|f| f.mem.contains_key(&(series, ts)))
        || d.tables
            .iter()
            .any(|t| t.chunk(series).is_some_and(|c| table::decode(c, t.encoding).iter().any(|p| p.0 == ts)))
}

/// "series S lost N acknowledged points (A … B ms)" → (S, A, B).
fn lost_range(detail: &str) -> (u32, i64, i64) {
    let nums: Vec<i64> =
        detail.split(|c: char| !c.is_ascii_digit()).filter(|w| !w.is_empty()).filter_map(|w| w.parse().ok()).collect();
    let n = nums.len();
    (nums[n - 4] as u32, nums[n - 2], nums[n - 1])
}

#[test]
fn strategy_ids_parse_and_every_one_is_defined() {
    for s in DEF.strategies {
        assert!(Strategy::from_id(s.id).is_some(), "{}", s.id);
    }
    assert_eq!(Strategy::from_id("eventually-durable"), None);
}

#[test]
fn without_a_wal_the_crash_takes_acknowledged_memtable_points() {
    let s = with("no-wal", 1, &[], None);
    let (w, detail) = run_until_violation(&s, "acked-durable");
    let (series, first, last) = lost_range(&detail);
    let d = db(&w);
    // The process died once, with points only in memory, and had nothing to replay.
    assert_eq!(d.crashes, 1);
    assert!(d.lost_in_memory > 0);
    assert_eq!(d.replayed, 0);
    // The missing points were written before the crash at 15 s and acknowledged (their
    // batches are no longer pending at the scraper)…
    assert!(first <= last && last < 15_000, "{detail}");
    let sc = scraper(&w);
    for ts in [first, last] {
        assert!(!sc.pending.contains_key(&(ts / 100)), "batch at {ts} ms was never acknowledged");
        // …and the database holds them nowhere.
        assert!(!held(d, series, ts), "series {series} at {ts} ms is still held");
    }
}

#[test]
fn with_the_wal_the_same_crash_is_replayed_and_nothing_is_lost() {
    let s = with("gorilla-wal", 1, &[], None);
    let w = run_world(&s);
    let d = db(&w);
    assert_eq!(d.crashes, 1);
    assert!(d.lost_in_memory > 0, "the crash found points in memory");
    assert!(d.replayed > 0, "the restart replayed the WAL");
    let r = w.checks().results();
    assert!(failing(&r).is_empty(), "{:?}", failing(&r));
    assert!(r.iter().all(|c| c.samples > 0));
}

#[test]
fn a_row_store_pays_sixteen_bytes_and_the_series_name_per_point() {
    let s = with("row-uncompressed", 1, &[], None);
    let w = run_world(&s);
    let d = db(&w);
    let r = w.checks().results();
    assert_eq!(failing(&r).len(), 1, "{:?}", failing(&r));
    assert!(failing(&r)[0].starts_with("bytes-per-point"));
    // Every chunk is a row per point: 8 + 8 bytes, a length byte and the name.
    for t in &d.tables {
        assert_eq!(t.encoding, Encoding::Rows);
        for c in &t.chunks {
            assert_eq!(c.data.len(), c.count as usize * (17 + series_name(c.series).len()));
        }
    }
    // The same points in Gorilla blocks take a fraction of it.
    let g = run_world(&with("gorilla-wal", 1, &[], None));
    let per = |d: &Db| {
        d.tables.iter().map(Table::bytes).sum::<u64>() as f64 / d.tables.iter().map(|t| t.points).sum::<u64>() as f64
    };
    let (rows, gorilla) = (per(d), per(db(&g)));
    assert!(rows > 40.0 && gorilla < 4.0 && rows / gorilla > 10.0, "{rows} vs {gorilla}");
}

#[test]
fn a_crash_in_the_middle_of_a_compaction_leaves_its_inputs() {
    // Find a compaction in flight on the slow disk, then crash the database right then.
    let slow = vec![
        TimedFault { at_ms: 5_000, fault: Fault::Clog { from: "db".into(), to: "disk".into(), extra_ms: 400 } },
        TimedFault { at_ms: 12_000, fault: Fault::Unclog { from: "db".into(), to: "disk".into() } },
    ];
    let probe = with("gorilla-wal", 1, &[], Some(slow.clone()));
    let mut w = build_world(&probe, &BuildOptions::default()).unwrap();
    let mut inputs = Vec::new();
    while w.step() {
        if w.now() > SimTime::from_ms(6_000) {
            if let Some(c) = &db(&w).compacting {
                inputs = c.inputs.clone();
                break;
            }
        }
    }
    assert!(!inputs.is_empty(), "no compaction on the slow disk");
    let at_ms = (w.now().0 / 1_000) + 1;
    let mut faults = slow;
    faults.push(TimedFault { at_ms, fault: Fault::Crash { node: "db".into() } });
    faults.push(TimedFault { at_ms: at_ms + 200, fault: Fault::Restart { node: "db".into() } });
    faults.sort_by_key(|f| f.at_ms);
    let s = with("gorilla-wal", 1, &[], Some(faults));
    let mut w = build_world(&s, &BuildOptions::default()).unwrap();
    while w.now() < SimTime::from_ms(at_ms + 100) && w.step() {}
    let d = db(&w);
    assert_eq!(d.crashes, 1);
    // The compaction died with the process; every input table is still live.
    assert!(d.compacting.is_none());
    for id in &inputs {
        assert!(d.tables.iter().any(|t| t.id == *id), "input #{id} is gone");
    }
    w.run_to_end();
    let r = w.checks().results();
    assert!(failing(&r).is_empty(), "{:?}", failing(&r));
    assert!(db(&w).compactions > 0);
}

#[test]
fn rollups_answer_aligned_aggregates_and_tables_are_skipped() {
    let w = run_world(&with("gorilla-wal", 2, &[("db_down_ms", 0), ("retention_ms", 6_000)], None));
    assert!(w.metrics.counter("tsdb.tables_rollup") > 0);
    assert!(w.metrics.counter("tsdb.tables_skipped") > 0);
    assert!(w.metrics.counter("tsdb.tables_decoded") > 0);
    let d = db(&w);
    assert!(d.levels()[2] > 0 && d.dropped_tables > 0, "{:?}", d.levels());
    assert!(failing(&w.checks().results()).is_empty());
}

#[test]
fn the_label_index_selects_what_a_scan_of_every_series_selects() {
    let mut idx = LabelIndex::default();
    for s in (0..90).rev() {
        idx.add(s);
        idx.add(s);
    }
    let ms: Vec<Vec<(Label, u32)>> = vec![
        vec![],
        vec![(Label::Metric, 1)],
        vec![(Label::Metric, 2), (Label::Dc, 0)],
        vec![(Label::Host, 7)],
        vec![(Label::Host, 7), (Label::Dc, 2)],
        vec![(Label::Dc, 5)],
    ];
    for m in ms {
        let scan: Vec<u32> = (0..90).filter(|&s| matches(s, &m)).collect();
        assert_eq!(idx.select(&m), scan, "{m:?}");
    }
    assert_eq!(labels(10), [(Label::Metric, 1), (Label::Host, 3), (Label::Dc, 0)]);
}

#[test]
fn a_merge_keeps_one_value_per_series_and_timestamp() {
    let a = Table::build(1, 0, Encoding::Gorilla, &[(0, 0, 1), (0, 100, 2), (1, 0, 3)], 0);
    let b = Table::build(2, 0, Encoding::Gorilla, &[(0, 100, 2), (0, 2_100, 5)], 0);
    let mut next = 3;
    let out = lsm::merge(&[&a, &b], 1, Encoding::Gorilla, 2_000, &mut next);
    assert_eq!(out.len(), 2, "cut on the 2 s block boundary");
    let all: Vec<_> = out.iter().flat_map(Table::all_points).collect();
    assert_eq!(all, vec![(0, 0, 1), (0, 100, 2), (1, 0, 3), (0, 2_100, 5)]);
    assert_eq!(next, 5);
}

#[test]
fn the_check_sees_a_missing_point() {
    use super::msg::{Answer, Obs, Point, Query, QueryKind};
    let mut c = AckedDurable::new(checks::Record::new(3, 100, 10_000));
    let pts: Vec<Point> = (0..3).map(|s| Point { series: s, ts: 200, bits: 1f64.to_bits() }).collect();
    assert!(c.observe(SimTime::ZERO, &Obs::Acked { points: pts }).is_none());
    let q = Query { id: 1, matchers: vec![], from: 0, to: 300, kind: QueryKind::Raw };
    c.observe(SimTime::ZERO, &Obs::QuerySent { query: q, newest: 200, horizon: 300 });
    let answer = Answer::Raw(vec![(0, vec![(200, 1f64.to_bits())]), (2, vec![(200, 1f64.to_bits())])]);
    let v = c.observe(SimTime::ZERO, &Obs::Answered { id: 1, answer });
    assert!(v.unwrap().contains("series 1 lost 1"));
}

#[test]
fn views_show_levels_compression_and_the_query_plan() {
    let w = run_world(&with("gorilla-wal", 1, &[], None));
    let views = (views::views)(&w);
    let titles: Vec<String> = views
        .iter()
        .map(|v| match v {
            View::Table(t) => t.title.clone(),
            View::Log(l) => l.title.clone(),
            _ => String::new(),
        })
        .collect();
    assert!(titles.iter().any(|t| t.starts_with("LSM levels")), "{titles:?}");
    assert!(titles.iter().any(|t| t.starts_with("Block compression")));
    assert!(titles.iter().any(|t| t.starts_with("Query plan: q")));
    let View::Table(levels) = &views[0] else { panic!() };
    assert!(levels.rows.iter().any(|r| r[0] == "L2"));
}

#[test]
fn estimates_follow_the_parameters() {
    let a = (DEF.estimates)(&with("gorilla-wal", 1, &[], None));
    let b = (DEF.estimates)(&with("gorilla-wal", 1, &[("series", 500)], None));
    assert_ne!(a, b);
    assert!(a[0].value.contains("600"), "{:?}", a[0]);
}

#[test]
fn every_show_me_line_tells_the_truth() {
    use crate::scenario::show_me::{self, Claim};
    let lines = show_me::lines(DEF.explainer);
    assert!(lines.len() >= 5);
    for rest in lines {
        let (json, claim) = show_me::split(rest);
        let claim = Claim::parse(claim.unwrap()).unwrap();
        let spec: crate::scenario::ScenarioSpec = crate::scenario::link::parse_json(json).unwrap();
        let s = Scenario::validate(&DEF, &spec).unwrap();
        let report = crate::system::run_validated(&s, &BuildOptions::default()).unwrap();
        claim.judge(&report.checks).unwrap_or_else(|e| panic!("{json}: {e}"));
    }
}
