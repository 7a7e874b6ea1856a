//! The tokenised card vault. Merchants never hold a card number: when a customer first
//! pays, the vault stores the PAN (primary account number) and hands back a random token;
//! later charges name the token. Only the vault and the gateway's path to the card network
//! see PANs, which shrinks PCI DSS scope to those two — the merchants, the API logs and
//! the audit log hold tokens and the last four digits.
//!
//! Card numbers are generated valid: an issuer prefix (the BIN), random digits, and the
//! Luhn check digit (ISO/IEC 7812-1, Annex B), so the network can refuse a mistyped number
//! the way real ones do before any issuer is asked.

use crate::sim::rng::Prng;
use std::collections::BTreeMap;

/// Countries cards are issued in and payments come from.
pub const COUNTRIES: [&str; 6] = ["US", "GB", "DE", "BR", "JP", "IN"];

/// One card as the vault stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Card {
    pub pan: u64,
    /// Index into [`COUNTRIES`] of the issuing bank.
    pub country: u8,
}

impl Card {
    /// What may be shown or logged: the brand's first digit and the last four.
    pub fn masked(&self) -> String {
        format!("{}••• {:04}", self.pan / 1_000_000_000_000_000, self.pan % 10_000)
    }
}

/// The Luhn check digit for a number's digits without it (ISO/IEC 7812-1): double every
/// second digit from the right, subtract 9 from two-digit results, sum, and pick the digit
/// that makes the total a multiple of 10.
pub fn luhn_digit(payload: u64) -> u64 {
    let mut sum = 0;
    let mut n = payload;
    let mut double = true;
    while n > 0 {
        let mut d = n % 10;
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
        n /= 10;
    }
    (10 - sum % 10) % 10
}

/// Whether a whole number (payload and check digit) passes the Luhn check.
pub fn luhn_valid(number: u64) -> bool {
    number >= 10 && luhn_digit(number / 10) == number % 10
}

/// Tokens to cards, and every card's record.
#[derive(Clone, Debug, Default)]
pub struct Vault {
    pub cards: Vec<Card>,
    by_token: BTreeMap<u64, u32>,
    pub tokens: Vec<u64>,
}

impl Vault {
    /// Issues `n` cards (Visa-like 16-digit PANs starting with 4) and a token for each.
    pub fn issue(n: u32, rng: &mut Prng) -> Vault {
        let mut v = Vault::default();
        for i in 0..n {
            let payload = 400_000_000_000_000 + rng.below(100_000_000_000_000);
            let card =
                Card { pan: payload * 10 + luhn_digit(payload), country: rng.below(COUNTRIES.len() as u64) as u8 };
            // Tokens are random, so they say nothing about the card; a clash is redrawn.
            let mut token = rng.next_u64() | 1;
            while v.by_token.contains_key(&token) {
                token = rng.next_u64() | 1;
            }
            v.by_token.insert(token, i);
            v.tokens.push(token);
            v.cards.push(card);
        }
        v
    }

    /// The card behind a token, and its index.
    pub fn detokenize(&self, token: u64) -> Option<(u32, Card)> {
        let i = *self.by_token.get(&token)?;
        Some((i, self.cards[i as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_published_numbers() {
        // The worked example of ISO/IEC 7812-1 Annex B as Wikipedia gives it, and the
        // public test cards of Visa (4111…), Stripe (4242…) and Mastercard (5555…4444).
        assert_eq!(luhn_digit(7_992_739_871), 3);
        for n in [79_927_398_713u64, 4_111_111_111_111_111, 4_242_424_242_424_242, 5_555_555_555_554_444] {
            assert!(luhn_valid(n), "{n}");
            assert!(!luhn_valid(n + 1), "{}", n + 1);
        }
    }

    #[test]
    fn issued_cards_are_valid_and_tokens_reveal_nothing() {
        let v = Vault::issue(500, &mut Prng::new(3));
        for (i, &t) in v.tokens.iter().enumerate() {
            let (idx, card) = v.detokenize(t).unwrap();
            assert_eq!(idx as usize, i);
            assert!(luhn_valid(card.pan));
            assert_eq!(card.pan / 1_000_000_000_000_000, 4);
            assert_ne!(t, card.pan);
        }
        assert!(v.detokenize(2).is_none());
        assert_eq!(Card { pan: 4_242_424_242_424_242, country: 0 }.masked(), "4••• 4242");
    }
}
