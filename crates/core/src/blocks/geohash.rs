//! Geohash (G. Niemeyer, 2008): a cell of the Earth named by interleaving the bits of
//! repeated halvings of longitude and latitude, longitude first, written five bits a
//! character in base 32 (`0-9b-hjkmnp-z`). Nearby points usually share a prefix, so a
//! sorted key-value store answers "everything in this cell" with one range scan — Redis
//! `GEOADD` stores 52 such bits as a sorted-set score. "Usually" is the lesson: two points
//! a metre apart across a cell edge can share no prefix at all (across the Greenwich
//! meridian `gcpv…` meets `u10h…`), so a search must also read the cell's eight
//! [`neighbours`] and filter by true distance.
//!
//! Cells are integers here ([`Cell`]: `bits` of `5 × chars` bits), so an index keys
//! entities by a fixed-precision hash and a coarser cell is a contiguous [`Cell::range`].
//! Bisection on `f64` halves dyadic intervals exactly, so the same point gives the same
//! cell everywhere.

use super::haversine::{LatLon, Rect};

/// The geohash alphabet (no `a`, `i`, `l`, `o`).
pub const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
/// Longest precision kept: 12 characters, 60 bits (about 3.7 cm × 1.9 cm).
pub const MAX_CHARS: u8 = 12;

/// A geohash cell: its `5 × chars` interleaved bits (longitude first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    pub bits: u64,
    pub chars: u8,
}

/// The cell of precision `chars` holding `p` (latitude in [-90, 90], longitude in
/// [-180, 180]; a value on a split goes to the upper half, as every implementation does).
pub fn encode(p: LatLon, chars: u8) -> Cell {
    let chars = chars.clamp(1, MAX_CHARS);
    let (mut lat, mut lon) = ((-90.0f64, 90.0f64), (-180.0f64, 180.0f64));
    let mut bits = 0u64;
    for i in 0..u32::from(chars) * 5 {
        let (range, v) = if i % 2 == 0 { (&mut lon, p.lon) } else { (&mut lat, p.lat) };
        let mid = (range.0 + range.1) / 2.0;
        bits <<= 1;
        if v >= mid {
            bits |= 1;
            range.0 = mid;
        } else {
            range.1 = mid;
        }
    }
    Cell { bits, chars }
}

/// The geohash string of a cell.
pub fn to_string(c: Cell) -> String {
    (0..c.chars).rev().map(|i| ALPHABET[((c.bits >> (5 * u32::from(i))) & 31) as usize] as char).collect()
}

/// The cell a geohash string names, or `None` for a character outside the alphabet or a
/// string longer than [`MAX_CHARS`].
pub fn parse(s: &str) -> Option<Cell> {
    if s.is_empty() || s.len() > usize::from(MAX_CHARS) {
        return None;
    }
    let mut bits = 0u64;
    for ch in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == ch.to_ascii_lowercase())?;
        bits = bits << 5 | v as u64;
    }
    Some(Cell { bits, chars: s.len() as u8 })
}

/// Bits of longitude and of latitude in a cell of `chars` characters.
pub fn split_bits(chars: u8) -> (u32, u32) {
    let n = u32::from(chars) * 5;
    (n.div_ceil(2), n / 2)
}

/// Width and height of a cell of `chars` characters, degrees.
pub fn cell_size_deg(chars: u8) -> (f64, f64) {
    let (lon_bits, lat_bits) = split_bits(chars);
    (360.0 / (1u64 << lon_bits) as f64, 180.0 / (1u64 << lat_bits) as f64)
}

/// Splits a cell into its longitude and latitude indices (column, row from the south-west).
fn deinterleave(c: Cell) -> (u64, u64) {
    let n = u32::from(c.chars) * 5;
    let (mut x, mut y) = (0u64, 0u64);
    for i in 0..n {
        let bit = (c.bits >> (n - 1 - i)) & 1;
        if i % 2 == 0 {
            x = x << 1 | bit;
        } else {
            y = y << 1 | bit;
        }
    }
    (x, y)
}

fn interleave(x: u64, y: u64, chars: u8) -> Cell {
    let n = u32::from(chars) * 5;
    let (lon_bits, lat_bits) = split_bits(chars);
    let (mut xi, mut yi) = (lon_bits, lat_bits);
    let mut bits = 0u64;
    for i in 0..n {
        bits <<= 1;
        if i % 2 == 0 {
            xi -= 1;
            bits |= (x >> xi) & 1;
        } else {
            yi -= 1;
            bits |= (y >> yi) & 1;
        }
    }
    Cell { bits, chars }
}

/// The rectangle a cell covers.
pub fn bounds(c: Cell) -> Rect {
    let (x, y) = deinterleave(c);
    let (w, h) = cell_size_deg(c.chars);
    Rect {
        lat_min: -90.0 + y as f64 * h,
        lat_max: -90.0 + (y + 1) as f64 * h,
        lon_min: -180.0 + x as f64 * w,
        lon_max: -180.0 + (x + 1) as f64 * w,
    }
}

/// The centre of a cell (what "decoding" a geohash usually returns).
pub fn decode(c: Cell) -> LatLon {
    let b = bounds(c);
    LatLon::new((b.lat_min + b.lat_max) / 2.0, (b.lon_min + b.lon_max) / 2.0)
}

/// The cell `dx` columns east and `dy` rows north of `c`, wrapping around the
/// antimeridian; `None` past a pole.
pub fn offset(c: Cell, dx: i64, dy: i64) -> Option<Cell> {
    let (lon_bits, lat_bits) = split_bits(c.chars);
    let (x, y) = deinterleave(c);
    let ny = y as i64 + dy;
    if ny < 0 || ny >= 1i64 << lat_bits {
        return None;
    }
    let cols = 1i64 << lon_bits;
    let nx = (x as i64 + dx).rem_euclid(cols);
    Some(interleave(nx as u64, ny as u64, c.chars))
}

/// The eight cells around `c` — N, NE, E, SE, S, SW, W, NW — without those past a pole.
pub fn neighbours(c: Cell) -> Vec<Cell> {
    const AROUND: [(i64, i64); 8] = [(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)];
    AROUND.iter().filter_map(|&(dx, dy)| offset(c, dx, dy)).collect()
}

/// Every cell of precision `chars` that meets `r`, row by row (south first); `None` if
/// there would be more than `limit`.
pub fn covering(r: &Rect, chars: u8, limit: usize) -> Option<Vec<Cell>> {
    let sw = encode(LatLon::new(r.lat_min.max(-90.0), r.lon_min.max(-180.0)), chars);
    let ne = encode(LatLon::new(r.lat_max.min(90.0), r.lon_max.min(180.0)), chars);
    let ((x0, y0), (x1, y1)) = (deinterleave(sw), deinterleave(ne));
    let n = (x1.saturating_sub(x0) + 1).saturating_mul(y1.saturating_sub(y0) + 1);
    if n > limit as u64 {
        return None;
    }
    let mut out = Vec::with_capacity(n as usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            out.push(interleave(x, y, chars));
        }
    }
    Some(out)
}

impl Cell {
    /// The range of `full`-character cells inside this one: `[lo, hi)` of their bits.
    pub fn range(self, full: u8) -> (u64, u64) {
        let shift = 5 * u32::from(full.saturating_sub(self.chars));
        (self.bits << shift, (self.bits + 1) << shift)
    }

    /// The cell of `chars` characters (fewer than this one's) that holds it.
    pub fn parent(self, chars: u8) -> Cell {
        let chars = chars.min(self.chars);
        Cell { bits: self.bits >> (5 * u32::from(self.chars - chars)), chars }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&to_string(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::haversine::distance_km;
    use crate::sim::rng::Prng;

    #[test]
    fn wikipedia_examples_encode_and_decode() {
        // Wikipedia, "Geohash": "ezs42" is the cell of (42.6, -5.6), centred at about
        // (42.605, -5.603); "u4pruydqqvj" is a point in Jutland, (57.64911, 10.40744).
        let c = encode(LatLon::new(42.6, -5.6), 5);
        assert_eq!(to_string(c), "ezs42");
        let d = decode(parse("ezs42").unwrap());
        assert!((d.lat - 42.605).abs() < 0.001 && (d.lon + 5.603).abs() < 0.001, "{d:?}");
        assert_eq!(to_string(encode(LatLon::new(57.64911, 10.40744), 11)), "u4pruydqqvj");
        assert_eq!(parse("EZS42"), Some(c));
        assert_eq!(parse("ezs4a"), None);
        assert_eq!(to_string(encode(LatLon::new(0.0, 0.0), 6)), "s00000");
    }

    #[test]
    fn across_the_greenwich_meridian_neighbours_share_no_prefix() {
        let west = encode(LatLon::new(51.4779, -0.0001), 5);
        let east = encode(LatLon::new(51.4779, 0.0001), 5);
        assert_eq!((to_string(west).as_str(), to_string(east).as_str()), ("gcpuz", "u10hb"));
        assert!(neighbours(west).contains(&east));
        assert!(distance_km(LatLon::new(51.4779, -0.0001), LatLon::new(51.4779, 0.0001)) < 0.02);
    }

    #[test]
    fn cells_hold_their_points_and_nest_in_their_parents() {
        let mut rng = Prng::new(3);
        for _ in 0..2_000 {
            let p = LatLon::new(rng.unit() * 180.0 - 90.0, rng.unit() * 360.0 - 180.0);
            let full = encode(p, MAX_CHARS);
            for chars in 1..=MAX_CHARS {
                let c = encode(p, chars);
                let b = bounds(c);
                assert!(b.lat_min <= p.lat && p.lat <= b.lat_max && b.lon_min <= p.lon && p.lon <= b.lon_max);
                assert_eq!(full.parent(chars), c);
                let (lo, hi) = c.range(MAX_CHARS);
                assert!(lo <= full.bits && full.bits < hi);
                assert_eq!(parse(&to_string(c)), Some(c));
            }
        }
    }

    /// The brute-force twin: every cell of the same precision whose rectangle touches
    /// `c`'s (shares an edge or a corner, across the antimeridian too).
    fn touching(c: Cell) -> Vec<Cell> {
        let b = bounds(c);
        let total = 1u64 << (5 * u32::from(c.chars));
        let mut out: Vec<Cell> = (0..total)
            .map(|bits| Cell { bits, chars: c.chars })
            .filter(|&o| o != c)
            .filter(|&o| {
                let ob = bounds(o);
                let lat = ob.lat_min <= b.lat_max && b.lat_min <= ob.lat_max;
                let lon =
                    [-360.0, 0.0, 360.0].iter().any(|s| ob.lon_min + s <= b.lon_max && b.lon_min <= ob.lon_max + s);
                lat && lon
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn neighbours_equal_the_cells_that_touch_by_brute_force() {
        for chars in 1..=2u8 {
            for bits in 0..1u64 << (5 * chars) {
                let c = Cell { bits, chars };
                let mut n = neighbours(c);
                n.sort();
                n.dedup();
                assert_eq!(n, touching(c), "{c}");
            }
        }
        let mut rng = Prng::new(5);
        for _ in 0..40 {
            let c = Cell { bits: rng.below(1 << 15), chars: 3 };
            let mut n = neighbours(c);
            n.sort();
            assert_eq!(n, touching(c), "{c}");
        }
    }

    #[test]
    fn covering_lists_exactly_the_cells_that_meet_a_rectangle() {
        let r = Rect { lat_min: 51.40, lat_max: 51.56, lon_min: -0.21, lon_max: 0.07 };
        let cells = covering(&r, 5, 1_000).unwrap();
        let (w, h) = cell_size_deg(5);
        for c in &cells {
            assert!(bounds(*c).intersects(&r));
        }
        // Twin: sample a fine grid of the rectangle; each point's cell is listed.
        for i in 0..=100 {
            for j in 0..=100 {
                let p = LatLon::new(r.lat_min + 0.16 * f64::from(i) / 100.0, r.lon_min + 0.28 * f64::from(j) / 100.0);
                assert!(cells.contains(&encode(p, 5)));
            }
        }
        assert!(cells.len() as f64 <= (0.28 / w + 2.0) * (0.16 / h + 2.0));
        assert!(covering(&r, 8, 100).is_none());
    }
}
