//! The replicated log as one replica stores it: a snapshot standing in for the compacted
//! prefix, then the entries after it (Ongaro & Ousterhout 2014, §7 "Log compaction").
//! Indices start at 1; index 0 (and everything up to the snapshot) has no entry of its
//! own, only the term of its last entry, which the AppendEntries consistency check needs.

use crate::sim::NodeId;

/// What an entry carries: a command of the state machine, a new leader's no-op (§5.4.2,
/// so entries of earlier terms can commit), or a new cluster configuration (§6; here a
/// single-server change, see `membership`).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Payload<C> {
    Noop,
    Cmd(C),
    /// The full list of voting members from this entry on.
    Members(Vec<NodeId>),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Entry<C> {
    pub term: u64,
    pub payload: Payload<C>,
}

/// A state machine's snapshot: its state after applying every entry up to `index`, the
/// term of that entry, and the configuration in force there.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Snapshot<S> {
    pub index: u64,
    pub term: u64,
    pub members: Vec<NodeId>,
    pub state: S,
}

/// Entries after a compacted prefix `1..=start`.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Log<C> {
    /// Last index covered by the snapshot (0: nothing compacted).
    start: u64,
    /// Term of the entry at `start`.
    start_term: u64,
    entries: Vec<Entry<C>>,
}

impl<C> Default for Log<C> {
    fn default() -> Self {
        Log { start: 0, start_term: 0, entries: Vec::new() }
    }
}

impl<C: Clone> Log<C> {
    /// Last index compacted into the snapshot.
    pub fn start(&self) -> u64 {
        self.start
    }

    pub fn last_index(&self) -> u64 {
        self.start + self.entries.len() as u64
    }

    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.start_term, |e| e.term)
    }

    /// The term of the entry at `index`; `None` if compacted away (below `start`) or beyond
    /// the end. `start` itself answers with the snapshot's term.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.start {
            Some(self.start_term)
        } else {
            self.get(index).map(|e| e.term)
        }
    }

    /// The entry at `index`, if stored (not compacted, not beyond the end).
    pub fn get(&self, index: u64) -> Option<&Entry<C>> {
        if index <= self.start {
            return None;
        }
        self.entries.get((index - self.start - 1) as usize)
    }

    /// Entries `from..` (at most `max`), `from > start`.
    pub fn slice(&self, from: u64, max: usize) -> Vec<Entry<C>> {
        let lo = (from.saturating_sub(self.start + 1) as usize).min(self.entries.len());
        let hi = (lo + max).min(self.entries.len());
        self.entries[lo..hi].to_vec()
    }

    pub fn push(&mut self, e: Entry<C>) {
        self.entries.push(e);
    }

    /// Drops `index` and everything after it (a conflicting suffix, §5.3).
    pub fn truncate_from(&mut self, index: u64) {
        if index > self.start {
            self.entries.truncate((index - self.start - 1) as usize);
        }
    }

    /// Forgets entries up to `index` (which must be stored or be `start`), keeping the rest.
    pub fn compact_to(&mut self, index: u64) {
        if index <= self.start {
            return;
        }
        let term = self.term_at(index).expect("compacting past the end of the log");
        self.entries.drain(..(index - self.start) as usize);
        self.start = index;
        self.start_term = term;
    }

    /// Replaces the whole log by a snapshot ending at (`index`, `term`), keeping any
    /// suffix that agrees with it (§7: "if the follower has an entry matching the
    /// snapshot's last included index and term, it retains the log entries after it").
    pub fn reset_to(&mut self, index: u64, term: u64) {
        if self.term_at(index) == Some(term) && index >= self.start {
            self.compact_to(index);
        } else {
            self.entries.clear();
            self.start = index;
            self.start_term = term;
        }
    }

    /// The newest configuration entry at or before `upto`, with its index.
    pub fn last_members(&self, upto: u64) -> Option<(u64, &Vec<NodeId>)> {
        let upto = upto.min(self.last_index());
        (self.start + 1..=upto).rev().find_map(|i| match &self.get(i)?.payload {
            Payload::Members(m) => Some((i, m)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(term: u64, c: u32) -> Entry<u32> {
        Entry { term, payload: Payload::Cmd(c) }
    }

    /// Against a plain vector of every entry ever kept (the twin never compacts).
    #[test]
    fn compaction_keeps_indices_and_terms_of_an_uncompacted_twin() {
        let mut rng = crate::sim::Prng::new(3);
        let mut log = Log::default();
        let mut twin: Vec<Entry<u32>> = Vec::new();
        for step in 0..3_000u32 {
            match rng.below(10) {
                0..=5 => {
                    let t = twin.last().map_or(1, |x| x.term) + rng.below(2);
                    log.push(e(t, step));
                    twin.push(e(t, step));
                }
                6 | 7 => {
                    let i = rng.between(log.start(), log.last_index());
                    log.compact_to(i);
                }
                _ => {
                    let i = rng.between(log.start() + 1, log.last_index() + 1);
                    log.truncate_from(i);
                    twin.truncate(i as usize - 1);
                }
            }
            assert_eq!(log.last_index(), twin.len() as u64);
            for i in 1..=twin.len() as u64 {
                let want = &twin[i as usize - 1];
                if i > log.start() {
                    assert_eq!(log.get(i), Some(want));
                }
                if i >= log.start() {
                    assert_eq!(log.term_at(i), Some(want.term));
                }
            }
            assert_eq!(log.last_term(), twin.last().map_or(0, |x| x.term));
        }
    }

    #[test]
    fn reset_keeps_a_matching_suffix_and_drops_a_conflicting_log() {
        let mut log = Log::default();
        for t in [1, 1, 2, 2] {
            log.push(e(t, 0));
        }
        log.reset_to(2, 1);
        assert_eq!((log.start(), log.last_index()), (2, 4));
        log.reset_to(3, 5);
        assert_eq!((log.start(), log.last_index(), log.last_term()), (3, 3, 5));
    }
}
