//! Key placement: which member of a changing set owns a key. Four schemes behind one
//! trait, [`Placement`], so a system can swap them and count what moves when a member
//! joins or leaves:
//!
//! - [`Modulo`]: `live[hash % n]`. Even, trivial, and moves about `n/(n+1)` of all keys
//!   when one member joins — the naive answer.
//! - [`Ring`]: consistent hashing (Karger et al., STOC 1997) with virtual nodes: every
//!   member places `vnodes` tokens on a 64-bit ring and a key belongs to the first token
//!   clockwise. One join moves only the keys the newcomer takes, about `1/(n+1)`.
//! - [`Rendezvous`]: highest random weight (Thaler & Ravishankar, 1998): a key goes to the
//!   member with the largest `hash(key, member)`. Exactly the leaver's keys move.
//! - [`Jump`]: jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent
//!   Hash Algorithm", 2014). Buckets are numbered, and the published algorithm can only
//!   grow or shrink at the end; we keep a member's bucket number fixed and, when a bucket's
//!   member is gone, re-jump the key with a fresh hash until it lands on a live bucket, so
//!   removing any member moves only that member's keys.
//!
//! Members are `u32` ids; keys are `u64` and are hashed with SplitMix64 first so that
//! sequential keys spread out. All of it is integer arithmetic (jump hash's one division
//! is IEEE-exact double arithmetic), so placements agree natively and in wasm.

use crate::sim::rng::mix64;
use std::collections::BTreeSet;

/// Hash of a key as every scheme sees it.
pub fn key_hash(key: u64) -> u64 {
    mix64(key ^ 0x5bd1_e995_c0ff_ee00)
}

/// Who owns a key among the current members.
pub trait Placement {
    /// The member that owns `key`, or `None` when there are no members.
    fn owner(&self, key: u64) -> Option<u32> {
        self.owners(key, 1).first().copied()
    }
    /// Up to `replicas` distinct members for `key`, the owner first.
    fn owners(&self, key: u64, replicas: usize) -> Vec<u32>;
    /// The members, in id order.
    fn members(&self) -> Vec<u32>;
}

/// Which scheme to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Modulo,
    Ring {
        vnodes: u32,
    },
    Rendezvous,
    /// Jump hash over `buckets` numbered slots (at least one more than the largest member).
    Jump {
        buckets: u32,
    },
}

/// Any of the four schemes, built from a member set.
#[derive(Clone, Debug)]
pub enum AnyPlacement {
    Modulo(Modulo),
    Ring(Ring),
    Rendezvous(Rendezvous),
    Jump(Jump),
}

impl AnyPlacement {
    pub fn build(scheme: Scheme, members: &BTreeSet<u32>) -> AnyPlacement {
        match scheme {
            Scheme::Modulo => AnyPlacement::Modulo(Modulo::new(members)),
            Scheme::Ring { vnodes } => AnyPlacement::Ring(Ring::new(members, vnodes)),
            Scheme::Rendezvous => AnyPlacement::Rendezvous(Rendezvous::new(members)),
            Scheme::Jump { buckets } => AnyPlacement::Jump(Jump::new(members, buckets)),
        }
    }

    fn inner(&self) -> &dyn Placement {
        match self {
            AnyPlacement::Modulo(p) => p,
            AnyPlacement::Ring(p) => p,
            AnyPlacement::Rendezvous(p) => p,
            AnyPlacement::Jump(p) => p,
        }
    }
}

impl Placement for AnyPlacement {
    fn owners(&self, key: u64, replicas: usize) -> Vec<u32> {
        self.inner().owners(key, replicas)
    }
    fn members(&self) -> Vec<u32> {
        self.inner().members()
    }
}

/// Fraction of `keys` whose owner differs between two placements (the brute-force count
/// the key-movement check uses).
pub fn moved_fraction(before: &dyn Placement, after: &dyn Placement, keys: &[u64]) -> f64 {
    if keys.is_empty() {
        return 0.0;
    }
    let moved = keys.iter().filter(|&&k| before.owner(k) != after.owner(k)).count();
    moved as f64 / keys.len() as f64
}

/// `live[hash % n]`.
#[derive(Clone, Debug)]
pub struct Modulo {
    live: Vec<u32>,
}

impl Modulo {
    pub fn new(members: &BTreeSet<u32>) -> Modulo {
        Modulo { live: members.iter().copied().collect() }
    }
}

impl Placement for Modulo {
    fn owners(&self, key: u64, replicas: usize) -> Vec<u32> {
        let n = self.live.len();
        if n == 0 {
            return Vec::new();
        }
        let first = (key_hash(key) % n as u64) as usize;
        (0..replicas.min(n)).map(|i| self.live[(first + i) % n]).collect()
    }
    fn members(&self) -> Vec<u32> {
        self.live.clone()
    }
}

/// A consistent-hash ring with virtual nodes: sorted `(token, member)` pairs.
#[derive(Clone, Debug)]
pub struct Ring {
    tokens: Vec<(u64, u32)>,
    live: Vec<u32>,
}

/// Where virtual node `v` of member `m` sits on the ring.
pub fn token_of(member: u32, v: u32) -> u64 {
    mix64(mix64(u64::from(member) ^ 0xa076_1d64_78bd_642f) ^ u64::from(v))
}

impl Ring {
    pub fn new(members: &BTreeSet<u32>, vnodes: u32) -> Ring {
        let vnodes = vnodes.max(1);
        let mut tokens: Vec<(u64, u32)> =
            members.iter().flat_map(|&m| (0..vnodes).map(move |v| (token_of(m, v), m))).collect();
        tokens.sort_unstable();
        Ring { tokens, live: members.iter().copied().collect() }
    }

    /// The ring's tokens in order (for drawing).
    pub fn tokens(&self) -> &[(u64, u32)] {
        &self.tokens
    }
}

impl Placement for Ring {
    fn owners(&self, key: u64, replicas: usize) -> Vec<u32> {
        let want = replicas.min(self.live.len());
        let mut out = Vec::with_capacity(want);
        if want == 0 {
            return out;
        }
        let h = key_hash(key);
        let start = self.tokens.partition_point(|&(t, _)| t < h);
        for i in 0..self.tokens.len() {
            let m = self.tokens[(start + i) % self.tokens.len()].1;
            if !out.contains(&m) {
                out.push(m);
                if out.len() == want {
                    break;
                }
            }
        }
        out
    }
    fn members(&self) -> Vec<u32> {
        self.live.clone()
    }
}

/// Highest random weight.
#[derive(Clone, Debug)]
pub struct Rendezvous {
    live: Vec<u32>,
}

impl Rendezvous {
    pub fn new(members: &BTreeSet<u32>) -> Rendezvous {
        Rendezvous { live: members.iter().copied().collect() }
    }

    /// The weight of `member` for `key`.
    pub fn weight(key: u64, member: u32) -> u64 {
        mix64(key_hash(key) ^ mix64(u64::from(member).wrapping_add(0x9e37_79b9)))
    }
}

impl Placement for Rendezvous {
    fn owners(&self, key: u64, replicas: usize) -> Vec<u32> {
        let mut w: Vec<(u64, u32)> = self.live.iter().map(|&m| (Rendezvous::weight(key, m), m)).collect();
        w.sort_unstable_by(|a, b| b.cmp(a));
        w.into_iter().take(replicas).map(|(_, m)| m).collect()
    }
    fn members(&self) -> Vec<u32> {
        self.live.clone()
    }
}

/// The published jump consistent hash: bucket in `0..buckets` for `key`.
pub fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as u32
}

/// Jump hash over member ids used as bucket numbers; absent buckets are skipped by
/// re-jumping with a fresh hash of the key. The bucket count must not shrink when the
/// highest member leaves (keys that re-jumped past an absent bucket would land elsewhere),
/// so it is fixed by the caller at the cluster's largest size and only ever grows.
#[derive(Clone, Debug)]
pub struct Jump {
    /// `alive[b]`: whether bucket `b` has a member.
    alive: Vec<bool>,
    live: Vec<u32>,
}

/// Re-jumps tried before falling back to a scan (the chance of needing more is
/// (dead fraction)^64).
const JUMP_ATTEMPTS: u64 = 64;

impl Jump {
    pub fn new(members: &BTreeSet<u32>, buckets: u32) -> Jump {
        let buckets = members.iter().next_back().map_or(0, |&m| m as usize + 1).max(buckets as usize);
        let mut alive = vec![false; buckets];
        for &m in members {
            alive[m as usize] = true;
        }
        Jump { alive, live: members.iter().copied().collect() }
    }
}

impl Placement for Jump {
    fn owners(&self, key: u64, replicas: usize) -> Vec<u32> {
        let want = replicas.min(self.live.len());
        let mut out = Vec::with_capacity(want);
        let buckets = self.alive.len() as u32;
        if buckets == 0 {
            return out;
        }
        let h = key_hash(key);
        let mut attempt = 0;
        while out.len() < want && attempt < JUMP_ATTEMPTS {
            let k = if attempt == 0 { h } else { mix64(h ^ attempt) };
            let b = jump_hash(k, buckets);
            if self.alive[b as usize] && !out.contains(&b) {
                out.push(b);
            }
            attempt += 1;
        }
        // Practically unreachable; keeps the answer total.
        for &m in &self.live {
            if out.len() >= want {
                break;
            }
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }
    fn members(&self) -> Vec<u32> {
        self.live.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[u32]) -> BTreeSet<u32> {
        ids.iter().copied().collect()
    }

    /// Published vectors from the reference implementation's test suite (as used by the
    /// Go port `dgryski/go-jump`).
    #[test]
    fn jump_hash_matches_published_vectors() {
        assert_eq!(jump_hash(1, 1), 0);
        assert_eq!(jump_hash(42, 57), 43);
        assert_eq!(jump_hash(0xDEAD_10CC, 1), 0);
        assert_eq!(jump_hash(0xDEAD_10CC, 666), 361);
        assert_eq!(jump_hash(256, 1024), 520);
    }

    /// The paper's defining property: growing from n to n+1 buckets either keeps a key or
    /// moves it to the new bucket.
    #[test]
    fn jump_hash_only_moves_keys_to_the_new_bucket() {
        for key in 0..2_000u64 {
            let k = key_hash(key);
            for n in 1..40 {
                let (a, b) = (jump_hash(k, n), jump_hash(k, n + 1));
                assert!(a == b || b == n, "key {key}: {a} -> {b} at n={n}");
            }
        }
    }

    /// Brute-force twin for the ring: the owner is the member of the smallest token ≥ the
    /// key hash (wrapping), found by a linear scan over every (member, vnode).
    #[test]
    fn ring_owner_matches_linear_scan() {
        let members = set(&[0, 2, 3, 7]);
        let ring = Ring::new(&members, 16);
        for key in 0..3_000u64 {
            let h = key_hash(key);
            let mut all: Vec<(u64, u32)> =
                members.iter().flat_map(|&m| (0..16).map(move |v| (token_of(m, v), m))).collect();
            all.sort_unstable();
            let want = all.iter().find(|&&(t, _)| t >= h).unwrap_or(&all[0]).1;
            assert_eq!(ring.owner(key), Some(want));
        }
    }

    #[test]
    fn rendezvous_owner_is_the_heaviest() {
        let members = set(&[1, 4, 5]);
        let r = Rendezvous::new(&members);
        for key in 0..1_000u64 {
            let best = members.iter().copied().max_by_key(|&m| Rendezvous::weight(key, m));
            assert_eq!(r.owner(key), best);
        }
    }

    /// Movement fractions against the ideal, counted by brute force over 20 000 keys.
    #[test]
    fn movement_on_join_and_leave() {
        let keys: Vec<u64> = (0..20_000).collect();
        let before = set(&[0, 1, 2, 3]);
        let joined = set(&[0, 1, 2, 3, 4]);
        let left = set(&[0, 2, 3]);
        let schemes = [Scheme::Ring { vnodes: 128 }, Scheme::Rendezvous, Scheme::Jump { buckets: 5 }];
        for s in schemes {
            let a = AnyPlacement::build(s, &before);
            let join = moved_fraction(&a, &AnyPlacement::build(s, &joined), &keys);
            let leave = moved_fraction(&a, &AnyPlacement::build(s, &left), &keys);
            assert!((join - 0.2).abs() < 0.05, "{s:?} join moved {join}");
            assert!((leave - 0.25).abs() < 0.05, "{s:?} leave moved {leave}");
        }
        let a = AnyPlacement::build(Scheme::Modulo, &before);
        let join = moved_fraction(&a, &AnyPlacement::build(Scheme::Modulo, &joined), &keys);
        assert!((join - 0.8).abs() < 0.03, "modulo join moved {join}");
    }

    /// Minimal movement, exactly: for every member set drawn from six ids and every
    /// member leaving it, only the leaver's keys change owner (and, read backwards, a join
    /// only takes keys to the newcomer).
    #[test]
    fn leave_moves_only_the_leavers_keys() {
        for mask in 1u32..64 {
            let before: BTreeSet<u32> = (0..6).filter(|i| mask & (1 << i) != 0).collect();
            for &gone in &before {
                let mut after = before.clone();
                after.remove(&gone);
                for s in [Scheme::Ring { vnodes: 16 }, Scheme::Rendezvous, Scheme::Jump { buckets: 6 }] {
                    let (a, b) = (AnyPlacement::build(s, &before), AnyPlacement::build(s, &after));
                    for key in 0..400u64 {
                        let (x, y) = (a.owner(key), b.owner(key));
                        assert!(x == y || x == Some(gone), "{s:?} {before:?} - {gone}, key {key}: {x:?} -> {y:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn replicas_are_distinct_members() {
        let members = set(&[0, 1, 2, 5]);
        for s in [Scheme::Modulo, Scheme::Ring { vnodes: 8 }, Scheme::Rendezvous, Scheme::Jump { buckets: 5 }] {
            let p = AnyPlacement::build(s, &members);
            for key in 0..500u64 {
                let o = p.owners(key, 3);
                assert_eq!(o.len(), 3, "{s:?}");
                let uniq: BTreeSet<u32> = o.iter().copied().collect();
                assert_eq!(uniq.len(), 3);
                assert!(uniq.is_subset(&members));
                assert_eq!(Some(o[0]), p.owner(key));
            }
            assert!(AnyPlacement::build(s, &BTreeSet::new()).owner(1).is_none());
        }
    }
}
