//! One shard's index of the entities in its cells, in the three shapes the designs use,
//! and the work each operation costs in *steps* (a distance computed, an entry or a node
//! visited, a tree level descended) — the shard turns steps into service time.
//!
//! - `Scan`: a flat array. O(1) to move an entity, O(n) to answer anything.
//! - `Cells`: entities keyed by their 60-bit geohash in a sorted set (what Redis `GEOADD`
//!   does with a sorted set's scores): a cell is a contiguous key range, so reading a cell
//!   costs one seek plus the entities in it, and a move is a delete and an insert,
//!   O(log n) each.
//! - `Quad`: a quadtree ([`crate::blocks::quadtree`]).
//!
//! Updates are last-writer-wins by fix version, with the version of a dropped entity
//! remembered, so a late or repeated batch never moves an entity back in time or brings a
//! departed one back. With `reverse_index` the shard remembers where each entity is
//! indexed, so a move deletes the old entry directly; without it, finding the old entry is
//! a scan of the whole index — the update cost that grows with the fleet.

use super::area::KEY_CHARS;
use super::msg::{Area, Hit, Op};
use crate::blocks::geohash;
use crate::blocks::haversine::{distance_km, LatLon};
use crate::blocks::quadtree::QuadTree;
use std::collections::BTreeSet;

/// Leaves of the quadtree split no deeper than this (a cell of about 1 m here).
pub const MAX_DEPTH: u8 = 16;

#[derive(Clone, Debug)]
enum Shape {
    /// `(id, position)` and each entity's slot in it.
    Scan {
        entries: Vec<(u32, LatLon)>,
        slot: Vec<u32>,
    },
    /// `(geohash key, id)` in order.
    Cells(BTreeSet<(u64, u32)>),
    Quad(QuadTree),
}

/// Which shape to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Scan,
    Cells,
    Quad { capacity: usize },
}

#[derive(Clone, Debug)]
pub struct Index {
    shape: Shape,
    kind: Kind,
    /// Newest fix version seen per entity (0: none), held or dropped.
    pub version: Vec<u64>,
    /// Where each entity is indexed (the reverse index; kept for the view either way).
    pub pos: Vec<Option<LatLon>>,
    pub reverse_index: bool,
    pub len: usize,
}

const NONE: u32 = u32::MAX;

/// Steps of one search in an ordered set of `n` entries: a binary search.
fn seek(n: usize) -> u64 {
    u64::from(usize::BITS - n.leading_zeros()) + 1
}

impl Index {
    pub fn new(kind: Kind, entities: usize, reverse_index: bool) -> Index {
        let shape = match kind {
            Kind::Scan => Shape::Scan { entries: Vec::new(), slot: vec![NONE; entities] },
            Kind::Cells => Shape::Cells(BTreeSet::new()),
            Kind::Quad { capacity } => Shape::Quad(QuadTree::new(super::area::AREA, capacity, MAX_DEPTH)),
        };
        Index { shape, kind, version: vec![0; entities], pos: vec![None; entities], reverse_index, len: 0 }
    }

    /// An empty index of the same kind (after a crash).
    pub fn emptied(&self) -> Index {
        Index::new(self.kind, self.version.len(), self.reverse_index)
    }

    /// Applies one change; returns whether it was newer than what the shard had, and the
    /// steps it cost.
    pub fn apply(&mut self, id: u32, op: Op) -> (bool, u64) {
        let i = id as usize;
        if i >= self.version.len() || op.version() <= self.version[i] {
            return (false, 1);
        }
        self.version[i] = op.version();
        let mut steps = 1;
        if let Some(old) = self.pos[i].take() {
            steps += self.remove(id, old);
            self.len -= 1;
        }
        if let Op::Put(_, p) = op {
            steps += self.insert(id, p.0);
            self.pos[i] = Some(p.0);
            self.len += 1;
        }
        (true, steps)
    }

    fn insert(&mut self, id: u32, p: LatLon) -> u64 {
        let n = self.len;
        match &mut self.shape {
            Shape::Scan { entries, slot } => {
                slot[id as usize] = entries.len() as u32;
                entries.push((id, p));
                1
            }
            Shape::Cells(set) => {
                set.insert((geohash::encode(p, KEY_CHARS).bits, id));
                seek(n)
            }
            Shape::Quad(t) => t.insert(id, p),
        }
    }

    /// Deletes `id`'s entry, indexed at `old`: directly with the reverse index, by a search
    /// of the whole index without it.
    fn remove(&mut self, id: u32, old: LatLon) -> u64 {
        let n = self.len;
        let direct = self.reverse_index;
        match &mut self.shape {
            Shape::Scan { entries, slot } => {
                let (at, steps) = if direct {
                    (slot[id as usize] as usize, 1)
                } else {
                    let at = entries.iter().position(|e| e.0 == id).unwrap_or(0);
                    (at, at as u64 + 1)
                };
                entries.swap_remove(at);
                if let Some(moved) = entries.get(at) {
                    slot[moved.0 as usize] = at as u32;
                }
                slot[id as usize] = NONE;
                steps
            }
            Shape::Cells(set) => {
                if direct {
                    set.remove(&(geohash::encode(old, KEY_CHARS).bits, id));
                    seek(n)
                } else {
                    let found = set.iter().position(|e| e.1 == id);
                    let key = found.and_then(|k| set.iter().nth(k).copied());
                    if let Some(key) = key {
                        set.remove(&key);
                    }
                    found.map_or(n as u64, |k| k as u64 + 1) + seek(n)
                }
            }
            Shape::Quad(t) => {
                if direct {
                    t.remove(id, old).unwrap_or(1)
                } else {
                    t.remove_anywhere(id).1
                }
            }
        }
    }

    /// Hits within `r_km` of `at` in `area`, nearest first (ties by id), at most `limit`;
    /// and the steps it cost.
    pub fn search(&self, at: LatLon, r_km: f64, limit: Option<usize>, area: &Area) -> (Vec<Hit>, u64) {
        let mut steps = 1u64;
        let mut found: Vec<(f64, u32)> = Vec::new();
        match (&self.shape, area) {
            (Shape::Quad(t), _) => {
                let (hits, s) = match limit {
                    Some(k) => t.nearest(at, k, r_km),
                    None => t.within(at, r_km),
                };
                steps += s;
                found = hits;
            }
            (Shape::Cells(set), Area::Cells(cells)) => {
                for c in cells {
                    let (lo, hi) = c.range(KEY_CHARS);
                    steps += seek(self.len);
                    for &(_, id) in set.range((lo, 0)..(hi, 0)) {
                        steps += 1;
                        if let Some(p) = self.pos[id as usize] {
                            let d = distance_km(at, p);
                            if d <= r_km {
                                found.push((d, id));
                            }
                        }
                    }
                }
            }
            (Shape::Cells(set), _) => {
                for &(_, id) in set {
                    steps += 1;
                    if let Some(p) = self.pos[id as usize] {
                        let d = distance_km(at, p);
                        if d <= r_km {
                            found.push((d, id));
                        }
                    }
                }
            }
            (Shape::Scan { entries, .. }, _) => {
                for &(id, p) in entries {
                    steps += 1;
                    let d = distance_km(at, p);
                    if d <= r_km {
                        found.push((d, id));
                    }
                }
            }
        }
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        found.dedup_by_key(|h| h.1);
        if let Some(k) = limit {
            found.truncate(k);
        }
        let hits = found.into_iter().map(|(km, id)| Hit { id, km, version: self.version[id as usize] }).collect();
        (hits, steps)
    }

    /// Quadtree leaves (rectangle, depth, points), if this is a quadtree.
    pub fn leaves(&self) -> Vec<(crate::blocks::haversine::Rect, u8, usize)> {
        match &self.shape {
            Shape::Quad(t) => t.leaves(),
            _ => Vec::new(),
        }
    }
}
