//! A sliding anti-replay window: exact duplicate detection over a per-sender sequence
//! number in 16 bytes of state, the scheme IPsec ESP uses (RFC 4303 §3.4.3, the bitmap of
//! RFC 2401 Appendix C) and DTLS and WireGuard copied.
//!
//! The window remembers the highest sequence number seen (`top − 1`) and a 64-bit map of
//! which of the 64 numbers at and below it have been seen. A number above the top is new
//! and slides the window up; one inside it is new unless its bit is set; one more than 63
//! below the highest is *too old* and refused, because the window no longer knows.
//!
//! That last rule is why the window is safe for an ingestion pipeline only with a bound on
//! the sender: if a device never has more than `W ≤ 64` readings outstanding (its buffer),
//! and the pipeline appends each device's readings to one ordered log, then the first copy
//! of any acknowledged reading reaches the deduplicator before any reading 64 numbers
//! later — so "too old" only ever refuses copies the device had already given up on.

/// Numbers the window remembers below the highest seen.
pub const WIDTH: u32 = 64;

/// What a sequence number is to the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// First sighting: accept it.
    New,
    /// Seen before: drop it.
    Duplicate,
    /// 64 or more below the highest seen: the window cannot tell, so it refuses.
    TooOld,
}

/// One sender's window. `top` is one past the highest number seen (0: nothing yet); bit
/// `i` of `seen` is number `top − 1 − i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReplayWindow {
    top: u64,
    seen: u64,
}

impl ReplayWindow {
    /// Judges `seq` and, if it is new, records it.
    pub fn check_and_set(&mut self, seq: u32) -> Verdict {
        let seq64 = u64::from(seq);
        let top = self.top;
        if seq64 >= top {
            let shift = seq64 + 1 - top;
            self.seen = if shift >= 64 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.top = seq64 + 1;
            return Verdict::New;
        }
        let back = top - 1 - seq64;
        if back >= u64::from(WIDTH) {
            return Verdict::TooOld;
        }
        let bit = 1u64 << back;
        if self.seen & bit != 0 {
            return Verdict::Duplicate;
        }
        self.seen |= bit;
        Verdict::New
    }

    /// One past the highest number seen (0 if none).
    pub fn top(&self) -> u64 {
        self.top
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;
    use std::collections::BTreeSet;

    /// Brute-force twin: every number ever accepted, and the highest; a number is too old
    /// when it is 64 or more below the highest, else a duplicate iff it was accepted.
    #[derive(Default)]
    struct Twin {
        accepted: BTreeSet<u32>,
        highest: Option<u32>,
    }

    impl Twin {
        fn check_and_set(&mut self, seq: u32) -> Verdict {
            if let Some(h) = self.highest {
                if seq < h && h - seq >= WIDTH {
                    return Verdict::TooOld;
                }
            }
            if !self.accepted.insert(seq) {
                return Verdict::Duplicate;
            }
            self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
            Verdict::New
        }
    }

    #[test]
    fn agrees_with_a_set_of_everything_seen() {
        for seed in 0..200 {
            let mut rng = Prng::new(seed);
            let (mut w, mut t) = (ReplayWindow::default(), Twin::default());
            let mut base = 0u32;
            for step in 0..400 {
                // Mostly near the front, sometimes replays from far back, sometimes jumps.
                let seq = match rng.below(10) {
                    0 => base.saturating_sub(rng.below(150) as u32),
                    1 => base + rng.below(200) as u32,
                    _ => base.saturating_sub(rng.below(70) as u32) + rng.below(3) as u32,
                };
                base = base.max(seq);
                assert_eq!(w.check_and_set(seq), t.check_and_set(seq), "seed {seed} step {step} seq {seq}");
            }
        }
    }

    #[test]
    fn the_edges_of_the_window() {
        let mut w = ReplayWindow::default();
        assert_eq!(w.check_and_set(100), Verdict::New);
        assert_eq!(w.check_and_set(100), Verdict::Duplicate);
        assert_eq!(w.check_and_set(37), Verdict::New); // 63 below: still inside
        assert_eq!(w.check_and_set(36), Verdict::TooOld); // 64 below: outside
        assert_eq!(w.check_and_set(300), Verdict::New); // a jump clears the map
        assert_eq!(w.check_and_set(299), Verdict::New);
        assert_eq!(w.check_and_set(100), Verdict::TooOld);
        assert_eq!(w.top(), 301);
        let mut z = ReplayWindow::default();
        assert_eq!(z.check_and_set(0), Verdict::New);
        assert_eq!(z.check_and_set(0), Verdict::Duplicate);
        assert_eq!(z.check_and_set(u32::MAX), Verdict::New);
        assert_eq!(z.check_and_set(u32::MAX), Verdict::Duplicate);
    }
}
