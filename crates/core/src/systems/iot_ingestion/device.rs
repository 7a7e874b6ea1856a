//! One device's state, in 24 bytes, so a fleet of a million fits in a flat `Vec`.
//!
//! A device numbers its readings 0, 1, 2, … and keeps the ones not yet acknowledged in a
//! small buffer (flash, so it survives a reboot). The buffer is a window: `low` is the
//! oldest reading still waiting and bit `i` of `pending` says whether reading `low + i`
//! still waits. The buffer holds at most `cap ≤ 64` numbers from `low` to the newest; when
//! a new reading would overflow it, the device discards its oldest waiting reading — a
//! loss it knows about and reports, unlike a reading it believes delivered. Because
//! nothing older than `next − cap` is ever outstanding, the writer's 64-wide replay window
//! can deduplicate exactly (see `blocks::replay_window`).
//!
//! Readings are re-sent from their number alone: the payload is a function of (device,
//! seq) here (`auth::sensor_value`); a real device would keep the payload bytes too.

/// The most readings a device buffer may span: the writer's replay-window width.
pub const MAX_BUFFER: u32 = crate::blocks::replay_window::WIDTH;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Device {
    /// The number the next reading gets.
    pub next: u32,
    /// The oldest reading still waiting (`next` when none waits).
    pub low: u32,
    /// Bit `i`: reading `low + i` waits for an acknowledgement.
    pub pending: u64,
    /// Consecutive retry rounds without the buffer emptying (0: not backing off).
    pub attempts: u8,
    /// Whether a retry deadline is set in the fleet's timing wheel.
    pub armed: bool,
}

impl Device {
    /// Makes the next reading and buffers it; returns its number and, if the buffer was
    /// full, the number of the reading discarded to make room.
    pub fn make(&mut self, cap: u32) -> (u32, Option<u32>) {
        let cap = cap.clamp(1, MAX_BUFFER);
        let mut dropped = None;
        if self.next - self.low >= cap {
            dropped = Some(self.low);
            self.pending &= !1;
            self.normalize();
        }
        let seq = self.next;
        self.pending |= 1u64 << (seq - self.low);
        self.next += 1;
        (seq, dropped)
    }

    /// A reading without buffering it (a device with no buffer): just its number.
    pub fn make_unbuffered(&mut self) -> u32 {
        let seq = self.next;
        self.next += 1;
        self.low = self.next;
        seq
    }

    /// Takes an acknowledgement; true if `seq` was waiting (and now is not).
    pub fn ack(&mut self, seq: u32) -> bool {
        if seq < self.low || seq >= self.next || seq - self.low >= 64 {
            return false;
        }
        let bit = 1u64 << (seq - self.low);
        if self.pending & bit == 0 {
            return false;
        }
        self.pending &= !bit;
        self.normalize();
        true
    }

    fn normalize(&mut self) {
        if self.pending == 0 {
            self.low = self.next;
        } else {
            let tz = self.pending.trailing_zeros();
            self.pending >>= tz;
            self.low += tz;
        }
    }

    /// Readings waiting, oldest first.
    pub fn waiting(&self) -> impl Iterator<Item = u32> + '_ {
        (0..64u32).filter(|i| self.pending & (1u64 << i) != 0).map(|i| self.low + i)
    }

    pub fn waiting_count(&self) -> u32 {
        self.pending.count_ones()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;
    use std::collections::BTreeSet;

    /// Brute-force twin: the set of waiting numbers; a full buffer (newest − oldest
    /// waiting + 1 would exceed cap) drops the oldest.
    #[test]
    fn agrees_with_a_set_of_waiting_readings() {
        for seed in 0..100 {
            let mut rng = Prng::new(seed);
            let cap = rng.between(1, 64) as u32;
            let mut d = Device::default();
            let mut twin: BTreeSet<u32> = BTreeSet::new();
            let mut next = 0u32;
            for _ in 0..2_000 {
                if rng.chance(0.55) {
                    let mut want_drop = None;
                    if let Some(&oldest) = twin.first() {
                        if next - oldest >= cap {
                            twin.remove(&oldest);
                            want_drop = Some(oldest);
                        }
                    }
                    let (seq, dropped) = d.make(cap);
                    assert_eq!((seq, dropped), (next, want_drop), "seed {seed}");
                    twin.insert(next);
                    next += 1;
                } else if next > 0 {
                    let s = next - 1 - rng.below(u64::from(next.min(80))) as u32;
                    assert_eq!(d.ack(s), twin.remove(&s), "seed {seed} ack {s}");
                }
                assert_eq!(d.waiting().collect::<Vec<_>>(), twin.iter().copied().collect::<Vec<_>>());
                assert!(d.next - d.low <= cap);
            }
        }
    }

    #[test]
    fn a_full_buffer_drops_its_oldest_waiting_reading() {
        let mut d = Device::default();
        for _ in 0..4 {
            d.make(4);
        }
        assert!(d.ack(1));
        assert_eq!(d.make(4), (4, Some(0)));
        // 1 was acknowledged, so 2 is now the oldest waiting.
        assert_eq!(d.waiting().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(d.make(4), (5, None));
        assert_eq!(d.make(4), (6, Some(2)));
    }
}
