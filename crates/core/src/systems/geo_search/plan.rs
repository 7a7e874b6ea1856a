//! Where a search looks: the router's half of each design. Given the query point and the
//! radius of this round, which shards to ask and what area each should read.
//!
//! - linear scan: every shard, everything it holds.
//! - geohash, own cell only (naive): the one cell of the finest precision whose cell is at
//!   least as large as the search box. Correct when the circle happens to sit inside the
//!   cell; a circle near an edge spills into a neighbour that nobody reads.
//! - geohash with neighbours: that cell and its eight neighbours. Choosing the precision
//!   in degrees from the search box (not from a radius in metres at the equator) makes the
//!   3 × 3 block hold the whole box wherever in the centre cell the point lies: the box
//!   reaches at most one cell width beyond the point each way. [`plan`] still verifies the
//!   cover and widens if it fails, as Redis's `GEOSEARCH` learned to do.
//! - quadtree: every shard whose sharding cells meet the search box; each prunes its own
//!   tree by distance.

use super::area::{ShardMap, KEY_CHARS};
use super::msg::Area;
use crate::blocks::geohash::{self, Cell};
use crate::blocks::haversine::{cap_bbox, LatLon, Rect};

/// The four designs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    LinearScan,
    CellOnly,
    Neighbours,
    QuadTree,
}

impl Design {
    pub fn from_id(id: &str) -> Option<Design> {
        Some(match id {
            "linear-scan" => Design::LinearScan,
            "geohash-cell-only" => Design::CellOnly,
            "geohash-neighbours" => Design::Neighbours,
            "quadtree" => Design::QuadTree,
            _ => return None,
        })
    }

    /// Whether k-nearest searches widen in rounds (the geohash designs read fixed cells,
    /// so they search a radius and grow it until k hits are inside it).
    pub fn widens(self) -> bool {
        matches!(self, Design::CellOnly | Design::Neighbours)
    }
}

/// The finest geohash precision whose cells are at least as wide and as tall (in degrees)
/// as the half-extents of `bbox` around `at`.
pub fn precision_for(at: LatLon, bbox: &Rect) -> u8 {
    let half_lon = (at.lon - bbox.lon_min).max(bbox.lon_max - at.lon);
    let half_lat = (at.lat - bbox.lat_min).max(bbox.lat_max - at.lat);
    (1..=KEY_CHARS)
        .rev()
        .find(|&c| {
            let (w, h) = geohash::cell_size_deg(c);
            w >= half_lon && h >= half_lat
        })
        .unwrap_or(1)
}

/// The union of the rectangles of a 3 × 3 block, as one rectangle (cells of one precision
/// tile the plane, so the block is a rectangle unless it wraps the antimeridian).
fn block(c: Cell) -> Rect {
    let b = geohash::bounds(c);
    let (w, h) = geohash::cell_size_deg(c.chars);
    Rect { lat_min: b.lat_min - h, lat_max: b.lat_max + h, lon_min: b.lon_min - w, lon_max: b.lon_max + w }
}

/// The geohash cells a design reads for a circle of `r_km` around `at`.
pub fn cells(design: Design, at: LatLon, r_km: f64) -> Vec<Cell> {
    let bbox = cap_bbox(at, r_km);
    let mut chars = precision_for(at, &bbox);
    let mut centre = geohash::encode(at, chars);
    if design == Design::Neighbours {
        while chars > 1 && !block(centre).covers(&bbox) {
            chars -= 1;
            centre = geohash::encode(at, chars);
        }
        let mut out = vec![centre];
        out.extend(geohash::neighbours(centre));
        return out;
    }
    vec![centre]
}

/// The shards to ask and the area each reads, for one round of radius `r_km`.
pub fn plan(design: Design, map: &ShardMap, at: LatLon, r_km: f64) -> Vec<(u16, Area)> {
    match design {
        Design::LinearScan => (0..map.shards() as u16).map(|s| (s, Area::All)).collect(),
        Design::QuadTree => map.owners_meeting(&cap_bbox(at, r_km)).into_iter().map(|s| (s, Area::Tree)).collect(),
        Design::CellOnly | Design::Neighbours => {
            let cells = cells(design, at, r_km);
            let mut shards: Vec<u16> = cells.iter().flat_map(|&c| map.owners_of_cell(c)).collect();
            shards.sort_unstable();
            shards.dedup();
            shards.into_iter().map(|s| (s, Area::Cells(cells.clone()))).collect()
        }
    }
}

/// The radii of a widening k-nearest search up to `max_km`: an eighth of it, doubling.
pub fn rounds(max_km: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut r = max_km / 8.0;
    while r < max_km {
        out.push(r);
        r *= 2.0;
    }
    out.push(max_km);
    out
}
