//! A hierarchical timing wheel: timers by the million with O(1) insert and cancel, and an
//! advance whose cost follows the timers that fire, not the timers that wait.
//!
//! The design is Varghese & Lauck's "Hashed and Hierarchical Timing Wheels" (SOSP 1987,
//! scheme 7), in the shape Kafka's purgatory (`kafka.utils.timer.TimingWheel`) and the
//! Linux kernel's timer wheel (`kernel/time/timer.c`) use. Time is cut into ticks of
//! `tick` simulated units (µs or ms, the caller decides). Level `l` has 64 slots, each
//! covering 64^l ticks, so `levels` levels span 64^levels ticks ahead of the cursor. A
//! timer goes to the level of the highest base-64 digit where its tick differs from the
//! cursor's tick (the Linux placement); every slot of that level then lies strictly ahead
//! of the cursor's digit. When the cursor reaches a coarse slot, the slot *cascades*: its
//! timers are placed again and land one or more levels finer. Deadlines past the span wait
//! in an ordered overflow (Kafka grows overflow wheels instead; Linux clamps to its last
//! level) and are placed when the cursor enters their 64^levels block.
//!
//! Each level keeps a 64-bit mask of its occupied slots (as Linux's `pending_map`), so
//! `advance` jumps straight to the next slot that holds something instead of stepping
//! through empty ticks: a long idle stretch costs O(levels) per event, not per tick.
//!
//! Timers live in a slab indexed by `u32`; a slot is a `Vec` of slab indices. `cancel` is a
//! tombstone: the timer's value is taken out at once, and its slab entry is reclaimed when
//! the slot holding it is next emptied (at the latest when the cancelled deadline's slot
//! fires). A stale `TimerKey` never touches a reused entry: each entry has a generation.
//!
//! Output order is exact and deterministic: `advance(now)` returns every live timer with
//! `deadline <= now` sorted by deadline, ties in insertion order. Timers sharing a tick are
//! sorted when they fire, so a coarse tick loses no precision. `ScanTimers` in `scan.rs` is
//! the naive design (scan every pending timer on each advance) and the twin `tests.rs`
//! holds this wheel to.

mod scan;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use scan::{ScanKey, ScanTimers};

use std::collections::BTreeMap;

const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Ten levels of 64 slots cover 2^60 ticks; more would only be overflow.
pub const MAX_LEVELS: u32 = 10;

/// Names one inserted timer for `cancel`; stale once the timer fired or was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerKey {
    index: u32,
    generation: u32,
}

#[derive(Clone, Debug)]
struct Entry<T> {
    deadline: u64,
    /// Insertion order, the tie-break between equal deadlines.
    seq: u64,
    generation: u32,
    /// `None` once cancelled (a tombstone still held by a slot) or free.
    task: Option<T>,
}

#[derive(Clone, Debug)]
struct Level {
    /// Bit `s` set when slot `s` holds at least one index (live or tombstone).
    occupied: u64,
    slots: Vec<Vec<u32>>,
}

#[derive(Clone, Debug)]
pub struct TimingWheel<T> {
    tick: u64,
    levels: Vec<Level>,
    /// Timers beyond the span, by (deadline, seq).
    overflow: BTreeMap<(u64, u64), u32>,
    /// Timers whose tick the cursor has reached: due now, or later within the current tick.
    ready: Vec<u32>,
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    now: u64,
    /// The cursor: `now / tick`.
    cursor: u64,
    next_seq: u64,
    live: usize,
}

impl<T> TimingWheel<T> {
    /// A wheel at time 0 with ticks of `tick` units (at least 1) and `levels` levels
    /// (clamped to 1..=`MAX_LEVELS`).
    pub fn new(tick: u64, levels: u32) -> Self {
        let levels = levels.clamp(1, MAX_LEVELS);
        TimingWheel {
            tick: tick.max(1),
            levels: (0..levels).map(|_| Level { occupied: 0, slots: vec![Vec::new(); SLOTS] }).collect(),
            overflow: BTreeMap::new(),
            ready: Vec::new(),
            entries: Vec::new(),
            free: Vec::new(),
            now: 0,
            cursor: 0,
            next_seq: 0,
            live: 0,
        }
    }

    /// How many ticks ahead of the cursor the levels reach; later deadlines overflow.
    pub fn span_ticks(&self) -> u64 {
        1u64 << (SLOT_BITS * self.levels.len() as u32)
    }

    pub fn tick(&self) -> u64 {
        self.tick
    }

    /// The time of the last `advance`.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Timers inserted and neither fired nor cancelled.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Per level, the entries each of its 64 slots holds (tombstones included), then the
    /// overflow's size: what a view draws as slot occupancy.
    pub fn occupancy(&self) -> (Vec<Vec<usize>>, usize) {
        let levels = self.levels.iter().map(|l| l.slots.iter().map(Vec::len).collect()).collect();
        (levels, self.overflow.len())
    }

    /// Schedules `task` at `deadline`. A deadline at or before `now` fires on the next
    /// `advance`. O(1) within the span; O(log n) in the overflow.
    pub fn insert(&mut self, deadline: u64, task: T) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let index = match self.free.pop() {
            Some(i) => {
                let e = &mut self.entries[i as usize];
                e.deadline = deadline;
                e.seq = seq;
                e.task = Some(task);
                i
            }
            None => {
                let i = u32::try_from(self.entries.len()).expect("more than 2^32 timers");
                self.entries.push(Entry { deadline, seq, generation: 0, task: Some(task) });
                i
            }
        };
        self.live += 1;
        self.place(index);
        TimerKey { index, generation: self.entries[index as usize].generation }
    }

    /// Cancels a pending timer and hands its task back; `None` if the key is stale.
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        let e = self.entries.get_mut(key.index as usize)?;
        if e.generation != key.generation {
            return None;
        }
        let task = e.task.take()?;
        e.generation = e.generation.wrapping_add(1);
        self.live -= 1;
        Some(task)
    }

    /// The deadline of a pending timer.
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        let e = self.entries.get(key.index as usize)?;
        (e.generation == key.generation && e.task.is_some()).then_some(e.deadline)
    }

    /// Moves time to `now` (never backwards: an earlier `now` counts as the current time)
    /// and returns every pending timer with `deadline <= now`, by deadline then insertion.
    pub fn advance(&mut self, now: u64) -> Vec<(u64, T)> {
        let now = now.max(self.now);
        let target = now / self.tick;
        while let Some(t) = self.next_event().filter(|&t| t <= target) {
            self.cursor = t;
            self.fire(t);
        }
        self.cursor = target;
        self.now = now;
        self.take_due(now)
    }

    /// The earliest tick at which a slot fires (level 0) or cascades (coarser levels), or
    /// the overflow's next block opens.
    fn next_event(&self) -> Option<u64> {
        let mut best = self.overflow.keys().next().map(|&(deadline, _)| {
            let shift = SLOT_BITS * self.levels.len() as u32;
            ((deadline / self.tick) >> shift) << shift
        });
        for (l, level) in self.levels.iter().enumerate() {
            let shift = SLOT_BITS * l as u32;
            let digit = (self.cursor >> shift) & SLOT_MASK;
            let ahead = level.occupied & (u64::MAX << digit << 1);
            if ahead != 0 {
                let slot = u64::from(ahead.trailing_zeros());
                let at = (((self.cursor >> shift >> SLOT_BITS) << SLOT_BITS) | slot) << shift;
                best = Some(best.map_or(at, |b: u64| b.min(at)));
            }
        }
        best
    }

    /// The cursor has reached tick `t`: open the overflow block if it starts here, then
    /// empty every slot whose turn it is, placing each timer again (finer, or ready).
    fn fire(&mut self, t: u64) {
        let shift = SLOT_BITS * self.levels.len() as u32;
        while let Some(entry) = self.overflow.first_entry() {
            if (entry.key().0 / self.tick) >> shift != t >> shift {
                break;
            }
            let index = entry.remove();
            self.place(index);
        }
        for l in (0..self.levels.len()).rev() {
            let slot = ((t >> (SLOT_BITS * l as u32)) & SLOT_MASK) as usize;
            if self.levels[l].occupied & (1 << slot) == 0 {
                continue;
            }
            self.levels[l].occupied &= !(1 << slot);
            let mut indices = std::mem::take(&mut self.levels[l].slots[slot]);
            for &i in &indices {
                self.place(i);
            }
            indices.clear();
            // Nothing is placed at the cursor's own digit, so the slot is still empty; hand
            // its buffer back to keep the allocation.
            self.levels[l].slots[slot] = indices;
        }
    }

    /// Files a timer relative to the cursor; frees a cancelled one instead.
    fn place(&mut self, index: u32) {
        let e = &self.entries[index as usize];
        if e.task.is_none() {
            self.free.push(index);
            return;
        }
        let t = e.deadline / self.tick;
        if t <= self.cursor {
            self.ready.push(index);
            return;
        }
        let level = ((63 - (t ^ self.cursor).leading_zeros()) / SLOT_BITS) as usize;
        if level >= self.levels.len() {
            self.overflow.insert((e.deadline, e.seq), index);
            return;
        }
        let slot = ((t >> (SLOT_BITS * level as u32)) & SLOT_MASK) as usize;
        self.levels[level].slots[slot].push(index);
        self.levels[level].occupied |= 1 << slot;
    }

    /// Sorts the ready timers and hands out those due by `now`; the rest (later in the
    /// current tick) stay ready.
    fn take_due(&mut self, now: u64) -> Vec<(u64, T)> {
        let entries = &self.entries;
        let free = &mut self.free;
        self.ready.retain(|&i| {
            let live = entries[i as usize].task.is_some();
            if !live {
                free.push(i);
            }
            live
        });
        self.ready.sort_unstable_by_key(|&i| (entries[i as usize].deadline, entries[i as usize].seq));
        let due = self.ready.partition_point(|&i| entries[i as usize].deadline <= now);
        let mut out = Vec::with_capacity(due);
        for i in self.ready.drain(..due) {
            let e = &mut self.entries[i as usize];
            if let Some(task) = e.task.take() {
                out.push((e.deadline, task));
            }
            e.generation = e.generation.wrapping_add(1);
            self.free.push(i);
        }
        self.live -= out.len();
        out
    }
}
