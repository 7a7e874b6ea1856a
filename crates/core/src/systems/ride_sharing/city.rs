//! The city: a 12 × 12 km square of central London laid out as a street grid (a street
//! every [`BLOCK_M`] metres each way), with three busy districts riders and drivers
//! gather in. Positions are metres east and north of the south-west corner — the frame
//! the location filter works in — and become latitude/longitude for everything geographic:
//! haversine pickup distances, geohash surge cells, the drivers' quadtree.
//!
//! Matching is sharded by surge cell: each geohash cell of [`CELL_CHARS`] characters
//! (about 3 × 5 km here) belongs to the matcher whose vertical band holds its centre. The
//! busiest district straddles the first band edge, so two matchers routinely want the
//! same drivers — the race a reservation has to settle.

use crate::blocks::geohash::{self, Cell};
use crate::blocks::haversine::{distance_km, LatLon, Rect};
use crate::sim::rng::Prng;
use std::hash::{Hash, Hasher};

/// South-west corner of the map.
pub const ORIGIN: LatLon = LatLon::new(51.45, -0.20);
/// Side of the square city, metres.
pub const SIZE_M: f64 = 12_000.0;
/// Street spacing, metres.
pub const BLOCK_M: f64 = 400.0;
/// Geohash precision of the surge cells.
pub const CELL_CHARS: u8 = 5;
/// Metres per degree of latitude (WGS-84 mean near London).
const M_PER_DEG_LAT: f64 = 110_574.0;
/// Busy districts (metres east, north): one on the middle band edge, two off it.
pub const HOTSPOTS: [Xy; 3] = [Xy::new(6_100.0, 6_500.0), Xy::new(3_200.0, 3_600.0), Xy::new(8_900.0, 8_800.0)];

/// A point in metres east and north of [`ORIGIN`].
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Xy {
    pub x: f64,
    pub y: f64,
}

impl Hash for Xy {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.x.to_bits().hash(h);
        self.y.to_bits().hash(h);
    }
}

impl Xy {
    pub const fn new(x: f64, y: f64) -> Xy {
        Xy { x, y }
    }

    /// Straight-line distance on the plane, metres (for movement and filters only).
    pub fn flat(self, o: Xy) -> f64 {
        libm::hypot(self.x - o.x, self.y - o.y)
    }
}

fn m_per_deg_lon() -> f64 {
    111_320.0 * libm::cos(ORIGIN.lat.to_radians())
}

pub fn to_latlon(p: Xy) -> LatLon {
    LatLon::new(ORIGIN.lat + p.y / M_PER_DEG_LAT, ORIGIN.lon + p.x / m_per_deg_lon())
}

pub fn from_latlon(p: LatLon) -> Xy {
    Xy::new((p.lon - ORIGIN.lon) * m_per_deg_lon(), (p.lat - ORIGIN.lat) * M_PER_DEG_LAT)
}

/// The map as a latitude/longitude rectangle (with a margin for noisy fixes).
pub fn area(margin_m: f64) -> Rect {
    let a = to_latlon(Xy::new(-margin_m, -margin_m));
    let b = to_latlon(Xy::new(SIZE_M + margin_m, SIZE_M + margin_m));
    Rect { lat_min: a.lat, lat_max: b.lat, lon_min: a.lon, lon_max: b.lon }
}

/// Great-circle distance, metres: the pickup distance every judgement uses.
pub fn dist_m(a: Xy, b: Xy) -> f64 {
    distance_km(to_latlon(a), to_latlon(b)) * 1_000.0
}

pub fn clamp(p: Xy) -> Xy {
    Xy::new(p.x.clamp(0.0, SIZE_M), p.y.clamp(0.0, SIZE_M))
}

/// The surge cell a point lies in.
pub fn cell_of(p: Xy) -> Cell {
    geohash::encode(to_latlon(clamp(p)), CELL_CHARS)
}

/// The matcher (of `shards`) that owns a cell: the vertical band holding its centre.
pub fn owner(c: Cell, shards: u32) -> u32 {
    let centre = from_latlon(geohash::decode(c));
    let band = SIZE_M / f64::from(shards.max(1));
    ((centre.x / band).floor().max(0.0) as u32).min(shards.max(1) - 1)
}

/// The nearest street corner.
pub fn corner(p: Xy) -> Xy {
    let p = clamp(p);
    Xy::new((p.x / BLOCK_M).round() * BLOCK_M, (p.y / BLOCK_M).round() * BLOCK_M)
}

/// A random place: 60 % within about 1.5 km of a busy district, the rest anywhere.
pub fn random_point(rng: &mut Prng) -> Xy {
    if rng.chance(0.6) {
        let h = HOTSPOTS[rng.below(HOTSPOTS.len() as u64) as usize];
        clamp(Xy::new(h.x + (rng.unit() - 0.5) * 3_000.0, h.y + (rng.unit() - 0.5) * 3_000.0))
    } else {
        Xy::new(rng.unit() * SIZE_M, rng.unit() * SIZE_M)
    }
}

/// A standard normal draw (Box–Muller, `libm` for the same numbers everywhere).
pub fn normal(rng: &mut Prng) -> f64 {
    let u1 = 1.0 - rng.unit();
    let u2 = rng.unit();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}
