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
}

impl<R> Default for Wal<R> {
    fn default() -> Self {
        Wal { records: Vec::new(), durable: 0, flushing: Vec::new(), next_ticket: 1, forces: 0 }
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
        fn durable(&self) -> Vec<u32> {
            self.records.iter().filter(|r| r.2).map(|r| r.0).collect()
        }
        fn all(&self) -> Vec<u32> {
            self.records.iter().map(|r| r.0).collect()
        }
    }

    #[test]
    fn matches_a_record_by_record_twin_under_random_appends_flushes_and_crashes() {
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
                    9 => {
                        wal.crash();
                        twin.crash();
                    }
                    _ => {}
                }
                assert_eq!(wal.durable(), twin.durable().as_slice(), "seed {seed} step {step}");
                assert_eq!(wal.records(), twin.all().as_slice(), "seed {seed} step {step}");
            }
        }
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
