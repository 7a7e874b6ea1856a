//! Lowe's memo: the (calls placed, state) configurations already explored, with one
//! addition for calls that never returned.
//!
//! A call with no return may be left out, so a configuration in which it is still
//! unplaced can do everything one in which it was placed can (and more: it may place it
//! later, or never). Hence if (required calls placed `R`, open calls placed `P`, state
//! `s`) was explored, every (`R`, `P'`, `s`) with `P' ⊇ P` may be skipped: any way to
//! finish from it also finishes from the explored one, leaving the extra calls out. The
//! memo therefore keys on (`R`, `s`) and keeps, per key, the open-call sets seen; a
//! lookup asks whether one of them is a subset of the current one. On the etcd
//! histories, whose timed-out writes may otherwise be placed at every point of the
//! search, this cuts the work by orders of magnitude. (Required calls cannot be treated
//! this way: leaving one unplaced is not an option.)
//!
//! The table is an open-addressing hash set, written here because the core bans `std`'s
//! hash maps (their iteration order is random; this one is never iterated, and its hashes
//! are fixed functions of the data, so it is deterministic anyway). `R` is hashed
//! incrementally, Zobrist style: each call has a fixed random word and a set's hash is the
//! XOR of its members' words, updated in O(1) per placement. Bit sets live in flat
//! arenas; a lookup allocates nothing.

use crate::sim::rng::mix64;
use crate::trace::hash::StableHasher;
use std::hash::{Hash, Hasher};

const EMPTY: u32 = u32::MAX;

/// The word call `c` contributes to a set's hash.
pub(crate) fn zobrist(c: u32) -> u64 {
    mix64(u64::from(c) ^ 0x6C69_6E63_6865_636B)
}

pub(crate) struct Memo<S> {
    req_words: usize,
    open_words: usize,
    /// Per entry: its hash, its `R` (in `req`), its state, and the head of its chain of
    /// open-call sets (in `open`, linked through `open_next`).
    hashes: Vec<u64>,
    req: Vec<u64>,
    states: Vec<S>,
    chain: Vec<u32>,
    open: Vec<u64>,
    open_next: Vec<u32>,
    /// Entry index per slot, or `EMPTY`; the length is a power of two.
    slots: Vec<u32>,
}

/// Whether every bit of `a` is set in `b`.
fn subset(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x & !y == 0)
}

impl<S: Eq + Hash + Clone> Memo<S> {
    /// A memo for `required` calls that must be placed and `open` calls that may not be.
    pub fn new(required: usize, open: usize) -> Self {
        Memo {
            req_words: required.div_ceil(64),
            open_words: open.div_ceil(64),
            hashes: Vec::new(),
            req: Vec::new(),
            states: Vec::new(),
            chain: Vec::new(),
            open: Vec::new(),
            open_next: Vec::new(),
            slots: vec![EMPTY; 1024],
        }
    }

    fn hash(set_hash: u64, state: &S) -> u64 {
        let mut h = StableHasher::default();
        state.hash(&mut h);
        mix64(h.finish() ^ set_hash)
    }

    /// Records the configuration; `false` if it (or one it is subsumed by) was already
    /// there. `req_hash` is the Zobrist hash of `req`.
    pub fn insert(&mut self, req_hash: u64, req: &[u64], open: &[u64], state: &S) -> bool {
        debug_assert_eq!((req.len(), open.len()), (self.req_words, self.open_words));
        let hash = Self::hash(req_hash, state);
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let e = self.slots[slot];
            if e == EMPTY {
                break;
            }
            let e = e as usize;
            let w = self.req_words;
            if self.hashes[e] == hash && self.req[e * w..(e + 1) * w] == *req && self.states[e] == *state {
                return self.add_open_set(e, open);
            }
            slot = (slot + 1) & mask;
        }
        let e = self.states.len();
        self.slots[slot] = e as u32;
        self.hashes.push(hash);
        self.req.extend_from_slice(req);
        self.states.push(state.clone());
        self.chain.push(EMPTY);
        self.add_open_set(e, open);
        if self.states.len() * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    /// Adds `open` to entry `e`'s sets unless one of them is a subset of it.
    fn add_open_set(&mut self, e: usize, open: &[u64]) -> bool {
        let w = self.open_words;
        let mut at = self.chain[e];
        while at != EMPTY {
            let a = at as usize;
            if subset(&self.open[a * w..(a + 1) * w], open) {
                return false;
            }
            at = self.open_next[a];
        }
        let record = self.open_next.len() as u32;
        self.open.extend_from_slice(open);
        self.open_next.push(self.chain[e]);
        self.chain[e] = record;
        true
    }

    fn grow(&mut self) {
        let mut slots = vec![EMPTY; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for (e, &hash) in self.hashes.iter().enumerate() {
            let mut slot = hash as usize & mask;
            while slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            slots[slot] = e as u32;
        }
        self.slots = slots;
    }
}
