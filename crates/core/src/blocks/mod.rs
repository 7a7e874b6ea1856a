//! Building blocks systems compose (hash rings, LRU caches, ...). Each is written once
//! here and tested against a brute-force twin.

pub mod assignment;
pub mod assignor;
pub mod avro_schema;
pub mod backoff;
pub mod base62;
pub mod critical_path;
pub mod cron;
pub mod geohash;
pub mod gorilla;
pub mod hash_ring;
pub mod haversine;
pub mod idempotency;
pub mod kalman;
pub mod lease;
pub mod ledger;
pub mod lfu;
pub mod lincheck;
pub mod log;
pub mod lru;
pub mod murmur3;
pub mod partitioner;
pub mod quadtree;
pub mod raft;
pub mod rate_limit;
pub mod reed_solomon;
pub mod replay_window;
pub mod siphash;
pub mod snowflake;
pub mod timing_wheel;
pub mod traceparent;
pub mod ttl_map;
pub mod wal;
