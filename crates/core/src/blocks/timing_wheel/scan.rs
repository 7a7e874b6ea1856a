//! The naive timer table: every pending timer in one `Vec`, all of it scanned on each
//! advance ("poll the whole table every second"). It is the brute-force twin the wheel is
//! tested against and the baseline its benchmark measures: an advance costs O(pending)
//! however few timers fire.

/// Names one timer in a `ScanTimers`: its insertion number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScanKey(u64);

#[derive(Clone, Debug, Default)]
pub struct ScanTimers<T> {
    /// (deadline, insertion number, task), in no particular order.
    pending: Vec<(u64, u64, T)>,
    now: u64,
    next_seq: u64,
}

impl<T> ScanTimers<T> {
    pub fn new() -> Self {
        ScanTimers { pending: Vec::new(), now: 0, next_seq: 0 }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn insert(&mut self, deadline: u64, task: T) -> ScanKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push((deadline, seq, task));
        ScanKey(seq)
    }

    pub fn cancel(&mut self, key: ScanKey) -> Option<T> {
        let at = self.pending.iter().position(|p| p.1 == key.0)?;
        Some(self.pending.swap_remove(at).2)
    }

    /// Time never goes back; every pending timer with `deadline <= now`, by deadline then
    /// insertion.
    pub fn advance(&mut self, now: u64) -> Vec<(u64, T)> {
        self.now = self.now.max(now);
        let mut due = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].0 <= self.now {
                due.push(self.pending.swap_remove(i));
            } else {
                i += 1;
            }
        }
        due.sort_unstable_by_key(|d| (d.0, d.1));
        due.into_iter().map(|(deadline, _, task)| (deadline, task)).collect()
    }
}
