//! The linearizability checker on the 102 Jepsen etcd histories (read in place from
//! `../shared/data`): all verdicts together, the slowest single history, and the
//! 50-client key-value history that is linearizable (the largest search). Parsing is done
//! once, outside the timing. Porcupine's figure for the etcd set on this machine class is
//! 0.73 s in total.

#![cfg(not(target_arch = "wasm32"))]

use criterion::{criterion_group, criterion_main, Criterion};
use sdlab_core::blocks::lincheck::{self, AppendKv, ParsedHistory, Register};
use sdlab_core::shared_data::shared_data_dir;
use std::hint::black_box;

type RegisterHistory = Vec<lincheck::Op<lincheck::RegisterInput, lincheck::RegisterOutput>>;

fn etcd_histories(dir: &std::path::Path) -> Vec<(String, RegisterHistory)> {
    let table = std::fs::read_to_string(dir.join("verdicts.tsv")).unwrap();
    table
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(file, _)| {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            match lincheck::parse_history(&text).unwrap() {
                ParsedHistory::Register(ops) => (file.to_string(), ops),
                ParsedHistory::Kv(_) => panic!("{file} is not a register history"),
            }
        })
        .collect()
}

fn all_linearizable_verdicts(histories: &[(String, RegisterHistory)]) -> usize {
    histories.iter().filter(|(_, ops)| lincheck::check(&Register, ops).unwrap().verdict.is_linearizable()).count()
}

fn bench(c: &mut Criterion) {
    let Some(data) = shared_data_dir() else { return };
    let etcd = etcd_histories(&data.join("jepsen-etcd"));
    assert_eq!(etcd.len(), 102);
    assert_eq!(all_linearizable_verdicts(&etcd), 23);
    // The slowest history by search steps (a machine-independent measure).
    let slowest = etcd
        .iter()
        .max_by_key(|(_, ops)| lincheck::check(&Register, ops).unwrap().steps)
        .map(|(f, ops)| (f.clone(), ops.clone()))
        .unwrap();
    let kv =
        match lincheck::parse_history(&std::fs::read_to_string(data.join("jepsen-kv/c50-ok.txt")).unwrap()).unwrap() {
            ParsedHistory::Kv(ops) => ops,
            ParsedHistory::Register(_) => panic!("c50-ok is a key-value history"),
        };

    let mut g = c.benchmark_group("lincheck");
    g.sample_size(20);
    g.bench_function("etcd-all-102", |b| b.iter(|| all_linearizable_verdicts(black_box(&etcd))));
    g.bench_function(format!("etcd-slowest-{}", slowest.0), |b| {
        b.iter(|| lincheck::check(&Register, black_box(&slowest.1)).unwrap())
    });
    g.bench_function("kv-c50-ok", |b| b.iter(|| lincheck::check(&AppendKv, black_box(&kv)).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
