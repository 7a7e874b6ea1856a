//! The payment state machine, as a table: a payment is `created` when the API accepts
//! it, `authorized` when the issuer approves the amount (a hold on the card), `captured`
//! when the money moves, `refunded` when it is given back, and `failed` when fraud
//! rules, the issuer, or (in the naive design) a timeout stop it. Every other move is
//! refused, so a late or duplicated reply can never walk a payment backwards — a
//! `failed` payment is never captured by a network answer that arrives after the gateway
//! gave up; that answer is exactly what the naive timeout design ignores.
//!
//! ```text
//!   created ──auth ok──▶ authorized ──capture ok──▶ captured ──refund ok──▶ refunded
//!      │                     │
//!      └──fraud / declined / timeout (naive)──▶ failed
//! ```

/// Where a payment stands.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Created,
    Authorized,
    Captured,
    Failed,
    Refunded,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Authorized => "authorized",
            State::Captured => "captured",
            State::Failed => "failed",
            State::Refunded => "refunded",
        }
    }

    /// A state the API reports as the charge's outcome: no network call is pending on
    /// the payment's own account. `captured` still allows a refund later.
    pub fn terminal(self) -> bool {
        matches!(self, State::Captured | State::Failed | State::Refunded)
    }

    /// Whether the machine allows `self → to`.
    pub fn allows(self, to: State) -> bool {
        use State::*;
        matches!(
            (self, to),
            (Created, Authorized)
                | (Created, Failed)
                | (Authorized, Captured)
                | (Authorized, Failed)
                | (Captured, Refunded)
        )
    }
}

/// Why a payment failed.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Fraud rule: too many attempts on the card in the velocity window.
    Velocity,
    /// Fraud rule: amount over the limit.
    Amount,
    /// Fraud rule: the request comes from a country other than the card's.
    Geography,
    /// The issuer declined (insufficient funds, a blocked card).
    IssuerDeclined,
    /// The vault knows no card behind the token.
    UnknownToken,
    /// The card network did not answer in time (the naive design gives up).
    Timeout,
    /// The gateway no longer holds the payment the key names (pruned after its window).
    Expired,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Velocity => "fraud: velocity",
            Reason::Amount => "fraud: amount",
            Reason::Geography => "fraud: geography",
            Reason::IssuerDeclined => "issuer declined",
            Reason::UnknownToken => "unknown token",
            Reason::Timeout => "network timeout",
            Reason::Expired => "expired",
        }
    }

    /// A technical failure the customer may simply try again (with a new request); the
    /// others are decisions a retry would only repeat.
    pub fn retryable(self) -> bool {
        matches!(self, Reason::Timeout | Reason::Expired)
    }
}

/// The gateway's price for one capture: `fee_bps` basis points of the amount plus a fixed
/// 30 ¢ (the familiar "2.9 % + 30 ¢"), never more than the amount itself.
pub fn fee(amount: u64, fee_bps: u64) -> u64 {
    (amount * fee_bps / 10_000 + 30).min(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [State; 5] = [State::Created, State::Authorized, State::Captured, State::Failed, State::Refunded];

    #[test]
    fn only_the_drawn_arrows_are_allowed() {
        let allowed: Vec<(State, State)> =
            ALL.iter().flat_map(|&a| ALL.iter().map(move |&b| (a, b))).filter(|(a, b)| a.allows(*b)).collect();
        assert_eq!(allowed.len(), 5);
        assert!(!State::Failed.allows(State::Captured), "a late capture reply cannot revive a failed payment");
        assert!(!State::Refunded.allows(State::Captured));
        assert!(!State::Created.allows(State::Captured), "no capture without an authorization");
    }

    #[test]
    fn the_fee_is_a_share_plus_thirty_cents_capped_at_the_amount() {
        assert_eq!(fee(10_000, 290), 320);
        assert_eq!(fee(20, 290), 20);
    }

    #[test]
    fn every_path_from_created_ends_terminal() {
        // Walk every path: each maximal one ends in a terminal state, none loops.
        fn walk(s: State, depth: usize) {
            assert!(depth < 6, "a cycle through {s:?}");
            let next: Vec<State> = ALL.iter().copied().filter(|&t| s.allows(t)).collect();
            if next.is_empty() {
                assert!(s.terminal(), "{s:?} is a dead end but not terminal");
            }
            for t in next {
                walk(t, depth + 1);
            }
        }
        walk(State::Created, 0);
    }
}
