//! Kernel throughput on a message-heavy world (see `sim::pingpong`): 64 nodes, each with
//! 8 requests in flight, 200 ms of virtual time. The same workload runs in wasm through
//! `bench_kernel` in crates/web (`cargo xtask bench` reports both and their ratio).

#![cfg(not(target_arch = "wasm32"))]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sdlab_core::sim::pingpong;

pub const NODES: u32 = 64;
pub const WINDOW: u32 = 8;
pub const HORIZON_MS: u64 = 200;

fn kernel(c: &mut Criterion) {
    let events = {
        let mut w = pingpong::world(1, NODES, WINDOW, HORIZON_MS);
        w.run_to_end();
        w.events()
    };
    let mut g = c.benchmark_group("kernel");
    g.throughput(Throughput::Elements(events));
    g.sample_size(20);
    g.bench_function("pingpong-64x8", |b| {
        b.iter(|| {
            let mut w = pingpong::world(1, NODES, WINDOW, HORIZON_MS);
            w.run_to_end();
            w.events()
        })
    });
    g.finish();
}

criterion_group!(benches, kernel);
criterion_main!(benches);
