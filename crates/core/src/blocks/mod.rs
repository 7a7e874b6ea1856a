//! Building blocks systems compose (hash rings, LRU caches, ...). Each is written once
//! here and tested against a brute-force twin.

pub mod hash_ring;
pub mod lfu;
pub mod lru;
