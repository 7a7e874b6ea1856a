//! Dispatch cost per task at 10^6 scheduled tasks: the hierarchical timing wheel against
//! the full scan of the whole table on every tick ("poll the table every second"), in the
//! same run. 10^6 tasks get deadlines spread uniformly (ms resolution) over 1,000 ticks of
//! one second; time then advances tick by tick until all have fired. Only the advancing is
//! timed (scheduling is outside the clock). The scan touches every pending row each tick,
//! so its cost per task grows with the number of ticks a task waits (≈ ticks / 2 rows per
//! task here); the wheel's does not. One iteration of the scan takes a large fraction of a
//! second, so the group uses criterion's minimum of 10 samples and a short warm-up.

#![cfg(not(target_arch = "wasm32"))]

use criterion::{criterion_group, criterion_main, Criterion};
use sdlab_core::blocks::timing_wheel::{ScanTimers, TimingWheel};
use sdlab_core::sim::Prng;
use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

const TASKS: u64 = 1_000_000;
const TICK_MS: u64 = 1_000;
const TICKS: u64 = 1_000;

fn deadlines() -> Vec<u64> {
    let mut rng = Prng::new(10);
    (0..TASKS).map(|_| 1 + rng.below(TICKS * TICK_MS)).collect()
}

/// Advances tick by tick to the end; returns how many fired (all of them).
fn run(mut advance: impl FnMut(u64) -> usize) -> u64 {
    let mut fired = 0;
    for t in 1..=TICKS {
        fired += advance(t * TICK_MS) as u64;
    }
    assert_eq!(fired, TASKS);
    fired
}

fn median_ns_per_task(samples: &[Duration]) -> f64 {
    let mut ns: Vec<f64> = samples.iter().map(|d| d.as_nanos() as f64 / TASKS as f64).collect();
    ns.sort_by(f64::total_cmp);
    ns[ns.len() / 2]
}

fn bench(c: &mut Criterion) {
    let deadlines = deadlines();
    let wheel_times = RefCell::new(Vec::new());
    let scan_times = RefCell::new(Vec::new());
    let mut g = c.benchmark_group("timing_wheel_1e6_tasks_1000_ticks");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    g.bench_function("wheel", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // 1 ms resolution, 3 levels: 64^3 ms ≈ 4.4 min within the levels, the rest
                // of the ~17 min span starts in the overflow.
                let mut w = TimingWheel::new(1, 3);
                for (i, &d) in deadlines.iter().enumerate() {
                    w.insert(d, i as u32);
                }
                let start = Instant::now();
                black_box(run(|now| w.advance(now).len()));
                let took = start.elapsed();
                wheel_times.borrow_mut().push(took);
                total += took;
            }
            total
        })
    });
    g.bench_function("full_scan", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut s = ScanTimers::new();
                for (i, &d) in deadlines.iter().enumerate() {
                    s.insert(d, i as u32);
                }
                let start = Instant::now();
                black_box(run(|now| s.advance(now).len()));
                let took = start.elapsed();
                scan_times.borrow_mut().push(took);
                total += took;
            }
            total
        })
    });
    g.finish();
    let wheel = median_ns_per_task(&wheel_times.borrow());
    let scan = median_ns_per_task(&scan_times.borrow());
    println!(
        "dispatch cost per task (median of {} / {} runs): wheel {wheel:.1} ns, full scan {scan:.1} ns, scan/wheel = {:.1}x",
        wheel_times.borrow().len(),
        scan_times.borrow().len(),
        scan / wheel
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
