//! Fraud rules, checked before the gateway asks the card network anything: a declined
//! attempt costs nothing, an approved fraudulent one costs a chargeback. Three classic
//! rules, in the order they run:
//!
//! - **velocity**: at most `velocity_max` attempts per card in any 10 s (card testing —
//!   a stolen number tried many times in a row — trips it). The count lives in the shared
//!   rate-limit block, as a sliding log per card. Every attempt counts, including retries
//!   that arrive without an idempotency key: to the gateway they are new attempts;
//! - **amount**: a single charge above `amount_limit` cents is refused;
//! - **geography**: a card-not-present charge from a country other than the issuer's is
//!   refused (a real system would score it and ask for 3-D Secure instead).
//!
//! The window runs on the gateway's own clock: a clock jump can only make the rule more or
//! less strict for one window, never charge anyone.

use super::payment::Reason;
use crate::blocks::rate_limit::{Algorithm, Limiter, Policy};

/// The velocity window.
pub const VELOCITY_WINDOW_US: u64 = 10_000_000;

#[derive(Clone, Debug)]
pub struct Rules {
    pub amount_limit: u64,
    velocity: Limiter,
}

impl Rules {
    pub fn new(amount_limit: u64, velocity_max: u64) -> Rules {
        let policy = Policy { limit: velocity_max, window_us: VELOCITY_WINDOW_US, burst: velocity_max };
        Rules { amount_limit, velocity: Limiter::new(Algorithm::SlidingLog, policy) }
    }

    /// Screens one attempt at local time `now_us`; `Some(rule)` refuses it.
    pub fn screen(
        &mut self,
        now_us: u64,
        card: u32,
        card_country: u8,
        from_country: u8,
        amount: u64,
    ) -> Option<Reason> {
        if !self.velocity.check(now_us, card) {
            return Some(Reason::Velocity);
        }
        if amount > self.amount_limit {
            return Some(Reason::Amount);
        }
        if from_country != card_country {
            return Some(Reason::Geography);
        }
        None
    }

    /// Forgets the velocity counts (they live in memory).
    pub fn reset(&mut self) {
        self.velocity = Limiter::new(self.velocity.algo, self.velocity.policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_refuses_what_it_names() {
        let mut r = Rules::new(50_000, 3);
        assert_eq!(r.screen(0, 1, 0, 0, 60_000), Some(Reason::Amount));
        assert_eq!(r.screen(1, 1, 0, 2, 1_000), Some(Reason::Geography));
        // Two attempts above already count towards card 1's three.
        assert_eq!(r.screen(2, 1, 0, 0, 1_000), None);
        assert_eq!(r.screen(3, 1, 0, 0, 1_000), Some(Reason::Velocity));
        assert_eq!(r.screen(4, 2, 0, 0, 1_000), None, "another card has its own count");
        assert_eq!(r.screen(VELOCITY_WINDOW_US + 1, 1, 0, 0, 1_000), None, "the window slides");
    }
}
