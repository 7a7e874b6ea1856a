//! Base62 encoding of 64-bit ids: the short, URL-safe text form of an id (`0-9A-Za-z`,
//! most significant digit first, no padding). Short-link services print counters and
//! Snowflake ids this way because 62 symbols need no escaping in a path and 11 digits
//! hold any `u64`. Decoding rejects foreign symbols and values past `u64::MAX`.

/// Digits in value order: `0` is 0, `A` is 10, `a` is 36, `z` is 61.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Digits needed for the largest `u64`.
pub const MAX_LEN: usize = 11;

/// Encodes `n` in base62 (0 is `"0"`).
pub fn encode(mut n: u64) -> String {
    let mut buf = [0u8; MAX_LEN];
    let mut i = MAX_LEN;
    loop {
        i -= 1;
        buf[i] = ALPHABET[(n % 62) as usize];
        n /= 62;
        if n == 0 {
            break;
        }
    }
    buf[i..].iter().map(|&b| b as char).collect()
}

fn digit(c: u8) -> Option<u64> {
    match c {
        b'0'..=b'9' => Some(u64::from(c - b'0')),
        b'A'..=b'Z' => Some(u64::from(c - b'A') + 10),
        b'a'..=b'z' => Some(u64::from(c - b'a') + 36),
        _ => None,
    }
}

/// Decodes base62 text; `None` for an empty string, a foreign symbol or an overflow.
pub fn decode(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > MAX_LEN {
        return None;
    }
    text.bytes().try_fold(0u64, |acc, c| acc.checked_mul(62)?.checked_add(digit(c)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(encode(0), "0");
        assert_eq!(encode(61), "z");
        assert_eq!(encode(62), "10");
        assert_eq!(encode(3_843), "zz");
        assert_eq!(encode(3_844), "100");
        assert_eq!(decode("zz"), Some(3_843));
        assert_eq!(encode(u64::MAX).len(), MAX_LEN);
        assert_eq!(decode(&encode(u64::MAX)), Some(u64::MAX));
        assert_eq!(decode(""), None);
        assert_eq!(decode("a-b"), None);
        assert_eq!(decode("zzzzzzzzzzz"), None, "62^11 - 1 overflows u64");
    }

    /// Brute-force twin: the value of a digit string as a sum of digit × 62^position,
    /// computed in u128 so nothing overflows.
    fn twin(text: &str) -> u128 {
        let pos = |c: char| ALPHABET.iter().position(|&a| a as char == c).unwrap_or(0) as u128;
        text.chars().rev().enumerate().map(|(i, c)| pos(c) * 62u128.pow(i as u32)).sum()
    }

    #[test]
    fn encoding_matches_positional_value_and_round_trips() {
        let mut x: u64 = 1;
        for i in 0..2_000u64 {
            x = crate::sim::rng::mix64(x ^ i) >> (i % 64);
            let s = encode(x);
            assert_eq!(twin(&s), u128::from(x), "{x}");
            assert_eq!(decode(&s), Some(x));
            assert!(s == "0" || !s.starts_with('0'));
        }
    }

    #[test]
    fn order_of_equal_length_codes_follows_value() {
        for a in 3_844u64..3_844 + 500 {
            assert!(encode(a) < encode(a + 1));
        }
    }
}
