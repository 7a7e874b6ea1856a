//! The event queue: a min-heap ordered by `(time, class, seq)`. `seq` is handed out when
//! an event is scheduled, so two events of a class at the same instant run in the order
//! they were scheduled: a total order, which is what makes a run reproducible. `class`
//! lets faults run before anything else at their instant, so a fault clicked in mid-run
//! lands exactly where the same fault in a link's plan would.
//!
//! Layout, for speed (the queue is most of the kernel's work): the heap holds only 16-byte
//! keys — time in the high 64 bits, then class, seq and the payload's slot — so one u128
//! comparison orders two events and four keys share a cache line; payloads sit still in
//! a slab and never move while the heap reorders. The heap is 4-ary: half the depth of a
//! binary heap, and a node's four children are adjacent in memory.

use super::time::SimTime;

/// Bits of a key's low word: class (1), seq ([`SEQ_BITS`]), slot ([`SLOT_BITS`]).
const SLOT_BITS: u32 = 23;
const SEQ_BITS: u32 = 63 - SLOT_BITS;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Most events that may wait at once (the world stops far below this: `MAX_PENDING_EVENTS`).
pub const QUEUE_CAPACITY: usize = 1 << SLOT_BITS;
const ARITY: usize = 4;

/// Pending events of one run.
#[derive(Clone)]
pub struct EventQueue<E: Clone> {
    heap: Vec<u128>,
    slots: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<E: Clone> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: Vec::new(), slots: Vec::new(), free: Vec::new(), next_seq: 0 }
    }
}

fn time_of(key: u128) -> SimTime {
    SimTime((key >> 64) as u64)
}

fn seq_of(key: u128) -> u64 {
    (key as u64 >> SLOT_BITS) & ((1 << SEQ_BITS) - 1)
}

fn slot_of(key: u128) -> usize {
    (key as u64 & SLOT_MASK) as usize
}

impl<E: Clone> EventQueue<E> {
    /// Schedules `event` at `at`; returns its sequence number.
    pub fn push(&mut self, at: SimTime, event: E) -> u64 {
        self.push_class(at, 1, event)
    }

    /// Schedules `event` at `at` ahead of every class-1 event of that instant (class 0).
    pub fn push_first(&mut self, at: SimTime, event: E) -> u64 {
        self.push_class(at, 0, event)
    }

    fn push_class(&mut self, at: SimTime, class: u64, event: E) -> u64 {
        let seq = self.next_seq;
        assert!(seq < 1 << SEQ_BITS, "a run scheduled more than 2^{SEQ_BITS} events");
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(event);
                slot as u64
            }
            None => {
                assert!(self.slots.len() < QUEUE_CAPACITY, "more than {QUEUE_CAPACITY} events waiting at once");
                self.slots.push(Some(event));
                (self.slots.len() - 1) as u64
            }
        };
        let low = (class << 63) | (seq << SLOT_BITS) | slot;
        self.heap.push((u128::from(at.0) << 64) | u128::from(low));
        self.sift_up(self.heap.len() - 1);
        seq
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        let last = self.heap.pop()?;
        let top = match self.heap.first() {
            None => last,
            Some(&top) => {
                self.refill_root(last);
                top
            }
        };
        let slot = slot_of(top);
        let event = self.slots[slot].take().expect("a queued key names a filled slot");
        self.free.push(slot as u32);
        Some((time_of(top), seq_of(top), event))
    }
    /// Time of the earliest pending event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|k| time_of(*k))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Pending events in no particular order (for display only, never for decisions).
    pub fn iter(&self) -> impl Iterator<Item = (SimTime, &E)> {
        self.heap.iter().filter_map(|k| self.slots[slot_of(*k)].as_ref().map(|e| (time_of(*k), e)))
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    fn sift_up(&mut self, mut i: usize) {
        let key = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.heap[parent] <= key {
                break;
            }
            self.heap[i] = self.heap[parent];
            i = parent;
        }
        self.heap[i] = key;
    }

    /// Fills the root's place with `key` (the heap's former last key): the hole walks down
    /// along the smallest children to a leaf, then `key` rises from there. The last key
    /// usually belongs near the bottom, so this costs fewer comparisons than testing it
    /// against the children at every level on the way down.
    fn refill_root(&mut self, key: u128) {
        let n = self.heap.len();
        let mut hole = 0;
        loop {
            let first = hole * ARITY + 1;
            if first >= n {
                break;
            }
            let kids = &self.heap[first..(first + ARITY).min(n)];
            let (mut best, mut best_key) = (0, kids[0]);
            for (j, &k) in kids.iter().enumerate().skip(1) {
                if k < best_key {
                    (best, best_key) = (j, k);
                }
            }
            self.heap[hole] = best_key;
            hole = first + best;
        }
        self.heap[hole] = key;
        self.sift_up(hole);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_keeps_scheduling_order() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), "b");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "c");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn first_class_events_lead_their_instant() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), "x");
        q.push_first(SimTime(5), "fault");
        q.push(SimTime(4), "w");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, ["w", "fault", "x"]);
    }

    /// A brute-force twin: the queue pops exactly what sorting every scheduled event by
    /// (time, class, order of scheduling) gives, through interleaved pushes and pops.
    #[test]
    fn pops_in_the_order_a_sort_gives() {
        let mut rng = crate::sim::rng::Prng::new(7);
        let mut q = EventQueue::default();
        let mut twin: Vec<(u64, u64, u64, u32)> = Vec::new();
        let (mut now, mut pushed) = (0u64, 0u32);
        for round in 0..20_000u32 {
            if rng.below(3) > 0 || twin.is_empty() {
                let at = now + rng.below(50);
                let first = rng.below(10) == 0;
                let seq = if first { q.push_first(SimTime(at), pushed) } else { q.push(SimTime(at), pushed) };
                twin.push((at, u64::from(!first), seq, pushed));
                pushed += 1;
            } else {
                twin.sort();
                let want = twin.remove(0);
                let (at, seq, e) = q.pop().unwrap();
                assert_eq!((at.0, seq, e), (want.0, want.2, want.3), "round {round}");
                now = at.0;
            }
            assert_eq!(q.len(), twin.len());
        }
    }
}
