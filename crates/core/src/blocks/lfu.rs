//! A bounded LFU map: when full, evict the least frequently used entry, the oldest use
//! breaking ties (the "LFU with LRU tie-break" of most cache libraries). Frequencies are
//! plain counts since insertion — no ageing — which is exactly why LFU keeps yesterday's
//! hot keys too long; the cache system shows that next to LRU. Two `BTree`s give O(log n)
//! operations: key → (count, tick, value) and the ordered set of (count, tick, key).
//! Tested against a brute-force twin that scans every entry.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub struct Lfu<K: Ord + Clone, V> {
    capacity: usize,
    tick: u64,
    entries: BTreeMap<K, (u64, u64, V)>,
    order: BTreeSet<(u64, u64, K)>,
}

impl<K: Ord + Clone, V: Clone> Lfu<K, V> {
    pub fn new(capacity: usize) -> Self {
        Lfu { capacity: capacity.max(1), tick: 0, entries: BTreeMap::new(), order: BTreeSet::new() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn touch(&mut self, key: &K) {
        self.tick += 1;
        if let Some(e) = self.entries.get_mut(key) {
            self.order.remove(&(e.0, e.1, key.clone()));
            e.0 += 1;
            e.1 = self.tick;
            self.order.insert((e.0, e.1, key.clone()));
        }
    }

    /// Looks a key up and counts the use.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        if !self.entries.contains_key(key) {
            return None;
        }
        self.touch(key);
        self.entries.get(key).map(|e| &e.2)
    }

    /// Looks a key up without counting.
    pub fn peek(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|e| &e.2)
    }

    /// Inserts (a new key starts at count 1) or replaces (counts as a use); returns the
    /// evicted entry when the map was full.
    pub fn put(&mut self, key: K, value: V) -> Option<(K, V)> {
        if self.entries.contains_key(&key) {
            self.touch(&key);
            if let Some(e) = self.entries.get_mut(&key) {
                e.2 = value;
            }
            return None;
        }
        let mut evicted = None;
        if self.entries.len() >= self.capacity {
            if let Some((c, t, k)) = self.order.iter().next().cloned() {
                self.order.remove(&(c, t, k.clone()));
                evicted = self.entries.remove(&k).map(|e| (k, e.2));
            }
        }
        self.tick += 1;
        self.order.insert((1, self.tick, key.clone()));
        self.entries.insert(key, (1, self.tick, value));
        evicted
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let e = self.entries.remove(key)?;
        self.order.remove(&(e.0, e.1, key.clone()));
        Some(e.2)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }

    /// Use count of a key.
    pub fn count(&self, key: &K) -> Option<u64> {
        self.entries.get(key).map(|e| e.0)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.keys()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Brute-force twin: a Vec of (key, count, last use, value), eviction by scan.
        #[test]
        fn matches_scan_twin(cap in 1usize..6, ops in proptest::collection::vec((0u8..3, 0u8..8), 0..200)) {
            let mut lfu = Lfu::new(cap);
            let mut twin: Vec<(u8, u64, u64, u32)> = Vec::new();
            let mut tick = 0u64;
            for (n, (op, k)) in ops.into_iter().enumerate() {
                match op {
                    0 => {
                        let got = lfu.get(&k).copied();
                        let want = twin.iter_mut().find(|e| e.0 == k).map(|e| { tick += 1; e.1 += 1; e.2 = tick; e.3 });
                        prop_assert_eq!(got, want);
                    }
                    1 => {
                        let evicted = lfu.put(k, n as u32);
                        let mut want = None;
                        tick += 1;
                        if let Some(e) = twin.iter_mut().find(|e| e.0 == k) {
                            e.1 += 1; e.2 = tick; e.3 = n as u32;
                        } else {
                            if twin.len() == cap {
                                let (i, _) = twin.iter().enumerate().min_by_key(|(_, e)| (e.1, e.2)).unwrap();
                                let e = twin.remove(i);
                                want = Some((e.0, e.3));
                            }
                            twin.push((k, 1, tick, n as u32));
                        }
                        prop_assert_eq!(evicted, want);
                    }
                    _ => {
                        let got = lfu.remove(&k);
                        let want = twin.iter().position(|e| e.0 == k).map(|p| twin.remove(p).3);
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(lfu.len(), twin.len());
            }
        }
    }
}
