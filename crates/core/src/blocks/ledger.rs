//! A double-entry ledger: accounts, balances, and a journal of named entries.
//!
//! Every movement of money is one journal *entry* whose postings sum to zero (debits
//! positive, credits negative), named by an id the caller chooses (a payment and its
//! movement, an order and its step). An entry is applied whole or not at all: one whose
//! postings do not sum to zero is refused, never half-written. An entry whose id is
//! already in the journal is recognised and not applied again, so a writer may retry and
//! replay freely. Balances are sums of postings, so the trial balance (every account
//! summed) is zero by construction; any one-sided write shows as a non-zero total.
//!
//! [`Journal::adjust`] is the other design, single entry: one balance changed in place by
//! its own write, with no id and no partner. Systems keep it to show what double entry
//! protects against (a retried `balance += delta` counts twice; nothing balances it).
//!
//! This is Pacioli's rule (*Summa de arithmetica*, 1494, "Particularis de computis et
//! scripturis"): every debit has an equal credit. Tested against a brute-force twin that
//! keeps every applied posting in a list and sums it on demand, and by the property that
//! every entry the journal accepted sums to zero.

use std::collections::{BTreeMap, BTreeSet};

/// What [`Journal::post`] did with an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    /// The entry was new and balanced: its postings are in the balances.
    Applied,
    /// An entry with this id is already in the journal: nothing changed.
    Duplicate,
    /// The postings do not sum to zero: refused, nothing changed.
    Unbalanced,
}

/// Balances per account `A` and the ids `E` of the entries applied.
#[derive(Clone, Debug)]
pub struct Journal<A: Ord + Copy, E: Ord + Copy> {
    balances: BTreeMap<A, i64>,
    entries: BTreeSet<E>,
    /// Entries (and single-entry adjustments) applied.
    pub applied: u64,
    /// Entries recognised as already applied.
    pub duplicates: u64,
    /// Entries refused as unbalanced.
    pub refused: u64,
}

impl<A: Ord + Copy, E: Ord + Copy> Default for Journal<A, E> {
    fn default() -> Self {
        Journal { balances: BTreeMap::new(), entries: BTreeSet::new(), applied: 0, duplicates: 0, refused: 0 }
    }
}

impl<A: Ord + Copy, E: Ord + Copy> Journal<A, E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies entry `id` with `postings` (debits positive), once, and only if it balances.
    pub fn post(&mut self, id: E, postings: &[(A, i64)]) -> Posted {
        if self.entries.contains(&id) {
            self.duplicates += 1;
            return Posted::Duplicate;
        }
        if postings.iter().map(|p| p.1).sum::<i64>() != 0 {
            self.refused += 1;
            return Posted::Unbalanced;
        }
        self.entries.insert(id);
        for &(a, d) in postings {
            *self.balances.entry(a).or_insert(0) += d;
        }
        self.applied += 1;
        Posted::Applied
    }

    /// Single entry: adds `delta` to one balance, with no id and no partner posting.
    pub fn adjust(&mut self, account: A, delta: i64) {
        *self.balances.entry(account).or_insert(0) += delta;
        self.applied += 1;
    }

    /// Whether entry `id` has been applied.
    pub fn contains(&self, id: &E) -> bool {
        self.entries.contains(id)
    }

    /// One account's balance (zero if it was never posted to).
    pub fn balance(&self, account: A) -> i64 {
        self.balances.get(&account).copied().unwrap_or(0)
    }

    /// Every account ever posted to, with its balance, in account order.
    pub fn balances(&self) -> &BTreeMap<A, i64> {
        &self.balances
    }

    /// The trial balance: every account summed (zero when the books balance).
    pub fn trial_balance(&self) -> i64 {
        self.balances.values().sum()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    /// The twin: every applied posting in a list; balances summed by scanning it.
    #[derive(Default)]
    struct Twin {
        ids: Vec<u32>,
        postings: Vec<(u8, i64)>,
    }

    impl Twin {
        fn post(&mut self, id: u32, postings: &[(u8, i64)]) -> Posted {
            if self.ids.contains(&id) {
                return Posted::Duplicate;
            }
            if postings.iter().map(|p| p.1).sum::<i64>() != 0 {
                return Posted::Unbalanced;
            }
            self.ids.push(id);
            self.postings.extend_from_slice(postings);
            Posted::Applied
        }

        fn balance(&self, a: u8) -> i64 {
            self.postings.iter().filter(|p| p.0 == a).map(|p| p.1).sum()
        }
    }

    fn random_entry(rng: &mut Prng) -> Vec<(u8, i64)> {
        let n = rng.between(1, 4) as usize;
        let mut postings: Vec<(u8, i64)> = (0..n).map(|_| (rng.below(6) as u8, rng.between(1, 500) as i64)).collect();
        // Most entries are made to balance; a few are left one-sided.
        if !rng.chance(0.15) {
            let sum: i64 = postings.iter().map(|p| p.1).sum();
            postings.push((rng.below(6) as u8, -sum));
        }
        postings
    }

    #[test]
    fn matches_twin_and_every_accepted_entry_sums_to_zero() {
        for seed in 0..40 {
            let mut rng = Prng::new(seed);
            let (mut j, mut twin) = (Journal::<u8, u32>::new(), Twin::default());
            for _ in 0..300 {
                let id = rng.below(120) as u32;
                let entry = random_entry(&mut rng);
                let got = j.post(id, &entry);
                assert_eq!(got, twin.post(id, &entry), "seed {seed} entry {id}");
                if got == Posted::Applied {
                    assert_eq!(entry.iter().map(|p| p.1).sum::<i64>(), 0, "an accepted entry sums to zero");
                }
                assert_eq!(j.trial_balance(), 0, "the books balance after every step");
                for a in 0..6 {
                    assert_eq!(j.balance(a), twin.balance(a), "seed {seed} account {a}");
                }
            }
            assert_eq!(j.applied as usize, twin.ids.len());
        }
    }

    #[test]
    fn retries_are_harmless_and_adjustments_are_not() {
        let mut j = Journal::<u8, u32>::new();
        assert_eq!(j.post(7, &[(0, 100), (1, -100)]), Posted::Applied);
        assert_eq!(j.post(7, &[(0, 100), (1, -100)]), Posted::Duplicate);
        assert_eq!(j.balance(0), 100);
        assert_eq!(j.post(8, &[(0, 100)]), Posted::Unbalanced);
        assert!(!j.contains(&8));
        j.adjust(0, 100);
        j.adjust(0, 100);
        assert_eq!(j.trial_balance(), 200, "single entry: two retried writes, both counted, nothing balancing them");
    }
}
