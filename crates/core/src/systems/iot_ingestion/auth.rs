//! Device authentication with a keyed MAC. Each device is provisioned at the factory with
//! its own 128-bit key, derived from a fleet master secret by key diversification:
//! `key(d) = (SipHash(master, [d, 0]), SipHash(master, [d, 1]))`. A device signs each
//! reading with SipHash-2-4 under its key; the gateway, holding the master secret, derives
//! the same key on the fly (no table of a million keys) and recomputes the tag. Someone
//! who knows a device's id but not the master secret cannot produce a valid tag (a guess
//! succeeds with probability 2⁻⁶⁴), and one device's key leaked does not reveal another's.
//!
//! (A real fleet uses per-device X.509 certificates and mutual TLS, or a TPM-held key;
//! the lesson — authenticate every device, never trust a claimed id — is the same.)

use super::msg::Reading;
use crate::blocks::siphash::{siphash24_words, SipKey};

/// The per-device key diversified from the master secret.
pub fn device_key(master: SipKey, device: u32) -> SipKey {
    SipKey {
        k0: siphash24_words(master, &[u64::from(device), 0]),
        k1: siphash24_words(master, &[u64::from(device), 1]),
    }
}

/// The tag a device computes over (device, seq, value).
pub fn tag(key: SipKey, device: u32, seq: u32, value: i32) -> u64 {
    siphash24_words(key, &[u64::from(device), u64::from(seq), value as u32 as u64])
}

/// A reading as device `device` signs it.
pub fn sign(master: SipKey, device: u32, seq: u32, value: i32) -> Reading {
    Reading { device, seq, value, tag: tag(device_key(master, device), device, seq, value) }
}

/// Whether the reading's tag is the one its claimed device's key gives.
pub fn verify(master: SipKey, r: &Reading) -> bool {
    tag(device_key(master, r.device), r.device, r.seq, r.value) == r.tag
}

/// What a device's sensor reads for its reading `seq`: a deterministic wave around 20 °C
/// (tenths of a degree), so a reading can be re-sent from its number alone — the device
/// buffer keeps sequence numbers, not payloads.
pub fn sensor_value(device: u32, seq: u32) -> i32 {
    200 + ((device.wrapping_mul(31).wrapping_add(seq.wrapping_mul(7))) % 100) as i32 - 50
}

/// The physical range the gateway's validation accepts (−40 °C to 125 °C).
pub fn plausible(value: i32) -> bool {
    (-400..=1_250).contains(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_reading_verifies_and_any_change_breaks_it() {
        let master = SipKey { k0: 1, k1: 2 };
        let r = sign(master, 42, 7, sensor_value(42, 7));
        assert!(verify(master, &r));
        assert!(!verify(master, &Reading { seq: 8, ..r }));
        assert!(!verify(master, &Reading { device: 43, ..r }));
        assert!(!verify(master, &Reading { value: r.value + 1, ..r }));
        assert!(!verify(SipKey { k0: 1, k1: 3 }, &r));
        assert_ne!(device_key(master, 1), device_key(master, 2));
    }

    #[test]
    fn sensor_values_are_plausible() {
        for d in [0u32, 1, 99_999, u32::MAX] {
            for s in [0u32, 1, 1_000, u32::MAX] {
                assert!(plausible(sensor_value(d, s)));
            }
        }
    }
}
