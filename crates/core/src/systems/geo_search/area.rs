//! The map and who owns which part of it. The city is Greater London, chosen because the
//! Greenwich meridian runs through it: at longitude 0 the geohash's very first bit flips,
//! so cells a metre apart there share no prefix (`gcpv…` and `u10h…`) — the boundary a
//! prefix-only search falls off.
//!
//! Sharding is by cell: the map's geohash cells of [`SHARD_CHARS`] characters (about 3 ×
//! 5 km here), taken in geohash (Z-order) order, are cut into contiguous runs of equal
//! length, one per shard. Neighbouring cells mostly land on one shard, so a query usually
//! touches one or two shards instead of all; the price is that a busy district makes its
//! shard hot (the map shades it).

use crate::blocks::geohash::{self, Cell};
use crate::blocks::haversine::{LatLon, Rect};
use crate::sim::rng::Prng;

/// The map: Greater London.
pub const AREA: Rect = Rect { lat_min: 51.28, lat_max: 51.70, lon_min: -0.52, lon_max: 0.30 };

/// Busy districts entities gather around: the City, the West End, Canary Wharf and
/// Stratford (the last two straddle the meridian).
pub const HOTSPOTS: [LatLon; 4] = [
    LatLon::new(51.5136, -0.0890),
    LatLon::new(51.5115, -0.1340),
    LatLon::new(51.5050, -0.0200),
    LatLon::new(51.5410, -0.0030),
];

/// Geohash precision of the sharding cells.
pub const SHARD_CHARS: u8 = 5;
/// Geohash precision of the keys a geohash index stores (60 bits).
pub const KEY_CHARS: u8 = geohash::MAX_CHARS;

/// A point of the map: 70 % within about 2 km of a hotspot, the rest anywhere.
pub fn random_point(rng: &mut Prng) -> LatLon {
    if rng.chance(0.7) {
        let h = HOTSPOTS[rng.below(HOTSPOTS.len() as u64) as usize];
        clamp(LatLon::new(h.lat + (rng.unit() - 0.5) * 0.036, h.lon + (rng.unit() - 0.5) * 0.058))
    } else {
        LatLon::new(
            AREA.lat_min + rng.unit() * (AREA.lat_max - AREA.lat_min),
            AREA.lon_min + rng.unit() * (AREA.lon_max - AREA.lon_min),
        )
    }
}

/// The nearest point of the map.
pub fn clamp(p: LatLon) -> LatLon {
    LatLon::new(p.lat.clamp(AREA.lat_min, AREA.lat_max), p.lon.clamp(AREA.lon_min, AREA.lon_max))
}

/// Which shard owns each sharding cell of the map.
#[derive(Clone, Debug)]
pub struct ShardMap {
    /// The map's cells in geohash order.
    pub cells: Vec<Cell>,
    /// `starts[s]`: index in `cells` of shard `s`'s first cell.
    pub starts: Vec<usize>,
}

impl ShardMap {
    pub fn new(shards: usize) -> ShardMap {
        let mut cells = geohash::covering(&AREA, SHARD_CHARS, 100_000).unwrap_or_default();
        cells.sort();
        let n = shards.max(1);
        let starts = (0..n).map(|s| s * cells.len() / n).collect();
        ShardMap { cells, starts }
    }

    pub fn shards(&self) -> usize {
        self.starts.len()
    }

    /// The shard owning a cell of any precision at least [`SHARD_CHARS`] (cells off the
    /// map go to the shard of the nearest cell in geohash order).
    pub fn owner(&self, c: Cell) -> u16 {
        let key = c.parent(SHARD_CHARS);
        let i = self.cells.partition_point(|x| *x < key);
        (self.starts.partition_point(|&s| s <= i).max(1) - 1) as u16
    }

    /// The shard owning the cell `p` lies in.
    pub fn owner_of(&self, p: LatLon) -> u16 {
        self.owner(geohash::encode(p, SHARD_CHARS))
    }

    /// Every shard owning a sharding cell that meets `r`, in order.
    pub fn owners_meeting(&self, r: &Rect) -> Vec<u16> {
        let Some(r) = clip(r) else { return Vec::new() };
        let mut out: Vec<u16> = match geohash::covering(&r, SHARD_CHARS, 4_096) {
            Some(cells) => cells.into_iter().map(|c| self.owner(c)).collect(),
            None => (0..self.shards() as u16).collect(),
        };
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The shards that own part of `c` (a geohash cell of any precision).
    pub fn owners_of_cell(&self, c: Cell) -> Vec<u16> {
        if c.chars >= SHARD_CHARS {
            return vec![self.owner(c)];
        }
        self.owners_meeting(&geohash::bounds(c))
    }
}

/// The part of `r` on the map, if any.
pub fn clip(r: &Rect) -> Option<Rect> {
    let out = Rect {
        lat_min: r.lat_min.max(AREA.lat_min),
        lat_max: r.lat_max.min(AREA.lat_max),
        lon_min: r.lon_min.max(AREA.lon_min),
        lon_max: r.lon_max.min(AREA.lon_max),
    };
    (out.lat_min <= out.lat_max && out.lon_min <= out.lon_max).then_some(out)
}

/// Map coordinates for drawing, km east and south of the north-west corner
/// (equirectangular at the map's middle latitude: within 0.3 % across London).
pub fn project(p: LatLon) -> (f64, f64) {
    let mid = (AREA.lat_min + AREA.lat_max) / 2.0;
    let kx = 111.32 * libm::cos(mid.to_radians());
    ((p.lon - AREA.lon_min) * kx, (AREA.lat_max - p.lat) * 110.574)
}

/// The map's width and height in drawing km.
pub fn extent() -> (f64, f64) {
    project(LatLon::new(AREA.lat_min, AREA.lon_max))
}
