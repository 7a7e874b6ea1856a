//! A compact record the checks keep for every transaction of a run: a byte of flags
//! (committed somewhere, aborted somewhere, told committed, …), in one vector per client
//! indexed by sequence number. Client sequence numbers are dense (1, 2, 3, … with no
//! gaps), so this costs one byte per transaction — a few megabytes for the longest run
//! the bounds allow, where a map entry per transaction and per decision cost hundreds.
//! The checks keep full detail (who, when) only while a transaction is open and fall back
//! to these flags once every participant it touched has decided, so a late contradiction
//! is still caught.

use super::msg::TxnId;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct TxnBits {
    by_client: BTreeMap<u32, Vec<u8>>,
}

impl TxnBits {
    /// The flags of `txn` (0 if it was never flagged).
    pub fn get(&self, txn: TxnId) -> u8 {
        self.by_client.get(&txn.client).and_then(|v| v.get(txn.seq as usize)).copied().unwrap_or(0)
    }

    /// Sets `flags` on `txn`; returns the flags it had before.
    pub fn set(&mut self, txn: TxnId, flags: u8) -> u8 {
        let v = self.by_client.entry(txn.client).or_default();
        let i = txn.seq as usize;
        if v.len() <= i {
            v.resize(i + 1, 0);
        }
        let before = v[i];
        v[i] |= flags;
        before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    /// The twin: a map from transaction to flags.
    #[test]
    fn matches_a_map_of_flags() {
        let mut rng = Prng::new(3);
        let mut bits = TxnBits::default();
        let mut twin: BTreeMap<TxnId, u8> = BTreeMap::new();
        for _ in 0..5_000 {
            let txn = TxnId { client: rng.below(4) as u32, seq: rng.below(300) as u32 };
            let flags = 1 << rng.below(3);
            let before = twin.get(&txn).copied().unwrap_or(0);
            *twin.entry(txn).or_default() |= flags;
            assert_eq!(bits.set(txn, flags), before);
            let probe = TxnId { client: rng.below(5) as u32, seq: rng.below(400) as u32 };
            assert_eq!(bits.get(probe), twin.get(&probe).copied().unwrap_or(0));
        }
    }
}
