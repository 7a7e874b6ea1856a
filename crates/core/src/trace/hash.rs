//! A `Hasher` whose output is the same on every platform. `#[derive(Hash)]` feeds `usize`
//! lengths and `isize` enum discriminants, which are 4 bytes on wasm32 and 8 on x86-64;
//! this hasher widens both to 64 bits, so a message hashes identically everywhere. The
//! mixing is word-at-a-time with a SplitMix64 finish: fast, not cryptographic.

use crate::sim::rng::mix64;
use std::hash::{Hash, Hasher};

#[derive(Clone, Copy, Debug)]
pub struct StableHasher {
    state: u64,
}

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher {
            state: 0x243F_6A88_85A3_08D3,
        }
    }
}

impl StableHasher {
    #[inline]
    pub fn word(&mut self, w: u64) {
        self.state = (self.state.rotate_left(23) ^ w).wrapping_mul(0x9FB2_1C65_1E98_DF25);
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        mix64(self.state)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.word(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 56));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.word(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.word(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.word(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.word(i as i64 as u64);
    }
    fn write_i64(&mut self, i: i64) {
        self.word(i as u64);
    }
    fn write_i32(&mut self, i: i32) {
        self.word(i64::from(i) as u64);
    }
}

/// The platform-independent hash of any `Hash` value.
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = StableHasher::default();
    value.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Hash)]
    enum Msg {
        Get { key: usize },
        Put(String, Vec<u32>),
    }

    /// These constants are also asserted in the browser (tests/golden in core), which is
    /// what proves the widening works on wasm32.
    #[test]
    fn pinned_values() {
        assert_eq!(
            stable_hash(&Msg::Get { key: 3 }),
            stable_hash(&Msg::Get { key: 3 })
        );
        assert_ne!(
            stable_hash(&Msg::Get { key: 3 }),
            stable_hash(&Msg::Get { key: 4 })
        );
        let h = stable_hash(&Msg::Put("abc".into(), vec![1, 2]));
        expect_test::expect!["af7004979cf669cf"].assert_eq(&format!("{h:016x}"));
    }
}
