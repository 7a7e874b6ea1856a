//! Golden trace hashes: a fixed table of scenarios and the hash each must produce. The
//! same constants are asserted natively (`cargo test`) and in headless Chromium
//! (`wasm-pack test --headless --chrome crates/core`), which is how we know a link replays
//! bit for bit on both. The table holds every strategy of every catalog system (the
//! conformance suite checks it does). When a deliberate change alters a trace, or a system
//! joins the catalog, regenerate it with `cargo xtask golden --bless` and review the diff.

use crate::scenario::{Scenario, ScenarioSpec};
use crate::sim::pingpong;
use crate::sim::rng::Prng;
use crate::system::{hash_hex, run_validated, BuildOptions};

/// `(system, strategy, seed, expected trace hash)`; the scenario is the system's default
/// scenario with that strategy and seed.
pub const SCENARIOS: &[(&str, &str, u64, &str)] = &[
    // golden:begin (written by `cargo xtask golden --bless`)
    ("url-shortener", "hash", 1, "2a65d39f082e4182"),
    ("url-shortener", "random", 1, "aca4eb275dba44b4"),
    ("url-shortener", "counter", 1, "fa796fd115a240f2"),
    ("url-shortener", "snowflake", 1, "56974e5dc209b68e"),
    ("url-shortener", "snowflake-unguarded", 1, "b694c0a8b691f9a2"),
    ("rate-limiter", "fixed-window", 1, "cbf0671b69c22616"),
    ("rate-limiter", "get-then-set", 1, "3dc51ab8d699e4ae"),
    ("rate-limiter", "local-only", 1, "b6ce846dbb94f85c"),
    ("rate-limiter", "sliding-log", 1, "52206701318e4e48"),
    ("rate-limiter", "sliding-window-counter", 1, "4f4f4ff28840d45b"),
    ("rate-limiter", "token-bucket", 1, "13bd31ffd595b5ec"),
    ("rate-limiter", "leaky-bucket", 1, "13bd31ffd595b5ec"),
    ("rate-limiter", "gcra", 1, "13bd31ffd595b5ec"),
    ("rate-limiter", "local-sync", 1, "3edac9c9abd33f6f"),
    ("rate-limiter", "local-periodic-sync", 1, "a97438932e7f04f3"),
    ("distributed-cache", "modulo", 1, "e818df5e9f38b970"),
    ("distributed-cache", "consistent", 1, "1ec8962e08aec5a0"),
    ("distributed-cache", "rendezvous", 1, "079f431954efc3cf"),
    ("distributed-cache", "jump", 1, "8a1e8cda8b2bbe71"),
    ("chat", "online-only", 1, "97cd93bc28031a39"),
    ("chat", "persist-events", 1, "8b68b715b18d1d74"),
    ("chat", "persist-heartbeat", 1, "223d64c20e7a99ec"),
    ("video-streaming", "single-bitrate", 1, "37835f3921614add"),
    ("video-streaming", "throughput-abr", 1, "bd9569fcfa792abe"),
    ("video-streaming", "no-shield", 1, "a615e0dd20c74536"),
    ("video-streaming", "purge", 1, "d297dc9c9df79274"),
    ("video-streaming", "ack-on-take", 1, "2d5e07a952ff5675"),
    ("video-streaming", "buffer-abr", 1, "e4cf869f48a95943"),
    ("notifications", "inline-loop", 1, "793ad53086ee34c5"),
    ("notifications", "fire-and-forget", 1, "ada1f591237a9b26"),
    ("notifications", "ack-retry-dedup", 1, "32632ef4a2e60c41"),
    ("pub-sub", "commit-before", 1, "ed47fb62f53f3a88"),
    ("pub-sub", "commit-after", 1, "42e8c9360e8ee8f8"),
    ("pub-sub", "transactional", 1, "ce535116cb4f4b9a"),
    ("iot-ingestion", "unbounded-queue", 1, "e8ddacbb77e3355b"),
    ("iot-ingestion", "no-device-buffer", 1, "5f2239457cdc60bb"),
    ("iot-ingestion", "buffer-retry", 1, "02992ee7f37aafa1"),
    ("event-driven", "dual-write", 1, "1c58f3034b83c99a"),
    ("event-driven", "outbox-no-dedup", 1, "91d971052fa941d5"),
    ("event-driven", "outbox-idempotent", 1, "a3818dbe1cfe7125"),
    ("event-driven", "incompatible-schema", 1, "e020986a1cf7dbc9"),
    ("distributed-lock", "setnx-blind-del", 1, "86678cdda87222f5"),
    ("distributed-lock", "token-release", 1, "1cb4d1f93f65d0aa"),
    ("distributed-lock", "fencing", 1, "d5c508167afa4dd4"),
    ("distributed-lock", "redlock", 1, "0f832152e02003fa"),
    ("distributed-lock", "consensus", 1, "890254bbac694eaf"),
    ("cron-scheduler", "every-node", 1, "b1cf81d7bce7107a"),
    ("cron-scheduler", "per-fire-lock", 1, "c3f792d5a5686801"),
    ("cron-scheduler", "leader-lease", 1, "a441abfd92664ffb"),
    ("cron-scheduler", "leader-fencing", 1, "c47cb0769f731a9b"),
    ("distributed-transactions", "2pc-no-log", 1, "82aad976e8fcd2e0"),
    ("distributed-transactions", "2pc-logged", 1, "f2ef3e0a5f2d74da"),
    ("distributed-transactions", "3pc", 1, "736d8403c126a1d1"),
    ("task-scheduler", "poll-table", 1, "c661afd33972053d"),
    ("task-scheduler", "wheel-no-fencing", 1, "3b87280611b7b2fb"),
    ("task-scheduler", "wheel-fencing", 1, "e59492e705a7cb18"),
    ("config-service", "any-replica", 1, "39764252139b764c"),
    ("config-service", "lease-read", 1, "332d4cfa2bceafee"),
    ("config-service", "read-index", 1, "0829494d5237ae5d"),
    ("object-storage", "single-copy", 1, "1c87c28ec1c9cce5"),
    ("object-storage", "replicas-w1", 1, "ad8cc50aa567f5a1"),
    ("object-storage", "quorum", 1, "23bda863f04d53a0"),
    ("object-storage", "reed-solomon", 1, "6870692645ad4ecd"),
    ("time-series-db", "row-uncompressed", 1, "1f820b7cccd6d460"),
    ("time-series-db", "no-wal", 1, "e77e50c5eabd3e9f"),
    ("time-series-db", "gorilla-wal", 1, "c24ab9a1aa6c15d4"),
    ("metadata-catalog", "last-write-wins", 1, "a282a2c1d98ef108"),
    ("metadata-catalog", "no-compat-check", 1, "0e0d8e7b5f44ac0c"),
    ("metadata-catalog", "index-acl", 1, "2d94c038d9eb1c74"),
    ("metadata-catalog", "cas-compat-acl", 1, "52b568502aa6f8e6"),
    ("distributed-tracing", "no-propagation", 1, "14833da4b26a1d9a"),
    ("distributed-tracing", "head-sampling", 1, "dae93434ef5eabcd"),
    ("distributed-tracing", "tail-sampling", 1, "d5d102a4a4bd43a3"),
    ("ride-sharing", "greedy-nearest", 1, "400f8f20c6006c9f"),
    ("ride-sharing", "no-smoothing", 1, "f1e2ccbcecb3143d"),
    ("ride-sharing", "batched-filtered", 1, "9171ac62c4bbf50d"),
    ("payment-gateway", "retry-no-key", 1, "4c59f302c0b63452"),
    ("payment-gateway", "timeout-fails", 1, "6b0b3bd5c64857de"),
    ("payment-gateway", "single-entry", 1, "0b5612bda99b4b99"),
    ("payment-gateway", "keys-double-entry", 1, "bc1ffcd8e7725345"),
    ("feature-flags", "random-per-request", 1, "8c08cffb9c27b5ad"),
    ("feature-flags", "polling", 1, "168e1012436584d3"),
    ("feature-flags", "streaming", 1, "9a19d57767fe719c"),
    ("geo-search", "linear-scan", 1, "5cfe7de36644cf30"),
    ("geo-search", "geohash-cell-only", 1, "b3cba0efb1c6587a"),
    ("geo-search", "geohash-neighbours", 1, "1680c2028d3d2cb9"),
    ("geo-search", "quadtree", 1, "d176b827ef7d3223"),
    ("multi-tenant-saas", "no-tenant-filter", 1, "da96eb81ebcdd5e7"),
    ("multi-tenant-saas", "no-quota", 1, "6c39b1d987609b18"),
    ("multi-tenant-saas", "rls-quota-fair", 1, "25340147851c9a65"),
    ("checkout", "decrement-on-payment", 1, "c1426e7bcfa6a188"),
    ("checkout", "no-compensation", 1, "2386e9991220d791"),
    ("checkout", "saga", 1, "c3d0c4bfa7ad716b"),
    // golden:end
];

/// The kernel benchmark world (8 nodes, window 4, 200 ms) per seed.
pub const PINGPONG: &[(u64, &str)] = &[(1, "6d23b47a84f4ab20"), (2, "831ec08804830fb9")];

/// First draws of the PRNG for seed 42 (catches a platform-dependent random stream).
pub const PRNG_42: &str = "d0764d4f4476689f-fa019efa39bd8725-1.151790652295";

/// Computes the hash of one `SCENARIOS` row.
pub fn scenario_hash(system: &str, strategy: &str, seed: u64) -> Result<String, String> {
    let def = crate::catalog::find(system).ok_or_else(|| format!("unknown system {system}"))?;
    let mut spec: ScenarioSpec = def.default_spec();
    spec.strategy = Some(strategy.to_string());
    spec.seed = seed;
    let scenario = Scenario::validate(def, &spec).map_err(|e| e.to_string())?;
    run_validated(&scenario, &BuildOptions::default()).map(|r| r.trace_hash).map_err(|e| e.to_string())
}

pub fn pingpong_hash(seed: u64) -> String {
    let mut w = pingpong::world(seed, 8, 4, 200);
    w.run_to_end();
    hash_hex(w.trace.hash())
}

pub fn prng_42() -> String {
    let mut r = Prng::new(42);
    let a = r.next_u64();
    let b = r.fork("x").next_u64();
    let c = r.exponential(3.0);
    format!("{a:016x}-{b:016x}-{c:.12}")
}

/// The table's rows for this build: every strategy of every catalog system, seed 1.
pub fn current_rows() -> Vec<String> {
    let mut rows = Vec::new();
    for def in crate::catalog::CATALOG {
        for st in def.strategies {
            let hash = scenario_hash(def.id, st.id, 1).unwrap_or_else(|e| format!("error: {e}"));
            rows.push(format!("    (\"{}\", \"{}\", 1, \"{hash}\"),", def.id, st.id));
        }
    }
    rows
}

/// Every mismatch between the table and this build, as readable lines.
pub fn mismatches() -> Vec<String> {
    let mut out = Vec::new();
    let p = prng_42();
    if p != PRNG_42 {
        out.push(format!("PRNG_42: expected {PRNG_42}, got {p}"));
    }
    for &(seed, want) in PINGPONG {
        let got = pingpong_hash(seed);
        if got != want {
            out.push(format!("PINGPONG seed {seed}: expected {want}, got {got}"));
        }
    }
    for &(system, strategy, seed, want) in SCENARIOS {
        match scenario_hash(system, strategy, seed) {
            Ok(got) if got == want => {}
            Ok(got) => out.push(format!("(\"{system}\", \"{strategy}\", {seed}, \"{got}\") // was {want}")),
            Err(e) => out.push(format!("{system}/{strategy}/{seed}: {e}")),
        }
    }
    out
}
