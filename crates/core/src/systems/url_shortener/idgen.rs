//! The id generators, as pure state machines an API server drives.
//!
//! * `hash`: FNV-1a (Fowler, Noll, Vo; IETF draft-eastlake-fnv) of the URL text, cut down
//!   to the id space. Equal URLs share an id, which is the appeal; different URLs collide
//!   by the birthday bound (about n²/2m collisions for n URLs in m ids).
//! * `random`: a uniform draw from the id space; the check against the store happens in
//!   the API server and is not atomic with the insert.
//! * `counter`: ids from a block handed out by the ticket service ([`IdRange`]); a block
//!   is used once, so ids never repeat as long as the ticket service never re-grants one.
//! * `snowflake`: [`Snowflake`] packs (ms, worker, sequence) per the layout in
//!   `blocks::snowflake`; the guarded version never lets its (ms, sequence) pair go
//!   backwards — it waits out small clock steps, refuses big ones, and on restart resumes
//!   after a durably stored "reserved until" timestamp, the way Sonyflake and Instagram's
//!   id scheme reason about clocks. The naive version trusts the clock.

use crate::blocks::snowflake::{self, Parts, MAX_SEQUENCE};

/// FNV-1a, 64-bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The text a URL number stands for.
pub fn url_text(url: u64) -> String {
    format!("https://example.com/u/{}/{}", url >> 32, url & 0xffff_ffff)
}

/// Hash-of-URL id, truncated to `space` ids.
pub fn hash_id(url: u64, space: u64) -> u64 {
    fnv1a64(url_text(url).as_bytes()) % space.max(1)
}

/// A block of ids `[next, end)` from the ticket service.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdRange {
    pub next: u64,
    pub end: u64,
    pub size: u64,
}

impl IdRange {
    pub fn take(&mut self) -> Option<u64> {
        (self.next < self.end).then(|| {
            self.next += 1;
            self.next - 1
        })
    }
    pub fn left(&self) -> u64 {
        self.end - self.next
    }
    /// Whether to ask for the next block now (half used), so creates rarely wait.
    pub fn wants_refill(&self) -> bool {
        self.left() * 2 <= self.size
    }
    pub fn refill(&mut self, start: u64, len: u64) {
        *self = IdRange { next: start, end: start + len, size: len };
    }
}

/// Milliseconds a guarded generator reserves ahead, durably, before issuing past them.
pub const RESERVE_MS: u64 = 500;
/// Clock steps back up to this many ms are waited out; larger ones are refused.
pub const MAX_WAIT_MS: u64 = 5;

/// What a Snowflake generator says when asked for an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Id(u64),
    /// Ask again after this many ms of local time.
    Wait(u64),
    /// The clock is this many ms behind the last id; this worker will not issue.
    Refuse(u64),
}

#[derive(Clone, Debug)]
pub struct Snowflake {
    pub worker: u64,
    pub guard: bool,
    pub last_ms: u64,
    pub seq: u64,
    /// Durable: no id with a timestamp at or past this was issued before a crash.
    pub reserved_until: u64,
}

impl Snowflake {
    pub fn new(worker: u64, guard: bool) -> Snowflake {
        Snowflake { worker, guard, last_ms: 0, seq: 0, reserved_until: 0 }
    }

    /// Forgets memory after a crash and resumes from what is durable.
    pub fn restart(&mut self) {
        if self.guard {
            // Ids up to `reserved_until` may exist: resume strictly after it.
            self.last_ms = self.reserved_until;
            self.seq = MAX_SEQUENCE;
        } else {
            self.last_ms = 0;
            self.seq = 0;
        }
    }

    pub fn next(&mut self, now_ms: u64) -> Next {
        if self.guard && now_ms < self.last_ms {
            let gap = self.last_ms - now_ms;
            return if gap <= MAX_WAIT_MS { Next::Wait(gap) } else { Next::Refuse(gap) };
        }
        if now_ms == self.last_ms {
            if self.seq >= MAX_SEQUENCE {
                return Next::Wait(1);
            }
            self.seq += 1;
        } else {
            self.last_ms = now_ms;
            self.seq = 0;
        }
        if self.guard && self.last_ms >= self.reserved_until {
            // The durable write happens before the id leaves the process.
            self.reserved_until = self.last_ms + RESERVE_MS;
        }
        let parts = Parts { timestamp_ms: self.last_ms, worker: self.worker, sequence: self.seq };
        Next::Id(snowflake::encode(parts).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;
    use std::collections::BTreeSet;

    #[test]
    fn fnv1a_published_vectors() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    /// Drives a generator with a clock that steps back and a process that crashes, and
    /// checks every issued id against a brute-force set of all ids seen so far.
    fn duplicates(guard: bool, seed: u64) -> usize {
        let mut rng = Prng::new(seed);
        let mut g = Snowflake::new(3, guard);
        let mut seen = BTreeSet::new();
        let mut dups = 0;
        let mut clock: i64 = 1_000;
        for _ in 0..20_000 {
            match rng.below(100) {
                0 => clock -= rng.between(1, 800) as i64,
                1 => g.restart(),
                _ => clock += rng.below(3) as i64,
            }
            let now = clock.max(0) as u64;
            if let Next::Id(id) = g.next(now) {
                assert_eq!(snowflake::decode(id).worker, 3);
                if !seen.insert(id) {
                    dups += 1;
                }
            }
        }
        dups
    }

    #[test]
    fn guarded_generator_never_repeats_an_id_naive_does() {
        for seed in 0..20 {
            assert_eq!(duplicates(true, seed), 0, "seed {seed}");
        }
        assert!((0..20).map(|s| duplicates(false, s)).sum::<usize>() > 0);
    }

    #[test]
    fn small_steps_wait_large_ones_refuse() {
        let mut g = Snowflake::new(0, true);
        assert!(matches!(g.next(100), Next::Id(_)));
        assert_eq!(g.next(97), Next::Wait(3));
        assert_eq!(g.next(40), Next::Refuse(60));
        g.restart();
        assert_eq!(g.next(100), Next::Refuse(RESERVE_MS));
        assert_eq!(g.next(100 + RESERVE_MS), Next::Wait(1), "same ms as the reservation: wait");
        assert!(matches!(g.next(101 + RESERVE_MS), Next::Id(_)));
    }

    #[test]
    fn sequence_overflow_waits_for_the_next_millisecond() {
        let mut g = Snowflake::new(1, true);
        for _ in 0..=MAX_SEQUENCE {
            assert!(matches!(g.next(7), Next::Id(_)));
        }
        assert_eq!(g.next(7), Next::Wait(1));
    }

    #[test]
    fn ranges_hand_out_each_id_once_and_refill_at_half() {
        let mut r = IdRange::default();
        assert!(r.take().is_none());
        r.refill(100, 4);
        assert!(!r.wants_refill());
        assert_eq!((r.take(), r.take()), (Some(100), Some(101)));
        assert!(r.wants_refill());
        assert_eq!((r.take(), r.take(), r.take()), (Some(102), Some(103), None));
    }
}
