//! Tests of ride-sharing: each naive design fails for the reason the design predicts (a
//! phone sent a second rider while the first is aboard; a far driver matched because its
//! raw fix was an outlier near the rider; a surge quote that jumps), the robust design
//! holds under the same scenarios and over seeds with swarm faults, and the checks on
//! hand-made histories.

use super::checks::{AnsweredInTime, OneRiderPerDriver, PickupDistance, SurgeBounded};
use super::city::Xy;
use super::msg::Obs;
use super::*;
use crate::blocks::assignment;
use crate::check::{CheckResult, Property};
use crate::scenario::params::ParamValue;
use crate::system::sweep_scenario;

fn scenario(strategy: &str, params: &[(&str, ParamValue)]) -> Scenario {
    let given = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut spec = DEF.spec_with(given).expect("params in bounds");
    spec.strategy = Some(strategy.to_string());
    Scenario::validate(&DEF, &spec).expect("valid scenario")
}

fn world(s: &Scenario) -> World<Node> {
    build_world(s, &BuildOptions::default()).unwrap()
}

fn result(w: &World<Node>, name: &str) -> CheckResult {
    w.checks().results().into_iter().find(|c| c.name == name).unwrap()
}

fn fleet(w: &World<Node>) -> &fleet::Fleet {
    w.nodes().iter().find_map(|n| if let Node::Fleet(f) = n { Some(&**f) } else { None }).unwrap()
}

fn location(w: &World<Node>) -> &location::Location {
    w.nodes().iter().find_map(|n| if let Node::Location(l) = n { Some(&**l) } else { None }).unwrap()
}

fn matchers(w: &World<Node>) -> Vec<&matcher::Matcher> {
    w.nodes().iter().filter_map(|n| if let Node::Matcher(m) = n { Some(&**m) } else { None }).collect()
}

/// Steps until `check` fails; panics if the run ends first.
fn until_fails(w: &mut World<Node>, check: &str) {
    while result(w, check).ok {
        assert!(w.step(), "the run ended without {check} failing");
    }
}

/// Scarce drivers, four shards, a supply copy a second old: shards race for drivers.
fn scarce() -> Vec<(&'static str, ParamValue)> {
    vec![
        ("drivers", ParamValue::Int(60)),
        ("riders_per_s", ParamValue::Int(30)),
        ("matchers", ParamValue::Int(4)),
        ("window_ms", ParamValue::Int(1_000)),
    ]
}

#[test]
fn greedy_sends_one_driver_a_second_rider() {
    let mut w = world(&scenario("greedy-nearest", &scarce()));
    until_fails(&mut w, "one-rider-per-driver");
    // The phone itself holds two riders: one in hand, one queued behind it.
    let f = fleet(&w);
    let d = f.drivers.iter().find(|d| d.trip.is_some() && !d.queue.is_empty()).expect("a driver with two riders");
    let (first, second) = (d.trip.unwrap().rider, d.queue[0].rider);
    assert_ne!(first, second);
    // The location service's table agrees: two trips on one driver, the second written
    // over the first's booking.
    let l = location(&w);
    let on_d: Vec<u64> = l.trips.iter().filter(|(_, t)| t.driver == d.id).map(|(r, _)| *r).collect();
    assert!(on_d.contains(&first) && on_d.contains(&second), "{on_d:?}");
    assert!(l.overwritten > 0);
    // The robust design under the same scenario: the races happen and are refused.
    let mut r = world(&scenario("batched-filtered", &scarce()));
    r.run_to_end();
    assert!(result(&r, "one-rider-per-driver").ok);
    assert!(location(&r).refused > 0, "two shards raced for a driver and one lost");
    assert!(fleet(&r).drivers.iter().all(|d| d.queue.is_empty()));
}

#[test]
fn raw_gps_matches_a_driver_that_is_truly_far() {
    let mut w = world(&scenario("no-smoothing", &[]));
    until_fails(&mut w, "pickup-distance");
    // Among the failing decision's pairs, one driver looked near the rider by its raw fix
    // but was truly far: the fix was hundreds of metres off.
    let truth: Vec<Xy> = fleet(&w).drivers.iter().map(|d| d.at).collect();
    let worst = matchers(&w)
        .iter()
        .flat_map(|m| m.last.iter().copied())
        .map(|(_, at, d, seen)| {
            (city::dist_m(at, seen), city::dist_m(at, truth[d as usize]), seen.flat(truth[d as usize]))
        })
        .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
        .unwrap();
    let (believed, true_m, off) = worst;
    assert!(true_m > believed + 250.0, "believed {believed:.0} m, truly {true_m:.0} m");
    assert!(off > 200.0, "the position the matcher used was {off:.0} m from the driver");
    let mut r = world(&scenario("batched-filtered", &[]));
    r.run_to_end();
    assert!(result(&r, "pickup-distance").ok, "{}", result(&r, "pickup-distance").detail);
}

#[test]
fn the_filter_tracks_drivers_far_better_than_raw_fixes() {
    let mut errs = Vec::new();
    for strategy in ["batched-filtered", "no-smoothing"] {
        let mut w = world(&scenario(strategy, &[("outlier_pct", ParamValue::Int(5))]));
        let mut worst = 0.0f64;
        let mut sum = 0.0;
        let mut n = 0.0;
        for t in (4..20).map(|s| SimTime::from_ms(s * 1_000 + 500)) {
            w.run_until(t);
            let (f, l) = (fleet(&w), location(&w));
            for d in &f.drivers {
                if let Some(est) = l.estimate(d.id) {
                    // The estimate is as of the last fix; the truth moved since by at most
                    // one fix interval of driving (10 m/s × 1 s).
                    let e = (est.flat(d.at) - 10.0).max(0.0);
                    worst = worst.max(e);
                    sum += e;
                    n += 1.0;
                }
            }
        }
        errs.push((sum / n, worst));
    }
    let (filtered, raw) = (errs[0], errs[1]);
    assert!(filtered.0 * 2.0 < raw.0, "mean error filtered {:.1} m vs raw {:.1} m", filtered.0, raw.0);
    assert!(filtered.1 < 200.0, "worst filtered error {:.0} m", filtered.1);
    eprintln!(
        "filtered: mean {:.1} m, worst {:.0} m; raw: mean {:.1} m, worst {:.0} m",
        filtered.0, filtered.1, raw.0, raw.1
    );
    assert!(raw.1 > 300.0, "raw fixes include outliers: worst {:.0} m", raw.1);
}

#[test]
fn undamped_surge_jumps_and_damped_surge_steps() {
    let busy = [("surge_damping", ParamValue::Bool(false)), ("riders_per_s", ParamValue::Int(30))];
    let mut w = world(&scenario("batched-filtered", &busy));
    until_fails(&mut w, "surge-bounded");
    assert!(result(&w, "surge-bounded").detail.contains("a move of"));
    let mut r = world(&scenario("batched-filtered", &busy[1..]));
    r.run_to_end();
    assert!(result(&r, "surge-bounded").ok);
    let top = matchers(&r).iter().flat_map(|m| m.surge.values().map(|s| s.mult)).fold(1.0, f64::max);
    assert!(top > 1.5, "busy districts surge: highest ×{top:.2}");
}

#[test]
fn robust_holds_over_seeds_with_and_without_swarm_faults() {
    let base = scenario("batched-filtered", &[]);
    for seed in 1..=4 {
        for swarm in [false, true] {
            let s = sweep_scenario(&base, seed, swarm);
            let mut w = world(&s);
            w.run_to_end();
            for c in w.checks().results() {
                assert!(c.ok, "seed {seed} swarm {swarm}: {} {}", c.name, c.detail);
            }
        }
    }
}

#[test]
fn checks_on_hand_made_histories() {
    let t = SimTime::from_ms;
    let mut one = OneRiderPerDriver::new(2);
    assert!(one.observe(t(1), &Obs::Dispatched { driver: 0, rider: 7 }).is_none());
    assert!(one.observe(t(2), &Obs::Freed { driver: 0, rider: 7 }).is_none());
    assert!(one.observe(t(3), &Obs::Dispatched { driver: 0, rider: 8 }).is_none());
    let two = one.observe(t(4), &Obs::Dispatched { driver: 0, rider: 9 }).unwrap();
    assert!(two.contains("rider 9") && two.contains("rider 8"));

    let cell = city::cell_of(Xy::new(6_000.0, 6_000.0));
    let mut ans = AnsweredInTime::new(1_000, t(5_000));
    ans.observe(t(100), &Obs::Requested { rider: 1, cell });
    ans.observe(t(6_000), &Obs::Requested { rider: 2, cell });
    // Asked during a fault: judged from the fault's end (5 s).
    assert!(ans.observe(t(5_900), &Obs::Answered { rider: 1, driver: None, cell, surge_milli: 1_000 }).is_none());
    assert!(ans.observe(t(7_100), &Obs::Answered { rider: 2, driver: Some(3), cell, surge_milli: 1_000 }).is_some());

    let mut surge = SurgeBounded::new(3.0, 0.2, 250);
    let q = |r: u64, m: u32| Obs::Answered { rider: r, driver: None, cell, surge_milli: m };
    assert!(surge.observe(t(0), &q(1, 1_000)).is_none());
    assert!(surge.observe(t(100), &q(2, 1_200)).is_none(), "one repricing may fall between");
    assert!(surge.observe(t(600), &q(3, 1_800)).is_none(), "three windows: up to 0.6");
    assert!(surge.observe(t(700), &q(4, 2_300)).is_some(), "0.5 in one window");
    assert!(surge.observe(t(5_000), &q(5, 3_100)).is_some(), "past the cap");
}

#[test]
fn the_pickup_twin_equals_brute_force_over_all_assignments() {
    let mut rng = Prng::new(3);
    for _ in 0..300 {
        let n = rng.between(1, 4) as usize;
        let m = rng.between(1, 7) as usize;
        let pt = |rng: &mut Prng| Xy::new(rng.unit() * 12_000.0, rng.unit() * 12_000.0);
        let riders: Vec<Xy> = (0..n).map(|_| pt(&mut rng)).collect();
        let drivers: Vec<Xy> = (0..m).map(|_| pt(&mut rng)).collect();
        // Brute force: every injective map of min(n, m) riders into the drivers.
        let cost: Vec<f64> = riders.iter().flat_map(|r| drivers.iter().map(|d| city::dist_m(*r, *d))).collect();
        let full = assignment::total(&cost, m, &assignment::solve(&cost, n, m));
        fn best(cost: &[f64], n: usize, m: usize, i: usize, used: &mut [bool], skips: usize) -> f64 {
            if i == n {
                return 0.0;
            }
            let mut b = if skips > 0 { best(cost, n, m, i + 1, used, skips - 1) } else { f64::INFINITY };
            for j in 0..m {
                if !used[j] {
                    used[j] = true;
                    b = b.min(cost[i * m + j] + best(cost, n, m, i + 1, used, skips));
                    used[j] = false;
                }
            }
            b
        }
        let brute = best(&cost, n, m, 0, &mut vec![false; m], n.saturating_sub(m));
        let twin = PickupDistance::optimum(&riders, &drivers);
        assert!((twin - brute).abs() < 1e-6 && (full - brute).abs() < 1e-6, "{twin} {full} {brute}");
    }
}
