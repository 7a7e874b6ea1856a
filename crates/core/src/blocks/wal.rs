//! A write-ahead log with forced and lazy writes, the way a database's log manager sees
//! its disk. `append` puts a record in the log buffer (memory); `force` starts a flush of
//! everything appended so far and returns a ticket; when the caller's fsync finishes it
//! calls `complete(ticket)` and every record the flush covered is durable. A crash keeps
//! the durable prefix and loses the rest, including flushes that had not finished.
//!
//! Two facts of real logs follow from this shape. A lazy write (a presumed-abort
//! participant's abort record, a coordinator's end record) becomes durable only when some
//! later force flushes it, so a crash can lose it. And one flush carries every record
//! buffered before it (group commit), so the durable part is always a prefix of the log:
//! the order of records on disk is the order they were appended (Gray and Reuter,
//! "Transaction Processing: Concepts and Techniques", 1993, ch. 9–10).
//!
//! A log that only grows cannot run for long, so `checkpoint` drops durable records the
//! caller no longer needs — the records of transactions that are over — and keeps the
//! rest, in order, still durable. It is the step PostgreSQL takes when it copies the
//! state of prepared (in-doubt) transactions out of the WAL segments it is about to
//! recycle (`CheckPointTwoPhase`, src/backend/access/transam/twophase.c): what an
//! in-doubt transaction needs survives, everything else goes. Only the durable prefix is
//! touched (a record still in the buffer has not reached the disk that is being
//! compacted), and the rewrite is atomic: a crash keeps either the old durable prefix or
//! the new one, never a mix (real logs get this by writing the new segment and renaming
//! it into place).
//!
//! The caller models the fsync's latency (a timer); this type only keeps the books.
//! Tested against a brute-force twin that tracks, record by record, which flushes cover it.

/// A log of records `R`: a durable prefix followed by a volatile tail.
#[derive(Clone, Debug)]
pub struct Wal<R> {
    records: Vec<R>,
    /// Records before this index are on disk.
    durable: usize,
    /// Flushes under way: (ticket, records covered).
    flushing: Vec<(u64, usize)>,
    next_ticket: u64,
    /// Flushes started, ever (the "forced writes" a protocol pays for).
    pub forces: u64,
    /// Records dropped by checkpoints, ever.
    pub checkpointed: u64,
}

impl<R> Default for Wal<R> {
    fn default() -> Self {
        Wal { records: Vec::new(), durable: 0, flushing: Vec::new(), next_ticket: 1, forces: 0, checkpointed: 0 }
    }
}

impl<R> Wal<R> {
    pub fn new() -> Wal<R> {
        Wal::default()
    }

    /// Adds a record to the buffer; it is durable once a later flush completes.
    pub fn append(&mut self, record: R) {
        self.records.push(record);
    }

    /// Starts flushing everything appended so far; returns the flush's ticket.
    pub fn force(&mut self) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.forces += 1;
        self.flushing.push((ticket, self.records.len()));
        ticket
    }

    /// The flush `ticket` reached the disk. False if no such flush is under way (a crash
    /// lost it, or it completed already).
    pub fn complete(&mut self, ticket: u64) -> bool {
        let Some(i) = self.flushing.iter().position(|f| f.0 == ticket) else {
            return false;
        };
        let (_, upto) = self.flushing.remove(i);
        self.durable = self.durable.max(upto);
        true
    }

    /// The process died: the buffer and the flushes under way are gone.
    pub fn crash(&mut self) {
        self.records.truncate(self.durable);
        self.flushing.clear();
    }

    /// Drops every durable record for which `keep` is false; the kept ones stay durable
    /// and in order, the volatile tail is untouched, and flushes under way still cover
    /// the records they covered. `keep` sees the durable records in log order, once each.
    /// Returns how many records were dropped.
    pub fn checkpoint(&mut self, mut keep: impl FnMut(&R) -> bool) -> usize {
        // dropped_before[i]: records dropped among the first i (i ≤ durable).
        let mut dropped_before = Vec::with_capacity(self.durable + 1);
        dropped_before.push(0);
        let mut i = 0;
        self.records.retain(|r| {
            let drop = i < self.durable && !keep(r);
            i += 1;
            if i <= self.durable {
                dropped_before.push(dropped_before[i - 1] + usize::from(drop));
            }
            !drop
        });
        let dropped = dropped_before[self.durable];
        for f in &mut self.flushing {
            // A flush covers a prefix: past the durable part every dropped record lies
            // before its end; inside it, only those before its end count.
            f.1 -= dropped_before[f.1.min(self.durable)];
        }
        self.durable -= dropped;
        self.checkpointed += dropped as u64;
        self.records.shrink_to(self.records.len() * 2);
        dropped
    }

    /// Every record, the durable ones first.
    pub fn records(&self) -> &[R] {
        &self.records
    }

    /// The records a crash now would keep.
    pub fn durable(&self) -> &[R] {
        &self.records[..self.durable]
    }

    pub fn durable_len(&self) -> usize {
        self.durable
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    /// The twin: every record carries the set of flushes that cover it (those started
    /// after it was appended); it is durable once one of them completed. A crash removes
    /// every record that is not.
    #[derive(Default)]
    struct Twin {
        records: Vec<(u32, Vec<u64>, bool)>,
        started: Vec<u64>,
    }

    impl Twin {
        fn force(&mut self, ticket: u64) {
            self.started.push(ticket);
            for r in &mut self.records {
                r.1.push(ticket);
            }
        }
        fn complete(&mut self, ticket: u64) -> bool {
            if !self.started.contains(&ticket) {
                return false;
            }
            self.started.retain(|&t| t != ticket);
            for r in &mut self.records {
                if r.1.contains(&ticket) {
                    r.2 = true;
                }
            }
            true
        }
        fn crash(&mut self) {
            self.records.retain(|r| r.2);
            self.started.clear();
        }
        fn checkpoint(&mut self, keep: impl Fn(u32) -> bool) -> usize {
            let before = self.records.len();
            self.records.retain(|r| !r.2 || keep(r.0));
            before - self.records.len()
        }
        fn durable(&self) -> Vec<u32> {
            self.records.iter().filter(|r| r.2).map(|r| r.0).collect()
        }
        fn all(&self) -> Vec<u32> {
            self.records.iter().map(|r| r.0).collect()
        }
    }

    #[test]
    fn matches_a_record_by_record_twin_under_random_appends_flushes_crashes_and_checkpoints() {
        for seed in 0..200 {
            let mut rng = Prng::new(seed);
            let mut wal = Wal::new();
            let mut twin = Twin::default();
            let mut tickets: Vec<u64> = Vec::new();
            for step in 0..300u32 {
                match rng.below(10) {
                    0..=3 => {
                        wal.append(step);
                        twin.records.push((step, Vec::new(), false));
                    }
                    4 | 5 => {
                        let t = wal.force();
                        twin.force(t);
                        tickets.push(t);
                    }
                    6..=8 if !tickets.is_empty() => {
                        // Flushes may finish in any order, and stale tickets come back.
                        let t = tickets[rng.below(tickets.len() as u64) as usize];
                        assert_eq!(wal.complete(t), twin.complete(t), "seed {seed} step {step}");
                    }
                    9 if rng.below(2) == 0 => {
                        wal.crash();
                        twin.crash();
                    }
                    9 => {
                        // Keep a random residue class, as a caller keeps in-doubt records.
                        let (m, k) = (rng.between(2, 4) as u32, rng.below(2) as u32);
                        let keep = |r: u32| r % m == k;
                        assert_eq!(wal.checkpoint(|r| keep(*r)), twin.checkpoint(keep), "seed {seed} step {step}");
                    }
                    _ => {}
                }
                assert_eq!(wal.durable(), twin.durable().as_slice(), "seed {seed} step {step}");
                assert_eq!(wal.records(), twin.all().as_slice(), "seed {seed} step {step}");
            }
        }
    }

    #[test]
    fn a_checkpoint_keeps_what_is_asked_and_never_touches_the_volatile_tail() {
        let mut wal = Wal::new();
        for r in ["prepare T1", "prepare T2", "commit T1"] {
            wal.append(r);
        }
        let t = wal.force();
        wal.append("abort T2 (lazy)");
        let late = wal.force();
        assert!(wal.complete(t));
        // T1 is over; T2's prepare is durable but its abort is not: keep T2.
        assert_eq!(wal.checkpoint(|r| r.ends_with("T2") || r.contains("T2 ")), 2);
        assert_eq!(wal.durable(), &["prepare T2"]);
        assert_eq!(wal.records(), &["prepare T2", "abort T2 (lazy)"]);
        assert_eq!(wal.checkpoint(|_| false), 1, "the buffered abort is not on disk to drop");
        assert!(wal.complete(late), "the flush under way still covers the abort");
        assert_eq!(wal.durable(), &["abort T2 (lazy)"]);
        wal.crash();
        assert_eq!(wal.records(), &["abort T2 (lazy)"]);
        assert_eq!(wal.checkpointed, 3);
    }

    #[test]
    fn a_lazy_record_is_lost_unless_a_later_flush_carries_it() {
        let mut wal = Wal::new();
        wal.append("prepare");
        let t = wal.force();
        wal.append("abort (lazy)");
        assert!(wal.complete(t));
        wal.crash();
        assert_eq!(wal.records(), &["prepare"]);
        wal.append("abort (lazy)");
        wal.append("commit");
        let t = wal.force();
        assert!(wal.complete(t));
        wal.crash();
        assert_eq!(wal.records(), &["prepare", "abort (lazy)", "commit"]);
        assert_eq!(wal.forces, 2);
    }
}
