//! A bounded LRU map: the eviction policy of most caches. Entries live in a slab linked in
//! recency order; a `BTreeMap` indexes keys (deterministic, no hashing), so `get` and `put`
//! cost O(log n). Tested against a brute-force twin that keeps a plain recency `Vec`.

use std::collections::BTreeMap;

const NIL: usize = usize::MAX;

#[derive(Clone, Debug)]
struct Slot<K, V> {
    key: K,
    value: V,
    prev: usize,
    next: usize,
}

#[derive(Clone, Debug)]
pub struct Lru<K: Ord + Clone, V> {
    capacity: usize,
    index: BTreeMap<K, usize>,
    slots: Vec<Slot<K, V>>,
    free: Vec<usize>,
    head: usize, // most recent
    tail: usize, // least recent
}

impl<K: Ord + Clone, V> Lru<K, V> {
    pub fn new(capacity: usize) -> Self {
        Lru {
            capacity: capacity.max(1),
            index: BTreeMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn unlink(&mut self, i: usize) {
        let (prev, next) = (self.slots[i].prev, self.slots[i].next);
        if prev == NIL {
            self.head = next;
        } else {
            self.slots[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slots[next].prev = prev;
        }
    }

    fn push_front(&mut self, i: usize) {
        self.slots[i].prev = NIL;
        self.slots[i].next = self.head;
        if self.head != NIL {
            self.slots[self.head].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    /// Looks a key up and marks it most recently used.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        let i = *self.index.get(key)?;
        self.unlink(i);
        self.push_front(i);
        Some(&self.slots[i].value)
    }

    /// Looks a key up without touching recency.
    pub fn peek(&self, key: &K) -> Option<&V> {
        self.index.get(key).map(|&i| &self.slots[i].value)
    }

    pub fn contains(&self, key: &K) -> bool {
        self.index.contains_key(key)
    }

    /// Inserts or replaces; returns the evicted entry when the cache was full.
    pub fn put(&mut self, key: K, value: V) -> Option<(K, V)>
    where
        V: Clone,
    {
        if let Some(&i) = self.index.get(&key) {
            self.slots[i].value = value;
            self.unlink(i);
            self.push_front(i);
            return None;
        }
        let mut evicted = None;
        if self.index.len() >= self.capacity {
            let t = self.tail;
            self.unlink(t);
            let k = self.slots[t].key.clone();
            self.index.remove(&k);
            evicted = Some((k, self.slots[t].value.clone()));
            self.free.push(t);
        }
        let slot = Slot {
            key: key.clone(),
            value,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        self.index.insert(key, i);
        self.push_front(i);
        evicted
    }

    pub fn remove(&mut self, key: &K) -> Option<V>
    where
        V: Clone,
    {
        let i = self.index.remove(key)?;
        self.unlink(i);
        self.free.push(i);
        Some(self.slots[i].value.clone())
    }

    pub fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.free.clear();
        self.head = NIL;
        self.tail = NIL;
    }

    /// Keys from most to least recently used.
    pub fn keys_by_recency(&self) -> Vec<K> {
        let mut out = Vec::with_capacity(self.len());
        let mut i = self.head;
        while i != NIL {
            out.push(self.slots[i].key.clone());
            i = self.slots[i].next;
        }
        out
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Brute-force twin: a Vec ordered most-recent first.
        #[test]
        fn matches_recency_vec(cap in 1usize..6, ops in proptest::collection::vec((0u8..3, 0u8..8), 0..200)) {
            let mut lru = Lru::new(cap);
            let mut twin: Vec<(u8, u32)> = Vec::new();
            for (n, (op, k)) in ops.into_iter().enumerate() {
                match op {
                    0 => {
                        let got = lru.get(&k).copied();
                        let pos = twin.iter().position(|e| e.0 == k);
                        let want = pos.map(|p| { let e = twin.remove(p); twin.insert(0, e); e.1 });
                        prop_assert_eq!(got, want);
                    }
                    1 => {
                        let evicted = lru.put(k, n as u32);
                        let mut want = None;
                        if let Some(p) = twin.iter().position(|e| e.0 == k) { twin.remove(p); }
                        else if twin.len() == cap { want = twin.pop(); }
                        twin.insert(0, (k, n as u32));
                        prop_assert_eq!(evicted, want);
                    }
                    _ => {
                        let got = lru.remove(&k);
                        let want = twin.iter().position(|e| e.0 == k).map(|p| twin.remove(p).1);
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(lru.keys_by_recency(), twin.iter().map(|e| e.0).collect::<Vec<_>>());
            }
        }
    }
}
