//! Idempotency keys as the IETF draft "The Idempotency-Key HTTP Header Field"
//! (draft-ietf-httpapi-idempotency-key-header) describes them: the server stores each key
//! with a fingerprint of the request that first used it and a pointer to that request's
//! resource, for a retention period.
//!
//! A later request with the same key is one of three cases, and the store says which:
//! - the same fingerprint: a retry. The server answers with the stored result, or, if the
//!   first request is still being processed, with a conflict (HTTP 409): the caller knows
//!   which, from the resource the key points at ([`Lookup::Known`]);
//! - a different fingerprint: the key is being reused for a different request, refused
//!   (HTTP 422, [`Lookup::Mismatch`]);
//! - no live key (never seen, or past its retention): a new request ([`Lookup::Fresh`]).
//!
//! Keys are scoped by the caller (the draft scopes them per client), so `K` is usually a
//! (client, key) pair. The store is bounded: when full, the key closest to expiry goes
//! first ([`TtlMap`]). Tested against a brute-force twin that scans every binding.

use crate::blocks::ttl_map::TtlMap;

/// What a stored key says about a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup<R> {
    /// No live key: process the request as new (and [`IdempotencyKeys::bind`] the key).
    Fresh,
    /// A retry of the request that created `R`: answer from it (or 409 if it is in flight).
    Known(R),
    /// The key was first used with a different request: refuse (422).
    Mismatch,
}

#[derive(Clone, Copy, Debug)]
struct Binding<R> {
    resource: R,
    fingerprint: u64,
}

/// Keys `K` bound to the resource `R` their first request created, until they expire.
#[derive(Clone, Debug)]
pub struct IdempotencyKeys<K: Ord + Clone, R: Copy> {
    keys: TtlMap<K, Binding<R>>,
}

impl<K: Ord + Clone, R: Copy> IdempotencyKeys<K, R> {
    /// A store holding at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        IdempotencyKeys { keys: TtlMap::new(capacity) }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// What key `key` says about a request with fingerprint `fingerprint` at time `now`
    /// (the key lives while its expiry is after `now`).
    pub fn lookup(&self, key: &K, fingerprint: u64, now: u64) -> Lookup<R> {
        let live = self.keys.expiry(key).is_some_and(|e| e > now);
        match self.keys.get(key).filter(|_| live) {
            None => Lookup::Fresh,
            Some(b) if b.fingerprint != fingerprint => Lookup::Mismatch,
            Some(b) => Lookup::Known(b.resource),
        }
    }

    /// Stores `key` for the request with `fingerprint` that created `resource`, until
    /// `expires`. Returns the key evicted to make room, if any.
    pub fn bind(&mut self, key: K, fingerprint: u64, resource: R, expires: u64) -> Option<K> {
        self.keys.put(key, expires, Binding { resource, fingerprint }).map(|(k, _)| k)
    }

    /// Forgets every key (a store that does not survive a crash).
    pub fn clear(&mut self) {
        self.keys.clear();
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    /// The twin, without eviction: every binding in a list, scanned.
    #[derive(Default)]
    struct Twin {
        bindings: Vec<(u32, u64, u32, u64)>,
    }

    impl Twin {
        fn lookup(&self, key: u32, fp: u64, now: u64) -> Lookup<u32> {
            match self.bindings.iter().find(|b| b.0 == key && b.3 > now) {
                None => Lookup::Fresh,
                Some(b) if b.1 != fp => Lookup::Mismatch,
                Some(b) => Lookup::Known(b.2),
            }
        }

        fn bind(&mut self, key: u32, fp: u64, r: u32, expires: u64) {
            self.bindings.retain(|b| b.0 != key);
            self.bindings.push((key, fp, r, expires));
        }
    }

    #[test]
    fn matches_twin() {
        for seed in 0..30 {
            let mut rng = Prng::new(seed);
            let (mut store, mut twin) = (IdempotencyKeys::<u32, u32>::new(10_000), Twin::default());
            let mut now = 0;
            for r in 0..400 {
                now += rng.below(30);
                let key = rng.below(40) as u32;
                let fp = rng.below(3);
                let got = store.lookup(&key, fp, now);
                assert_eq!(got, twin.lookup(key, fp, now), "seed {seed} step {r}");
                if got == Lookup::Fresh {
                    let expires = now + rng.between(1, 300);
                    store.bind(key, fp, r, expires);
                    twin.bind(key, fp, r, expires);
                }
            }
        }
    }

    #[test]
    fn the_three_answers() {
        let mut store = IdempotencyKeys::<(u32, u64), u64>::new(4);
        assert_eq!(store.lookup(&(1, 9), 5, 0), Lookup::Fresh);
        store.bind((1, 9), 5, 42, 100);
        assert_eq!(store.lookup(&(1, 9), 5, 10), Lookup::Known(42), "same key, same request: the stored result");
        assert_eq!(store.lookup(&(1, 9), 6, 10), Lookup::Mismatch, "same key, different request: refused");
        assert_eq!(store.lookup(&(2, 9), 5, 10), Lookup::Fresh, "keys are scoped per client");
        assert_eq!(store.lookup(&(1, 9), 5, 100), Lookup::Fresh, "past retention the key is gone");
    }
}
