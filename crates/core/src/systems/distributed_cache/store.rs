//! One cache node's memory: a bounded map of entries under one of three eviction
//! policies — LRU (the shared [`Lru`] block), LFU (the [`Lfu`] block) or "TTL" (evict the
//! entry closest to expiry, like Redis' `volatile-ttl`). Expiry itself is judged by the
//! node, on its own clock.

use super::config::Eviction;
use crate::blocks::lfu::Lfu;
use crate::blocks::lru::Lru;
use crate::sim::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub val: u64,
    /// Local-clock instant the entry stops being served.
    pub expires: SimTime,
    /// How long the last load took (µs): XFetch's Δ.
    pub delta_us: u64,
    /// Acknowledged to a writer but not yet in the database (write-back).
    pub dirty: bool,
}

#[derive(Clone, Debug)]
pub enum Store {
    Lru(Lru<u64, Entry>),
    Lfu(Lfu<u64, Entry>),
    Ttl { cap: usize, map: BTreeMap<u64, Entry>, by_expiry: BTreeSet<(SimTime, u64)> },
}

impl Store {
    pub fn new(eviction: Eviction, cap: usize) -> Store {
        match eviction {
            Eviction::Lru => Store::Lru(Lru::new(cap)),
            Eviction::Lfu => Store::Lfu(Lfu::new(cap)),
            Eviction::Ttl => Store::Ttl { cap: cap.max(1), map: BTreeMap::new(), by_expiry: BTreeSet::new() },
        }
    }

    /// Looks up and counts a use.
    pub fn get(&mut self, key: u64) -> Option<Entry> {
        match self {
            Store::Lru(s) => s.get(&key).copied(),
            Store::Lfu(s) => s.get(&key).copied(),
            Store::Ttl { map, .. } => map.get(&key).copied(),
        }
    }

    pub fn peek(&self, key: u64) -> Option<Entry> {
        match self {
            Store::Lru(s) => s.peek(&key).copied(),
            Store::Lfu(s) => s.peek(&key).copied(),
            Store::Ttl { map, .. } => map.get(&key).copied(),
        }
    }

    /// Inserts or replaces; returns what was evicted to make room.
    pub fn put(&mut self, key: u64, e: Entry) -> Option<(u64, Entry)> {
        match self {
            Store::Lru(s) => s.put(key, e),
            Store::Lfu(s) => s.put(key, e),
            Store::Ttl { cap, map, by_expiry } => {
                if let Some(old) = map.insert(key, e) {
                    by_expiry.remove(&(old.expires, key));
                    by_expiry.insert((e.expires, key));
                    return None;
                }
                by_expiry.insert((e.expires, key));
                if map.len() > *cap {
                    let victim = by_expiry.iter().find(|&&(_, k)| k != key).copied();
                    if let Some((at, k)) = victim {
                        by_expiry.remove(&(at, k));
                        return map.remove(&k).map(|old| (k, old));
                    }
                }
                None
            }
        }
    }

    pub fn remove(&mut self, key: u64) -> Option<Entry> {
        match self {
            Store::Lru(s) => s.remove(&key),
            Store::Lfu(s) => s.remove(&key),
            Store::Ttl { map, by_expiry, .. } => {
                let old = map.remove(&key)?;
                by_expiry.remove(&(old.expires, key));
                Some(old)
            }
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Store::Lru(s) => s.len(),
            Store::Lfu(s) => s.len(),
            Store::Ttl { map, .. } => map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        match self {
            Store::Lru(s) => s.clear(),
            Store::Lfu(s) => s.clear(),
            Store::Ttl { map, by_expiry, .. } => {
                map.clear();
                by_expiry.clear();
            }
        }
    }
}
