//! SipHash-2-4, the keyed pseudo-random function of Aumasson and Bernstein ("SipHash: a
//! fast short-input PRF", INDOCRYPT 2012): a 128-bit key, any message, a 64-bit tag. It is
//! a MAC for short messages — exactly what a device signing a 20-byte reading needs — and
//! cheap enough that a gateway can verify every reading it admits.
//!
//! The state is four 64-bit words initialised from the key and the constants
//! "somepseudorandomlygeneratedbytes"; each 8-byte little-endian message word is xored in,
//! mixed by two SipRounds (the "2"), xored out; the last word carries the message length in
//! its top byte; finalisation xors 0xff into `v2` and runs four SipRounds (the "4").
//!
//! Tested against the reference implementation's published vectors (`vectors.h`,
//! `vectors_sip64`, in github.com/veorq/SipHash: key `00..0f`, message `00..(n-1)`) and
//! against the standard library's (deprecated, still SipHash-2-4) `SipHasher` on random
//! inputs.

/// A 128-bit SipHash key as two little-endian 64-bit halves (`k0` = key bytes 0..8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SipKey {
    pub k0: u64,
    pub k1: u64,
}

impl SipKey {
    pub fn from_bytes(key: &[u8; 16]) -> SipKey {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&key[..8]);
        b.copy_from_slice(&key[8..]);
        SipKey { k0: u64::from_le_bytes(a), k1: u64::from_le_bytes(b) }
    }
}

#[inline]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-2-4 of `msg` under `key`.
pub fn siphash24(key: SipKey, msg: &[u8]) -> u64 {
    let mut v = [
        key.k0 ^ 0x736f_6d65_7073_6575,
        key.k1 ^ 0x646f_7261_6e64_6f6d,
        key.k0 ^ 0x6c79_6765_6e65_7261,
        key.k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut blocks = msg.chunks_exact(8);
    for block in &mut blocks {
        let mut w = [0u8; 8];
        w.copy_from_slice(block);
        let m = u64::from_le_bytes(w);
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let mut last = [0u8; 8];
    let tail = blocks.remainder();
    last[..tail.len()].copy_from_slice(tail);
    last[7] = msg.len() as u8;
    let m = u64::from_le_bytes(last);
    v[3] ^= m;
    round(&mut v);
    round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// SipHash-2-4 of a message made of 64-bit words (each written little-endian): the form a
/// fixed-layout record takes, with no allocation.
pub fn siphash24_words(key: SipKey, words: &[u64]) -> u64 {
    let mut buf = [0u8; 64];
    let n = words.len().min(8);
    for (i, w) in words[..n].iter().enumerate() {
        buf[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
    siphash24(key, &buf[..8 * n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    /// `vectors_sip64[0..16]` from the reference implementation's `vectors.h`: key bytes
    /// `00..0f`, the message of length n is the bytes `00..(n-1)`, the tag as the
    /// little-endian bytes the reference code writes out. Entry 15 is also the worked
    /// example of the paper's Appendix A (`a129ca6149be45e5`).
    const VECTORS: [[u8; 8]; 16] = [
        [0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72],
        [0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74],
        [0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d],
        [0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85],
        [0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf],
        [0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18],
        [0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb],
        [0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab],
        [0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93],
        [0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e],
        [0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a],
        [0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4],
        [0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75],
        [0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14],
        [0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7],
        [0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1],
    ];

    fn reference_key() -> SipKey {
        let mut k = [0u8; 16];
        for (i, b) in k.iter_mut().enumerate() {
            *b = i as u8;
        }
        SipKey::from_bytes(&k)
    }

    #[test]
    fn matches_the_reference_vectors() {
        let key = reference_key();
        assert_eq!(key, SipKey { k0: 0x0706_0504_0302_0100, k1: 0x0f0e_0d0c_0b0a_0908 });
        for (n, want) in VECTORS.iter().enumerate() {
            let msg: Vec<u8> = (0..n as u8).collect();
            assert_eq!(siphash24(key, &msg), u64::from_le_bytes(*want), "message length {n}");
        }
        assert_eq!(siphash24(key, &(0..15u8).collect::<Vec<_>>()), 0xa129_ca61_49be_45e5);
    }

    /// Brute-force twin: the standard library's SipHasher (SipHash-2-4, kept for
    /// compatibility) over random keys and messages of every length up to 40 bytes.
    #[test]
    #[allow(deprecated)]
    fn agrees_with_the_standard_library() {
        use std::hash::Hasher;
        let mut rng = Prng::new(7);
        for len in 0..40usize {
            for _ in 0..20 {
                let key = SipKey { k0: rng.next_u64(), k1: rng.next_u64() };
                let msg: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                let mut h = std::hash::SipHasher::new_with_keys(key.k0, key.k1);
                h.write(&msg);
                assert_eq!(siphash24(key, &msg), h.finish(), "len {len}");
            }
        }
    }

    #[test]
    fn words_are_little_endian_bytes() {
        let key = reference_key();
        let bytes: Vec<u8> = (0..16u8).collect();
        let w0 = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        let w1 = u64::from_le_bytes(bytes[8..].try_into().unwrap());
        assert_eq!(siphash24_words(key, &[w0, w1]), siphash24(key, &bytes));
    }

    #[test]
    fn a_changed_bit_or_key_changes_the_tag() {
        let key = reference_key();
        let tag = siphash24_words(key, &[42, 7]);
        assert_ne!(tag, siphash24_words(key, &[42, 6]));
        assert_ne!(tag, siphash24_words(SipKey { k0: key.k0 ^ 1, k1: key.k1 }, &[42, 7]));
    }
}
