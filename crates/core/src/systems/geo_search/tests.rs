//! Tests of geo-search: each naive design fails for the reason the design predicts (a
//! driver just across the searched cell's edge missing; every shard reading every driver
//! until its queue overflows; an update that searches the whole index for the old entry),
//! the planner's cover and each index shape against brute force, the exactness check on
//! hand-made histories, and the robust designs over seeds with and without swarm faults.

use super::checks::ExactResults;
use super::msg::{Area, Query};
use super::*;
use crate::blocks::haversine::{cap_bbox, distance_km};
use crate::check::CheckResult;
use crate::sim::world::World;
use crate::system::sweep_scenario;

fn scenario(strategy: &str, params: &[(&str, crate::scenario::params::ParamValue)]) -> Scenario {
    let given = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut spec = DEF.spec_with(given).expect("params in bounds");
    spec.strategy = Some(strategy.to_string());
    Scenario::validate(&DEF, &spec).expect("valid scenario")
}

fn world(s: &Scenario) -> World<Node> {
    let (nodes, props) = parts(s).unwrap();
    crate::system::world(s, &BuildOptions::default(), nodes, props).unwrap()
}

fn result(w: &World<Node>, name: &str) -> CheckResult {
    w.checks().results().into_iter().find(|c| c.name == name).unwrap()
}

fn router(w: &World<Node>) -> &router::Router {
    w.nodes().iter().find_map(|n| if let Node::Router(r) = n { Some(&**r) } else { None }).unwrap()
}

fn positions(w: &World<Node>) -> Vec<(u32, LatLon)> {
    w.nodes()
        .iter()
        .filter_map(|n| if let Node::Fleet(f) = n { Some(f) } else { None })
        .flat_map(|f| f.drivers.iter().map(|d| (d.id, d.at)))
        .collect()
}

#[test]
fn the_own_cell_search_misses_a_driver_just_across_the_cell_edge() {
    let mut w = world(&scenario("geohash-cell-only", &[]));
    while result(&w, "exact-results").ok {
        assert!(w.step(), "the run ended without a wrong answer");
    }
    // The failing answer is the router's last; compare it with the phones' positions.
    let last = router(&w).last.clone().unwrap();
    assert_eq!(last.searched.len(), 1, "one cell searched");
    let centre = last.searched[0];
    let hits: Vec<u32> = last.hits.iter().map(|h| h.id).collect();
    let reach = match last.query.ask {
        msg::Ask::Nearest { k, .. } if last.hits.len() >= k as usize => last.hits[k as usize - 1].km,
        _ => last.radius_km,
    };
    let missed: Vec<(u32, LatLon)> = positions(&w)
        .into_iter()
        .filter(|(id, p)| !hits.contains(id) && distance_km(last.query.at.0, *p) < reach * 0.98)
        .collect();
    assert!(!missed.is_empty(), "someone inside the circle is not in the answer");
    let around = geohash::neighbours(centre);
    for (id, p) in missed {
        let cell = geohash::encode(p, centre.chars);
        assert_ne!(cell, centre, "driver {id} is in the searched cell");
        assert!(around.contains(&cell), "driver {id} is in a neighbour of {centre}, at {cell}");
    }
}

#[test]
fn the_greenwich_meridian_splits_cells_with_no_common_prefix() {
    // A rider 30 m west of the meridian, a driver 30 m east: 42 m apart, the driver in a
    // cell whose geohash starts with `u` while the rider's starts with `g`.
    let rider = LatLon::new(51.50, -0.0004);
    let driver = LatLon::new(51.50, 0.0004);
    assert!(distance_km(rider, driver) < 0.06);
    let own = plan::cells(Design::CellOnly, rider, 0.5);
    let nine = plan::cells(Design::Neighbours, rider, 0.5);
    let cell = geohash::encode(driver, own[0].chars);
    assert!(own[0].to_string().starts_with('g') && cell.to_string().starts_with('u'));
    assert!(!own.contains(&cell) && nine.contains(&cell));
    let mut ix = Index::new(Kind::Cells, 2, true);
    ix.apply(0, msg::Op::Put(1, msg::Pos(driver)));
    assert!(ix.search(rider, 0.5, None, &Area::Cells(own)).0.is_empty());
    assert_eq!(ix.search(rider, 0.5, None, &Area::Cells(nine)).0.len(), 1);
}

#[test]
fn a_linear_scan_reads_every_driver_and_the_shards_fall_behind() {
    let mut w = world(&scenario("linear-scan", &[]));
    w.run_to_end();
    assert!(!result(&w, "query-latency").ok);
    assert!(result(&w, "exact-results").ok, "slow, not wrong");
    for n in w.nodes() {
        if let Node::Shard(s) = n {
            // Every search read everything the shard held (within a few drivers moving).
            let per = s.search_steps as f64 / s.searches.max(1) as f64;
            assert!(per + 50.0 >= s.index.len as f64, "shard-{}: {per} steps per search, holds {}", s.idx, s.index.len);
        }
    }
    let r = router(&w);
    assert!(
        r.failed * 10 > r.answered,
        "{} failed, {} answered: queries time out behind the scans",
        r.failed,
        r.answered
    );
}

#[test]
fn without_the_reverse_index_an_update_costs_the_whole_shard() {
    use crate::scenario::params::ParamValue;
    for strategy in ["geohash-neighbours", "quadtree", "linear-scan"] {
        let mut blind = world(&scenario(
            strategy,
            &[("reverse_index", ParamValue::Bool(false)), ("drivers", ParamValue::Int(4_000))],
        ));
        blind.run_until(SimTime::from_ms(3_000));
        let mut direct = world(&scenario(strategy, &[("drivers", ParamValue::Int(4_000))]));
        direct.run_until(SimTime::from_ms(3_000));
        let per = |w: &World<Node>| {
            let (mut steps, mut ops, mut held) = (0, 0, 0);
            for n in w.nodes() {
                if let Node::Shard(s) = n {
                    steps += s.update_steps;
                    ops += s.updates;
                    held = held.max(s.index.len);
                }
            }
            (steps as f64 / ops as f64, held as f64)
        };
        let ((b, held), (d, _)) = (per(&blind), per(&direct));
        assert!(b > held / 8.0, "{strategy}: {b} steps per blind update, shards hold up to {held}");
        assert!(d < 40.0, "{strategy}: {d} steps per update with the reverse index");
        if strategy != "linear-scan" {
            assert!(!result(&blind, "update-cost").ok, "{strategy}");
        }
        assert!(result(&direct, "update-cost").ok, "{strategy}");
    }
}

#[test]
fn the_nine_cells_hold_every_circle_and_the_own_cell_does_not() {
    let mut rng = Prng::new(8);
    let mut spilled = 0;
    for _ in 0..3_000 {
        let at = area::random_point(&mut rng);
        let r = 0.05 + rng.unit() * 6.0;
        let bbox = cap_bbox(at, r);
        let nine = plan::cells(Design::Neighbours, at, r);
        let own = plan::cells(Design::CellOnly, at, r);
        // Twin: points on the circle's boundary (and the box's corners) fall in the cells.
        for i in 0..72 {
            let t = f64::from(i * 5).to_radians();
            let (mut lo, mut hi) = (0.0, 1.0);
            for _ in 0..50 {
                let mid = (lo + hi) / 2.0;
                let q = LatLon::new(at.lat + mid * libm::cos(t), at.lon + mid * libm::sin(t));
                if distance_km(at, q) < r {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            let q = LatLon::new(at.lat + lo * libm::cos(t), at.lon + lo * libm::sin(t));
            assert!(nine.contains(&geohash::encode(q, nine[0].chars)), "{q:?} r={r}");
            if !own.contains(&geohash::encode(q, own[0].chars)) {
                spilled += 1;
            }
        }
        assert!(bbox.lat_max > at.lat);
    }
    assert!(spilled > 1_000, "circles spill out of their own cell: {spilled}");
}

#[test]
fn every_index_shape_answers_like_a_brute_force_scan() {
    let mut rng = Prng::new(4);
    let n = 800;
    let mut ixs = [
        Index::new(Kind::Scan, n, true),
        Index::new(Kind::Cells, n, true),
        Index::new(Kind::Quad { capacity: 8 }, n, true),
        Index::new(Kind::Cells, n, false),
        Index::new(Kind::Quad { capacity: 4 }, n, false),
    ];
    let mut truth: Vec<Option<LatLon>> = vec![None; n];
    let mut version = vec![0u64; n];
    for step in 0..8_000 {
        let id = rng.below(n as u64) as usize;
        version[id] += 1;
        let op = if rng.chance(0.1) {
            truth[id] = None;
            msg::Op::Drop(version[id])
        } else {
            let p = area::random_point(&mut rng);
            truth[id] = Some(p);
            msg::Op::Put(version[id], msg::Pos(p))
        };
        for ix in &mut ixs {
            assert!(ix.apply(id as u32, op).0);
            // A repeat of the same change is ignored.
            assert!(!ix.apply(id as u32, op).0);
        }
        if step % 97 == 0 {
            let at = area::random_point(&mut rng);
            let r = rng.unit() * 3.0;
            let k = if rng.chance(0.5) { Some(1 + rng.below(15) as usize) } else { None };
            let mut want: Vec<(f64, u32)> = truth
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.map(|p| (distance_km(at, p), i as u32)))
                .filter(|h| h.0 <= r)
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            if let Some(k) = k {
                want.truncate(k);
            }
            let cells = Area::Cells(plan::cells(Design::Neighbours, at, r));
            for (i, ix) in ixs.iter().enumerate() {
                let area = match i {
                    0 => Area::All,
                    1 | 3 => cells.clone(),
                    _ => Area::Tree,
                };
                let got: Vec<(f64, u32)> = ix.search(at, r, k, &area).0.iter().map(|h| (h.km, h.id)).collect();
                assert_eq!(got, want, "index {i} at step {step}");
            }
        }
    }
}

fn q(at: LatLon, radius_m: u32) -> Query {
    Query { at: msg::Pos(at), ask: msg::Ask::Radius { radius_m } }
}

#[test]
fn exact_results_flags_a_missing_driver_and_excuses_one_in_motion() {
    use crate::check::Property;
    use msg::Obs;
    let t = SimTime::from_ms;
    let at = LatLon::new(51.5, -0.1);
    let near = LatLon::new(51.501, -0.1);
    let mut c = ExactResults::new(3);
    for (id, p) in [(0, near), (1, near), (2, LatLon::new(51.6, -0.1))] {
        c.observe(t(1), &Obs::Fix { id, version: 1, at: p });
        c.observe(t(2), &Obs::Held { shard: 0, id, version: 1, live: true });
    }
    let d = distance_km(at, near);
    c.observe(t(10), &Obs::Issued { qid: 1, query: q(at, 500) });
    assert!(c.observe(t(11), &Obs::Answered { qid: 1, hits: vec![(0, d), (1, d)] }).is_none());
    c.observe(t(20), &Obs::Issued { qid: 2, query: q(at, 500) });
    let wrong = c.observe(t(21), &Obs::Answered { qid: 2, hits: vec![(0, d)] });
    assert!(wrong.unwrap().contains("driver 1"));
    // Driver 1 takes a new fix that no shard has applied: it may be left out.
    c.observe(t(30), &Obs::Fix { id: 1, version: 2, at: near });
    c.observe(t(31), &Obs::Issued { qid: 3, query: q(at, 500) });
    assert!(c.observe(t(32), &Obs::Answered { qid: 3, hits: vec![(0, d)] }).is_none());
    // A far driver reported inside the circle is wrong.
    c.observe(t(40), &Obs::Issued { qid: 4, query: q(at, 500) });
    let far = c.observe(t(41), &Obs::Answered { qid: 4, hits: vec![(0, d), (2, 0.3)] });
    assert!(far.unwrap().contains("driver 2"));
    assert_eq!(c.samples(), 4);
}

#[test]
fn robust_designs_hold_over_seeds_with_and_without_swarm_faults() {
    for strategy in ["geohash-neighbours", "quadtree"] {
        let base = scenario(strategy, &[("drivers", crate::scenario::params::ParamValue::Int(3_000))]);
        for seed in 1..=3 {
            for swarm in [false, true] {
                let s = sweep_scenario(&base, seed, swarm);
                let mut w = world(&s);
                w.run_to_end();
                for c in w.checks().results() {
                    assert!(c.ok, "{strategy} seed {seed} swarm {swarm}: {} {}", c.name, c.detail);
                }
            }
        }
    }
}
