//! A bounded map that, when full, drops the entry closest to expiry (Redis calls the policy
//! `volatile-ttl`). The thinking behind it: an entry about to expire will cost a reload
//! soon anyway, so evicting it loses the fewest hits *if* every entry lives equally long.
//! When every entry gets the same TTL at load time, "expires soonest" is "loaded longest
//! ago", so this is FIFO by load time: it ignores how often an entry is read, which is why
//! it trails LRU and LFU on skewed traffic (see the distributed cache's tests).
//!
//! Two `BTree`s give O(log n) operations and a deterministic order: key → (expiry, value)
//! and the set of (expiry, key); ties on expiry go to the smaller key. Tested against a
//! brute-force twin that scans every entry.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub struct TtlMap<K: Ord + Clone, V> {
    capacity: usize,
    entries: BTreeMap<K, (u64, V)>,
    by_expiry: BTreeSet<(u64, K)>,
}

impl<K: Ord + Clone, V> TtlMap<K, V> {
    pub fn new(capacity: usize) -> Self {
        TtlMap { capacity: capacity.max(1), entries: BTreeMap::new(), by_expiry: BTreeSet::new() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|e| &e.1)
    }

    /// The expiry an entry was stored with.
    pub fn expiry(&self, key: &K) -> Option<u64> {
        self.entries.get(key).map(|e| e.0)
    }

    /// Inserts or replaces `key`, due to expire at `expires`. A new key in a full map
    /// evicts the entry expiring soonest, which is returned; replacing never evicts.
    pub fn put(&mut self, key: K, expires: u64, value: V) -> Option<(K, V)> {
        if let Some(e) = self.entries.get_mut(&key) {
            self.by_expiry.remove(&(e.0, key.clone()));
            self.by_expiry.insert((expires, key));
            *e = (expires, value);
            return None;
        }
        let mut evicted = None;
        if self.entries.len() >= self.capacity {
            if let Some((at, k)) = self.by_expiry.pop_first() {
                evicted = self.entries.remove(&k).map(|e| {
                    debug_assert_eq!(e.0, at);
                    (k, e.1)
                });
            }
        }
        self.by_expiry.insert((expires, key.clone()));
        self.entries.insert(key, (expires, value));
        evicted
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let (at, v) = self.entries.remove(key)?;
        self.by_expiry.remove(&(at, key.clone()));
        Some(v)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.by_expiry.clear();
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Brute-force twin: a Vec of (key, expiry, value); a full insert evicts the
        /// minimum (expiry, key) found by scanning.
        #[test]
        fn matches_scan_twin(
            cap in 1usize..6,
            ops in proptest::collection::vec((0u8..3, 0u8..8, 0u64..6), 0..200),
        ) {
            let mut map = TtlMap::new(cap);
            let mut twin: Vec<(u8, u64, u32)> = Vec::new();
            for (n, (op, k, exp)) in ops.into_iter().enumerate() {
                match op {
                    0 => {
                        let want = twin.iter().find(|e| e.0 == k).map(|e| e.2);
                        prop_assert_eq!(map.get(&k).copied(), want);
                        prop_assert_eq!(map.expiry(&k), twin.iter().find(|e| e.0 == k).map(|e| e.1));
                    }
                    1 => {
                        let got = map.put(k, exp, n as u32);
                        let mut want = None;
                        if let Some(e) = twin.iter_mut().find(|e| e.0 == k) {
                            e.1 = exp;
                            e.2 = n as u32;
                        } else {
                            if twin.len() == cap {
                                let (i, _) = twin.iter().enumerate().min_by_key(|(_, e)| (e.1, e.0)).unwrap();
                                let e = twin.remove(i);
                                want = Some((e.0, e.2));
                            }
                            twin.push((k, exp, n as u32));
                        }
                        prop_assert_eq!(got, want);
                    }
                    _ => {
                        let want = twin.iter().position(|e| e.0 == k).map(|p| twin.remove(p).2);
                        prop_assert_eq!(map.remove(&k), want);
                    }
                }
                prop_assert_eq!(map.len(), twin.len());
            }
        }
    }

    #[test]
    fn equal_ttls_make_it_fifo_by_load_time() {
        let mut m = TtlMap::new(2);
        m.put("a", 10, ());
        m.put("b", 20, ());
        // Reading "a" does not save it: only the expiry orders entries.
        assert!(m.get(&"a").is_some());
        assert_eq!(m.put("c", 30, ()), Some(("a", ())));
        // Reloading "b" moves its expiry, so "c" is now the oldest load.
        m.put("b", 40, ());
        assert_eq!(m.put("d", 50, ()), Some(("c", ())));
    }
}
