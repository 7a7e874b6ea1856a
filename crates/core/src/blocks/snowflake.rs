//! The Snowflake id layout (Twitter, "Announcing Snowflake", 2010): one unused sign bit,
//! a 41-bit millisecond timestamp, a 10-bit worker id and a 12-bit per-millisecond
//! sequence, packed so that ids from one worker sort by creation time and ids from
//! different workers never collide. 41 bits of milliseconds last about 69.7 years from
//! the chosen epoch; 12 bits allow 4096 ids per worker per millisecond. This module only
//! packs and unpacks; the generator that must cope with clocks lives with its system.

pub const TIMESTAMP_BITS: u32 = 41;
pub const WORKER_BITS: u32 = 10;
pub const SEQUENCE_BITS: u32 = 12;

pub const MAX_TIMESTAMP: u64 = (1 << TIMESTAMP_BITS) - 1;
pub const MAX_WORKER: u64 = (1 << WORKER_BITS) - 1;
pub const MAX_SEQUENCE: u64 = (1 << SEQUENCE_BITS) - 1;

const WORKER_SHIFT: u32 = SEQUENCE_BITS;
const TIMESTAMP_SHIFT: u32 = SEQUENCE_BITS + WORKER_BITS;

/// The three fields of an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Parts {
    pub timestamp_ms: u64,
    pub worker: u64,
    pub sequence: u64,
}

/// Packs the fields; `None` if any does not fit its width.
pub fn encode(p: Parts) -> Option<u64> {
    if p.timestamp_ms > MAX_TIMESTAMP || p.worker > MAX_WORKER || p.sequence > MAX_SEQUENCE {
        return None;
    }
    Some(p.timestamp_ms << TIMESTAMP_SHIFT | p.worker << WORKER_SHIFT | p.sequence)
}

/// Unpacks an id (the sign bit is ignored).
pub fn decode(id: u64) -> Parts {
    Parts {
        timestamp_ms: (id >> TIMESTAMP_SHIFT) & MAX_TIMESTAMP,
        worker: (id >> WORKER_SHIFT) & MAX_WORKER,
        sequence: id & MAX_SEQUENCE,
    }
}

/// `(field, bits, first bit, last bit)` from the most significant end, for layout views.
pub fn layout() -> [(&'static str, u32, u32, u32); 4] {
    [
        ("sign (unused)", 1, 63, 63),
        ("timestamp ms", TIMESTAMP_BITS, 62, TIMESTAMP_SHIFT),
        ("worker", WORKER_BITS, TIMESTAMP_SHIFT - 1, WORKER_SHIFT),
        ("sequence", SEQUENCE_BITS, WORKER_SHIFT - 1, 0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force twin: concatenate the fields as binary text and parse it back.
    fn twin(p: Parts) -> u64 {
        let s = format!("0{:041b}{:010b}{:012b}", p.timestamp_ms, p.worker, p.sequence);
        assert_eq!(s.len(), 64);
        u64::from_str_radix(&s, 2).unwrap_or(0)
    }

    #[test]
    fn packing_matches_bit_concatenation_and_round_trips() {
        let mut x = 7u64;
        for i in 0..3_000u64 {
            x = crate::sim::rng::mix64(x.wrapping_add(i));
            let p = Parts {
                timestamp_ms: x & MAX_TIMESTAMP,
                worker: (x >> 41) & MAX_WORKER,
                sequence: (x >> 51) & MAX_SEQUENCE,
            };
            let id = encode(p).unwrap_or(0);
            assert_eq!(id, twin(p));
            assert_eq!(decode(id), p);
            assert!(id < 1 << 63, "sign bit stays clear");
        }
    }

    #[test]
    fn fixed_vectors_and_bounds() {
        assert_eq!(encode(Parts { timestamp_ms: 1, worker: 0, sequence: 0 }), Some(1 << 22));
        assert_eq!(encode(Parts { timestamp_ms: 0, worker: 1, sequence: 0 }), Some(1 << 12));
        assert_eq!(encode(Parts { timestamp_ms: 0, worker: 0, sequence: 4095 }), Some(4095));
        assert_eq!(encode(Parts { timestamp_ms: 0, worker: 1024, sequence: 0 }), None);
        assert_eq!(encode(Parts { timestamp_ms: 0, worker: 0, sequence: 4096 }), None);
        assert_eq!(encode(Parts { timestamp_ms: 1 << 41, worker: 0, sequence: 0 }), None);
        let bits: u32 = layout().iter().map(|f| f.1).sum();
        assert_eq!(bits, 64);
    }

    #[test]
    fn ids_of_one_worker_sort_by_time_then_sequence() {
        let a = encode(Parts { timestamp_ms: 10, worker: 5, sequence: 4095 });
        let b = encode(Parts { timestamp_ms: 11, worker: 5, sequence: 0 });
        assert!(a < b);
    }
}
