//! What the page draws: the city map — the sharding cells shaded by how many drivers
//! each holds (labelled with its geohash and shard), a sample of drivers, the last
//! answered query's circle, its hits, and the drivers a brute-force scan puts inside the
//! circle that the answer left out ("missed": the naive design's failure, in red on the
//! map); for the quadtree, one shard's leaves; and a table of the shards.

use super::area::{self, ShardMap, SHARD_CHARS};
use super::msg::Ask;
use super::node::Node;
use crate::blocks::geohash;
use crate::blocks::haversine::{distance_km, LatLon, Rect};
use crate::sim::world::World;
use crate::view::{MapCell, MapCircle, MapPoint, MapView, Table, View};
use std::collections::BTreeMap;

/// Drivers drawn at most (every n-th by id).
const MAX_POINTS: usize = 500;
/// Quadtree leaves drawn at most.
const MAX_LEAVES: usize = 400;

fn cell_of(r: &Rect, label: String, weight: f64) -> MapCell {
    let (x0, y0) = area::project(LatLon::new(r.lat_max, r.lon_min));
    let (x1, y1) = area::project(LatLon::new(r.lat_min, r.lon_max));
    MapCell { x: x0, y: y0, w: x1 - x0, h: y1 - y0, label, weight }
}

fn point(p: LatLon, label: String, kind: &str) -> MapPoint {
    let (x, y) = area::project(p);
    MapPoint { x, y, label, kind: kind.into() }
}

pub fn views(world: &World<Node>) -> Vec<View> {
    let mut drivers: Vec<(u32, LatLon)> = Vec::new();
    let mut shards = Vec::new();
    let mut router = None;
    for n in world.nodes() {
        match n {
            Node::Fleet(f) => drivers.extend(f.drivers.iter().map(|d| (d.id, d.at))),
            Node::Shard(s) => shards.push(s),
            Node::Router(r) => router = Some(r),
            Node::Client(_) => {}
        }
    }
    drivers.sort_by_key(|d| d.0);
    let map = ShardMap::new(shards.len());
    let mut per_cell: BTreeMap<geohash::Cell, usize> = BTreeMap::new();
    for &(_, p) in &drivers {
        *per_cell.entry(geohash::encode(p, SHARD_CHARS)).or_default() += 1;
    }
    let busiest = per_cell.values().copied().max().unwrap_or(1).max(1) as f64;
    let mut cells: Vec<MapCell> = map
        .cells
        .iter()
        .filter_map(|&c| {
            let r = area::clip(&geohash::bounds(c))?;
            let n = per_cell.get(&c).copied().unwrap_or(0);
            Some(cell_of(&r, format!("{c} · shard-{} · {n} drivers", map.owner(c)), 0.7 * n as f64 / busiest))
        })
        .collect();
    let (w, h) = area::extent();
    let every = drivers.len().div_ceil(MAX_POINTS).max(1);
    let mut points: Vec<MapPoint> =
        drivers.iter().step_by(every).map(|&(id, p)| point(p, format!("driver {id}"), "driver")).collect();
    let mut circles = Vec::new();
    if let Some(last) = router.and_then(|r| r.last.as_ref()) {
        let at = last.query.at.0;
        let (x, y) = area::project(at);
        let what = match last.query.ask {
            Ask::Radius { radius_m } => format!("within {radius_m} m"),
            Ask::Nearest { k, .. } => format!("{k} nearest (searched {:.2} km)", last.radius_km),
        };
        circles.push(MapCircle { x, y, r: last.radius_km, label: format!("last query: {what}") });
        for c in &last.searched {
            if let Some(r) = area::clip(&geohash::bounds(*c)) {
                cells.push(cell_of(&r, format!("searched {c}"), 1.0));
            }
        }
        points.push(point(at, "rider".into(), "rider"));
        let hit: Vec<u32> = last.hits.iter().map(|h| h.id).collect();
        // Brute force over the phones' positions now; for a radius query, whoever lies in
        // the circle and is not in the answer was missed (or moved since).
        let reach = last.radius_km;
        let furthest = last.hits.last().map_or(reach, |h| h.km);
        let limit = match last.query.ask {
            Ask::Radius { .. } => reach,
            Ask::Nearest { .. } => furthest.min(reach),
        };
        for &(id, p) in &drivers {
            let d = distance_km(at, p);
            if hit.contains(&id) {
                points.push(point(p, format!("driver {id}: {d:.3} km"), "result"));
            } else if d < limit {
                points.push(point(p, format!("driver {id}: {d:.3} km, not in the answer"), "missed"));
            }
        }
    }
    let city = MapView {
        title: "London: drivers, sharding cells and the last query".into(),
        width: w,
        height: h,
        cells,
        points,
        circles,
    };
    let mut out = vec![View::Map(city)];
    if let Some(s) = shards.iter().max_by_key(|s| s.index.len) {
        let leaves = s.index.leaves();
        if !leaves.is_empty() {
            let cells = leaves
                .iter()
                .take(MAX_LEAVES)
                .filter_map(|(r, depth, n)| {
                    let r = area::clip(r)?;
                    Some(cell_of(&r, format!("depth {depth} · {n} drivers"), *n as f64 / 64.0))
                })
                .collect();
            out.push(View::Map(MapView {
                title: format!("Quadtree leaves of shard-{} (the busiest)", s.idx),
                width: w,
                height: h,
                cells,
                points: Vec::new(),
                circles: Vec::new(),
            }));
        }
    }
    let rows = shards
        .iter()
        .map(|s| {
            let per = |a: u64, b: u64| if b == 0 { "–".to_string() } else { format!("{:.1}", a as f64 / b as f64) };
            let first = map.starts[s.idx as usize];
            let last = map.starts.get(s.idx as usize + 1).copied().unwrap_or(map.cells.len());
            let span = match (map.cells.get(first), map.cells.get(last.saturating_sub(1))) {
                (Some(a), Some(b)) if last > first => format!("{a}…{b}"),
                _ => "–".into(),
            };
            vec![
                format!("shard-{}", s.idx),
                span,
                s.index.len.to_string(),
                s.searches.to_string(),
                per(s.search_steps, s.searches),
                s.updates.to_string(),
                per(s.update_steps, s.updates),
                s.busy.to_string(),
            ]
        })
        .collect();
    out.push(View::Table(Table {
        title: "Shards".into(),
        columns: ["shard", "cells", "drivers", "searches", "steps / search", "updates", "steps / update", "busy"]
            .iter()
            .map(|c| c.to_string())
            .collect(),
        rows,
    }));
    out
}
