//! Kafka's default partitioner for keyed records: the 32-bit MurmurHash2 of the key
//! bytes with Kafka's seed, made non-negative by clearing the sign bit, modulo the
//! partition count — so a key lands on the partition a Java producer would pick.
//!
//! The hash is Austin Appleby's MurmurHash2 as Kafka's `Utils.murmur2` computes it (seed
//! `0x9747b28c`, multiplier `0x5bd1e995`, shift 24, little-endian 4-byte blocks, the
//! tail bytes folded in before the final mix); `toPositive` is `n & 0x7fffffff`, not
//! `abs`, so `i32::MIN` maps to 0. The mapping is `BuiltInPartitioner.partitionForKey`
//! (formerly `DefaultPartitioner`). Tested against the vectors in Kafka's
//! `clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java` (`testMurmur2`)
//! and kafka-python's `test/test_partitioner.py` (`test_murmur2_java_compatibility`,
//! partitions out of 1000 that its authors took from Kafka's Java partitioner).

const SEED: u32 = 0x9747_b28c;
const M: u32 = 0x5bd1_e995;
const R: u32 = 24;

/// Kafka's `Utils.murmur2`: the hash as Java's signed `int`.
pub fn murmur2(data: &[u8]) -> i32 {
    let mut h = SEED ^ data.len() as u32;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u32) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit.
pub fn to_positive(n: i32) -> u32 {
    (n & 0x7fff_ffff) as u32
}

/// The partition Kafka's producer picks for a record with this key.
pub fn partition_for_key(key: &[u8], partitions: u32) -> u32 {
    assert!(partitions > 0, "a topic has at least one partition");
    to_positive(murmur2(key)) % partitions
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn matches_kafkas_own_murmur2_vectors() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ];
        for (key, want) in cases {
            assert_eq!(murmur2(key), want, "{}", String::from_utf8_lossy(key));
        }
    }

    /// kafka-python's `test_murmur2_java_compatibility`: partitions out of 1000, covering
    /// the empty key, every tail length, and a zero byte.
    #[test]
    fn lands_where_the_java_producer_does() {
        let cases: [(&[u8], u32); 6] =
            [(b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566), (b"\x00 ", 742)];
        for (key, want) in cases {
            assert_eq!(partition_for_key(key, 1000), want, "{key:?}");
        }
    }

    #[test]
    fn to_positive_clears_the_sign_bit_rather_than_negating() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), 0x7fff_ffff);
        assert_eq!(to_positive(-973_932_308), (-973_932_308i32 as u32) & 0x7fff_ffff);
        assert_eq!(to_positive(5), 5);
    }
}
