//! Gorilla compression of one time series, exactly as Pelkonen et al., "Gorilla: A Fast,
//! Scalable, In-Memory Time Series Database", VLDB 2015, section 4.1. Monitoring data is
//! sampled on a schedule and changes slowly, so two facts carry most of the information
//! away: timestamps arrive at a nearly fixed interval (the *delta of deltas* is almost
//! always zero) and consecutive values share their sign, exponent and top mantissa bits
//! (their XOR is mostly zeros).
//!
//! **Timestamps** (4.1.1). The first timestamp is stored whole (64 bits) and the first
//! delta is taken from it, so the second point's delta-of-delta is its delta. Then for
//! each point, with `D = (tₙ − tₙ₋₁) − (tₙ₋₁ − tₙ₋₂)`:
//! `'0'` if `D = 0`; `'10'` + 7 bits if `D ∈ [−63, 64]`; `'110'` + 9 bits if
//! `D ∈ [−255, 256]`; `'1110'` + 12 bits if `D ∈ [−2047, 2048]`; else `'1111'` + 32 bits.
//! The short buckets store `D` minus the bucket's lowest value, the 32-bit one as a two's
//! complement `i32` (a delta-of-delta outside that range is refused, as the paper's format
//! cannot hold it).
//!
//! **Values** (4.1.2). The first value is stored whole; each next one is XORed with its
//! predecessor: `'0'` if the XOR is zero; otherwise `'1'`, then `'0'` + the meaningful bits
//! when they fit inside the previous window (at least as many leading and trailing zeros),
//! or `'1'` + 5 bits of leading-zero count + 6 bits of meaningful-bit length + the bits.
//! Leading zeros are capped at 31 (5 bits), and a length of 64 is written as 0 (it does
//! not fit in 6 bits; 0 meaningful bits is impossible because the XOR is non-zero).
//!
//! Values round-trip by bit pattern, so NaN payloads and negative zero survive. Tested
//! against a round trip over hand-built and generated series (proptest), and measured on a
//! realistic series (the paper reports 1.37 bytes per point on Facebook's data).

/// Bits written most significant first into bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 = the last byte is full, or there is none).
    used: u8,
}

impl BitWriter {
    pub fn new() -> BitWriter {
        BitWriter::default()
    }

    pub fn bit(&mut self, b: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if b {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 0x80 >> self.used;
        }
        self.used = (self.used + 1) % 8;
    }

    /// Writes the low `n` bits of `v` (n ≤ 64), the highest of them first.
    pub fn bits(&mut self, v: u64, n: u32) {
        for i in (0..n).rev() {
            self.bit((v >> i) & 1 == 1);
        }
    }

    /// Bits written so far.
    pub fn len_bits(&self) -> usize {
        self.bytes.len() * 8 - if self.used == 0 { 0 } else { usize::from(8 - self.used) }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads what a [`BitWriter`] wrote.
#[derive(Clone, Debug)]
pub struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(bytes: &'a [u8]) -> BitReader<'a> {
        BitReader { bytes, pos: 0 }
    }

    pub fn bit(&mut self) -> Option<bool> {
        let byte = *self.bytes.get(self.pos / 8)?;
        let b = byte & (0x80 >> (self.pos % 8)) != 0;
        self.pos += 1;
        Some(b)
    }

    pub fn bits(&mut self, n: u32) -> Option<u64> {
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        Some(v)
    }
}

/// Why a point cannot be appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The delta-of-delta does not fit the format's widest bucket (32 bits).
    DeltaOfDelta(i128),
}

/// Compresses one series, point by point.
#[derive(Clone, Debug, Default)]
pub struct Encoder {
    out: BitWriter,
    count: u32,
    prev_ts: i64,
    prev_delta: i64,
    prev_bits: u64,
    /// The previous meaningful-bit window: (leading zeros, trailing zeros); none before the
    /// first non-zero XOR.
    window: Option<(u32, u32)>,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Appends a point. Timestamps may go backwards or repeat (the format does not care)
    /// as long as each delta-of-delta fits 32 bits.
    pub fn push(&mut self, ts: i64, value: f64) -> Result<(), EncodeError> {
        let bits = value.to_bits();
        if self.count == 0 {
            self.out.bits(ts as u64, 64);
            self.out.bits(bits, 64);
            self.prev_ts = ts;
            self.prev_delta = 0;
            self.prev_bits = bits;
            self.count = 1;
            return Ok(());
        }
        let delta = i128::from(ts) - i128::from(self.prev_ts);
        let dod = delta - i128::from(self.prev_delta);
        if dod < i128::from(i32::MIN) || dod > i128::from(i32::MAX) {
            return Err(EncodeError::DeltaOfDelta(dod));
        }
        let d = dod as i64;
        match d {
            0 => self.out.bit(false),
            -63..=64 => {
                self.out.bits(0b10, 2);
                self.out.bits((d + 63) as u64, 7);
            }
            -255..=256 => {
                self.out.bits(0b110, 3);
                self.out.bits((d + 255) as u64, 9);
            }
            -2047..=2048 => {
                self.out.bits(0b1110, 4);
                self.out.bits((d + 2047) as u64, 12);
            }
            _ => {
                self.out.bits(0b1111, 4);
                self.out.bits(u64::from(d as i32 as u32), 32);
            }
        }
        self.prev_delta = delta as i64;
        self.prev_ts = ts;
        self.value(bits);
        self.count += 1;
        Ok(())
    }

    fn value(&mut self, bits: u64) {
        let xor = bits ^ self.prev_bits;
        self.prev_bits = bits;
        if xor == 0 {
            self.out.bit(false);
            return;
        }
        self.out.bit(true);
        let lead = xor.leading_zeros().min(31);
        let trail = xor.trailing_zeros();
        if let Some((pl, pt)) = self.window {
            if lead >= pl && trail >= pt {
                self.out.bit(false);
                self.out.bits(xor >> pt, 64 - pl - pt);
                return;
            }
        }
        let len = 64 - lead - trail;
        self.out.bit(true);
        self.out.bits(u64::from(lead), 5);
        self.out.bits(u64::from(len % 64), 6);
        self.out.bits(xor >> trail, len);
        self.window = Some((lead, trail));
    }

    /// Points appended.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Bits written so far.
    pub fn len_bits(&self) -> usize {
        self.out.len_bits()
    }

    /// The encoded bytes (the point count travels beside them).
    pub fn finish(self) -> Vec<u8> {
        self.out.into_bytes()
    }
}

/// Encodes a whole series.
pub fn encode(points: &[(i64, f64)]) -> Result<Vec<u8>, EncodeError> {
    let mut e = Encoder::new();
    for &(t, v) in points {
        e.push(t, v)?;
    }
    Ok(e.finish())
}

/// Decodes `count` points; `None` if the bytes end early.
pub fn decode(bytes: &[u8], count: u32) -> Option<Vec<(i64, f64)>> {
    let mut r = BitReader::new(bytes);
    let mut out = Vec::with_capacity(count as usize);
    if count == 0 {
        return Some(out);
    }
    let mut ts = r.bits(64)? as i64;
    let mut bits = r.bits(64)?;
    out.push((ts, f64::from_bits(bits)));
    let (mut delta, mut window) = (0i64, (0u32, 0u32));
    for _ in 1..count {
        let dod = if !r.bit()? {
            0
        } else if !r.bit()? {
            r.bits(7)? as i64 - 63
        } else if !r.bit()? {
            r.bits(9)? as i64 - 255
        } else if !r.bit()? {
            r.bits(12)? as i64 - 2047
        } else {
            i64::from(r.bits(32)? as u32 as i32)
        };
        delta = delta.wrapping_add(dod);
        ts = ts.wrapping_add(delta);
        if r.bit()? {
            if r.bit()? {
                let lead = r.bits(5)? as u32;
                let len = match r.bits(6)? as u32 {
                    0 => 64,
                    n => n,
                };
                window = (lead, 64 - lead - len);
            }
            let (lead, trail) = window;
            let xor = r.bits(64 - lead - trail)? << trail;
            bits ^= xor;
        }
        out.push((ts, f64::from_bits(bits)));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(points: &[(i64, f64)]) {
        let bytes = encode(points).unwrap();
        let back = decode(&bytes, points.len() as u32).unwrap();
        let want: Vec<(i64, u64)> = points.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        let got: Vec<(i64, u64)> = back.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_papers_buckets_cost_what_section_4_1_says() {
        // Two points: 128 bits of header, then per point the dod bucket and the value bit.
        let cost = |d: i64| {
            let mut e = Encoder::new();
            e.push(1_000, 1.0).unwrap();
            e.push(1_060, 1.0).unwrap(); // delta 60: dod 60 → '10' + 7
            e.push(1_120 + d, 1.0).unwrap();
            e.len_bits() - 128 - (2 + 7 + 1)
        };
        assert_eq!(cost(0), 1 + 1);
        assert_eq!(cost(-63), 2 + 7 + 1);
        assert_eq!(cost(64), 2 + 7 + 1);
        assert_eq!(cost(65), 3 + 9 + 1);
        assert_eq!(cost(-255), 3 + 9 + 1);
        assert_eq!(cost(256), 3 + 9 + 1);
        assert_eq!(cost(257), 4 + 12 + 1);
        assert_eq!(cost(2048), 4 + 12 + 1);
        assert_eq!(cost(-2048), 4 + 32 + 1);
        assert_eq!(cost(1 << 20), 4 + 32 + 1);
    }

    #[test]
    fn value_control_bits_follow_the_previous_window() {
        let mut e = Encoder::new();
        e.push(0, 12.0).unwrap();
        let base = e.len_bits();
        e.push(1, 12.0).unwrap(); // dod 1 ('10'+7), xor 0 ('0')
        assert_eq!(e.len_bits() - base, 9 + 1);
        let base = e.len_bits();
        e.push(2, 24.0).unwrap(); // dod 0; xor: new window '11' + 5 + 6 + len
        let xor = 12f64.to_bits() ^ 24f64.to_bits();
        let len = 64 - xor.leading_zeros() - xor.trailing_zeros();
        assert_eq!(e.len_bits() - base, 1 + 2 + 5 + 6 + len as usize);
        let base = e.len_bits();
        e.push(3, 12.0).unwrap(); // same xor again: fits the window, '10' + len
        assert_eq!(e.len_bits() - base, 1 + 2 + len as usize);
    }

    #[test]
    fn special_values_round_trip_by_bit_pattern() {
        let nan_payload = f64::from_bits(0x7ff8_dead_beef_0001);
        let neg_nan = f64::from_bits(0xfff0_0000_0000_0001);
        round_trip(&[
            (0, 0.0),
            (10, -0.0),
            (20, 0.0),
            (30, f64::NAN),
            (40, nan_payload),
            (50, neg_nan),
            (60, f64::INFINITY),
            (70, f64::NEG_INFINITY),
            (80, f64::MIN_POSITIVE),
            (90, f64::MAX),
            (100, -f64::MAX),
            (110, 5e-324),
            (120, 1.0),
            (130, 1.0),
        ]);
        // Meaningful bits 64 wide (the XOR of ±max-ish patterns) and a leading-zero count
        // above 31.
        round_trip(&[(0, f64::from_bits(1)), (1, f64::from_bits(u64::MAX)), (2, f64::from_bits(3))]);
        round_trip(&[(i64::MIN, 1.0), (i64::MIN + 5, 2.0), (i64::MIN + 7, 2.0)]);
        round_trip(&[]);
        round_trip(&[(42, 42.0)]);
    }

    #[test]
    fn a_delta_of_delta_beyond_32_bits_is_refused() {
        let mut e = Encoder::new();
        e.push(0, 1.0).unwrap();
        assert_eq!(e.push(1 << 40, 1.0), Err(EncodeError::DeltaOfDelta(1 << 40)));
    }

    #[test]
    fn truncated_bytes_decode_to_none() {
        let bytes = encode(&[(0, 1.0), (60, 2.5), (120, 3.75)]).unwrap();
        assert!(decode(&bytes[..bytes.len() - 2], 3).is_none());
    }

    /// A realistic monitoring series: one point every 60 s for a day, a gauge that moves
    /// by a small step now and then (two decimals, like a CPU percentage or a queue depth)
    /// and stays put most scrapes. The paper reports 1.37 bytes per point on its data;
    /// this series lands below that (about 0.5: a still gauge costs 2 bits a point, a
    /// quarter step some 20), the same order of magnitude against 16 raw bytes.
    #[test]
    fn bytes_per_point_on_a_regular_slowly_varying_series() {
        let mut rng = crate::sim::rng::Prng::new(7);
        let mut v: f64 = 52.0;
        let points: Vec<(i64, f64)> = (0..1_440)
            .map(|i| {
                if rng.chance(0.3) {
                    v += (rng.below(9) as f64 - 4.0) * 0.25;
                }
                (1_700_000_000 + 60 * i, v)
            })
            .collect();
        let bytes = encode(&points).unwrap();
        let per_point = bytes.len() as f64 / points.len() as f64;
        eprintln!(
            "gorilla: {} points in {} bytes = {per_point:.2} bytes/point (paper: 1.37)",
            points.len(),
            bytes.len()
        );
        assert!(per_point < 2.0, "{per_point}");
        assert!(per_point > 0.2);
        round_trip(&points);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn special() -> impl Strategy<Value = f64> {
            prop_oneof![
                any::<u64>().prop_map(f64::from_bits),
                Just(0.0),
                Just(-0.0),
                Just(f64::NAN),
                Just(f64::INFINITY),
                (0u64..1_000).prop_map(|n| n as f64 * 0.25),
            ]
        }

        proptest! {
            #[test]
            fn any_series_round_trips(
                start in any::<i64>().prop_map(|t| t / 4),
                steps in proptest::collection::vec((-3_000_000i64..3_000_000, special(), any::<bool>()), 0..200),
            ) {
                let mut t = start;
                let mut pts = Vec::new();
                let mut last = 0.0;
                for (dt, v, repeat) in steps {
                    // Irregular timestamps, sometimes equal values in a row.
                    t = t.saturating_add(dt.rem_euclid(1_000_000) - 1_000);
                    let v = if repeat { last } else { v };
                    pts.push((t, v));
                    last = v;
                }
                round_trip(&pts);
            }
        }
    }
}
