//! A point-region quadtree (Finkel & Bentley 1974; the PR variant of Samet, "The Design
//! and Analysis of Spatial Data Structures", 1990) for moving points on latitude and
//! longitude: a leaf holds up to `capacity` points and splits into four equal quadrants
//! when one more arrives (down to `max_depth`); when a move empties a neighbourhood,
//! siblings that fit in one leaf again merge, so the tree follows the points instead of
//! growing with every place they have been.
//!
//! Queries prune by the exact least distance to a quadrant ([`min_distance_km`]): a
//! radius search visits only quadrants that can hold a hit, and k-nearest is best-first
//! search (Hjaltason & Samet, "Distance browsing in spatial databases", TODS 1999) over
//! one priority queue of quadrants and points keyed by distance — a point leaves the queue
//! only when nothing unexpanded can be closer, so the first k out are the k nearest.
//!
//! Every operation reports its `steps` (nodes visited plus points examined or moved), the
//! cost the geo-search system charges and bounds. A move costs O(depth) when the caller
//! knows where the point was ([`QuadTree::remove`]); without that, finding it is a scan
//! of the whole tree ([`QuadTree::remove_anywhere`]).

use super::haversine::{distance_km, min_distance_km, LatLon, Rect};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A point in the tree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    pub id: u32,
    pub pos: LatLon,
}

#[derive(Clone, Debug)]
struct QNode {
    rect: Rect,
    depth: u8,
    /// SW, SE, NW, NE.
    children: Option<[u32; 4]>,
    points: Vec<Entry>,
}

#[derive(Clone, Debug)]
pub struct QuadTree {
    nodes: Vec<QNode>,
    free: Vec<u32>,
    capacity: usize,
    max_depth: u8,
    len: usize,
}

/// A hit: distance in km and id; ordered by distance, then id.
pub type Hit = (f64, u32);

/// Which quadrant of `r` holds `p` (a point on a split goes north / east).
fn quadrant(r: &Rect, p: LatLon) -> usize {
    let north = p.lat >= (r.lat_min + r.lat_max) / 2.0;
    let east = p.lon >= (r.lon_min + r.lon_max) / 2.0;
    usize::from(north) << 1 | usize::from(east)
}

fn quadrants(r: &Rect) -> [Rect; 4] {
    let (ml, mo) = ((r.lat_min + r.lat_max) / 2.0, (r.lon_min + r.lon_max) / 2.0);
    [
        Rect { lat_min: r.lat_min, lat_max: ml, lon_min: r.lon_min, lon_max: mo },
        Rect { lat_min: r.lat_min, lat_max: ml, lon_min: mo, lon_max: r.lon_max },
        Rect { lat_min: ml, lat_max: r.lat_max, lon_min: r.lon_min, lon_max: mo },
        Rect { lat_min: ml, lat_max: r.lat_max, lon_min: mo, lon_max: r.lon_max },
    ]
}

/// A queue item for best-first search: a quadrant (its lower bound) or a point (its
/// distance). At equal keys quadrants come first, so a point is reported only after every
/// quadrant that could hold an equally near point with a smaller id was opened.
#[derive(Clone, Copy, Debug)]
struct Item {
    dist: f64,
    point: bool,
    id: u32,
}

impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        self.dist.total_cmp(&o.dist).then(self.point.cmp(&o.point)).then(self.id.cmp(&o.id))
    }
}

impl QuadTree {
    /// An empty tree over `area` (points must lie inside it).
    pub fn new(area: Rect, capacity: usize, max_depth: u8) -> QuadTree {
        QuadTree {
            nodes: vec![QNode { rect: area, depth: 0, children: None, points: Vec::new() }],
            free: Vec::new(),
            capacity: capacity.max(1),
            max_depth,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn alloc(&mut self, n: QNode) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = n;
                i
            }
            None => {
                self.nodes.push(n);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Adds a point; returns the steps taken (nodes visited, points moved by a split).
    pub fn insert(&mut self, id: u32, pos: LatLon) -> u64 {
        let mut at = 0usize;
        let mut steps = 1u64;
        while let Some(ch) = self.nodes[at].children {
            at = ch[quadrant(&self.nodes[at].rect, pos)] as usize;
            steps += 1;
        }
        self.nodes[at].points.push(Entry { id, pos });
        self.len += 1;
        // Split while the leaf is over capacity (a split can leave every point in one
        // quadrant, so it may take several).
        while self.nodes[at].points.len() > self.capacity && self.nodes[at].depth < self.max_depth {
            let rect = self.nodes[at].rect;
            let depth = self.nodes[at].depth + 1;
            let points = std::mem::take(&mut self.nodes[at].points);
            let rects = quadrants(&rect);
            let mut kids = [0u32; 4];
            for (k, r) in rects.iter().enumerate() {
                kids[k] = self.alloc(QNode { rect: *r, depth, children: None, points: Vec::new() });
            }
            let mut fullest = 0usize;
            for e in points {
                let q = quadrant(&rect, e.pos);
                self.nodes[kids[q] as usize].points.push(e);
                steps += 1;
            }
            for (k, &kid) in kids.iter().enumerate() {
                if self.nodes[kid as usize].points.len() > self.nodes[kids[fullest] as usize].points.len() {
                    fullest = k;
                }
            }
            self.nodes[at].children = Some(kids);
            steps += 4;
            at = kids[fullest] as usize;
        }
        steps
    }

    /// Removes point `id`, known to be at `pos`; returns the steps, or `None` if it is not
    /// there. Merges the leaf's parent (and upwards) when its quadrants fit in one leaf.
    pub fn remove(&mut self, id: u32, pos: LatLon) -> Option<u64> {
        let mut path = vec![0usize];
        let mut at = 0usize;
        while let Some(ch) = self.nodes[at].children {
            at = ch[quadrant(&self.nodes[at].rect, pos)] as usize;
            path.push(at);
        }
        let mut steps = path.len() as u64;
        let pts = &mut self.nodes[at].points;
        steps += pts.len() as u64;
        let i = pts.iter().position(|e| e.id == id)?;
        pts.swap_remove(i);
        self.len -= 1;
        path.pop();
        steps += self.merge_up(&path);
        Some(steps)
    }

    /// Removes point `id` wherever it is, by visiting every node: what a move costs when
    /// the index does not remember where each point was.
    pub fn remove_anywhere(&mut self, id: u32) -> (bool, u64) {
        let mut steps = 0u64;
        let mut stack = vec![(0usize, vec![0usize])];
        while let Some((at, path)) = stack.pop() {
            steps += 1;
            match self.nodes[at].children {
                Some(ch) => {
                    for c in ch {
                        let mut p = path.clone();
                        p.push(c as usize);
                        stack.push((c as usize, p));
                    }
                }
                None => {
                    steps += self.nodes[at].points.len() as u64;
                    if let Some(i) = self.nodes[at].points.iter().position(|e| e.id == id) {
                        self.nodes[at].points.swap_remove(i);
                        self.len -= 1;
                        let mut up = path;
                        up.pop();
                        return (true, steps + self.merge_up(&up));
                    }
                }
            }
        }
        (false, steps)
    }

    /// Collapses each node on `path` (deepest first) whose children are leaves holding at
    /// most `capacity` points together.
    fn merge_up(&mut self, path: &[usize]) -> u64 {
        let mut steps = 0;
        for &n in path.iter().rev() {
            let Some(ch) = self.nodes[n].children else { continue };
            let leaves = ch.iter().all(|&c| self.nodes[c as usize].children.is_none());
            let total: usize = ch.iter().map(|&c| self.nodes[c as usize].points.len()).sum();
            if !leaves || total > self.capacity {
                break;
            }
            let mut pts = Vec::with_capacity(total);
            for c in ch {
                pts.append(&mut self.nodes[c as usize].points);
                self.free.push(c);
            }
            steps += 4 + total as u64;
            self.nodes[n].points = pts;
            self.nodes[n].children = None;
        }
        steps
    }

    /// Every point within `r_km` of `c`, nearest first (ties by id), and the steps taken.
    pub fn within(&self, c: LatLon, r_km: f64) -> (Vec<Hit>, u64) {
        let mut out = Vec::new();
        let mut steps = 0u64;
        let mut stack = vec![0usize];
        while let Some(at) = stack.pop() {
            steps += 1;
            let n = &self.nodes[at];
            if min_distance_km(c, &n.rect) > r_km {
                continue;
            }
            match n.children {
                Some(ch) => stack.extend(ch.iter().map(|&i| i as usize)),
                None => {
                    for e in &n.points {
                        steps += 1;
                        let d = distance_km(c, e.pos);
                        if d <= r_km {
                            out.push((d, e.id));
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        (out, steps)
    }

    /// The `k` points nearest to `c` within `max_km`, nearest first (ties by id), by
    /// best-first search; and the steps taken.
    pub fn nearest(&self, c: LatLon, k: usize, max_km: f64) -> (Vec<Hit>, u64) {
        let mut out = Vec::new();
        let mut steps = 0u64;
        let mut heap = BinaryHeap::new();
        heap.push(Reverse(Item { dist: min_distance_km(c, &self.nodes[0].rect), point: false, id: 0 }));
        while let Some(Reverse(it)) = heap.pop() {
            if out.len() >= k || it.dist > max_km {
                break;
            }
            if it.point {
                out.push((it.dist, it.id));
                continue;
            }
            steps += 1;
            let n = &self.nodes[it.id as usize];
            match n.children {
                Some(ch) => {
                    for i in ch {
                        let d = min_distance_km(c, &self.nodes[i as usize].rect);
                        if d <= max_km {
                            heap.push(Reverse(Item { dist: d, point: false, id: i }));
                        }
                    }
                }
                None => {
                    for e in &n.points {
                        steps += 1;
                        let d = distance_km(c, e.pos);
                        if d <= max_km {
                            heap.push(Reverse(Item { dist: d, point: true, id: e.id }));
                        }
                    }
                }
            }
        }
        (out, steps)
    }

    /// Leaves: their rectangle, depth and number of points (for drawing).
    pub fn leaves(&self) -> Vec<(Rect, u8, usize)> {
        let mut out = Vec::new();
        let mut stack = vec![0usize];
        while let Some(at) = stack.pop() {
            let n = &self.nodes[at];
            match n.children {
                Some(ch) => stack.extend(ch.iter().rev().map(|&i| i as usize)),
                None => out.push((n.rect, n.depth, n.points.len())),
            }
        }
        out
    }

    /// Nodes in use (leaves and inner nodes).
    pub fn node_count(&self) -> usize {
        self.nodes.len() - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    const AREA: Rect = Rect { lat_min: 51.28, lat_max: 51.70, lon_min: -0.52, lon_max: 0.30 };

    fn point(rng: &mut Prng) -> LatLon {
        // Clustered: half the points around one spot, so the tree gets deep somewhere.
        if rng.chance(0.5) {
            LatLon::new(51.50 + (rng.unit() - 0.5) * 0.01, -0.12 + (rng.unit() - 0.5) * 0.01)
        } else {
            LatLon::new(AREA.lat_min + rng.unit() * 0.42, AREA.lon_min + rng.unit() * 0.82)
        }
    }

    /// The twin: every point in a Vec, searched by a full scan.
    fn scan(all: &[Option<LatLon>], c: LatLon, k: usize, r: f64) -> Vec<Hit> {
        let mut v: Vec<Hit> = all
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|p| (distance_km(c, p), i as u32)))
            .filter(|h| h.0 <= r)
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        v.truncate(k);
        v
    }

    #[test]
    fn moving_points_and_queries_agree_with_a_full_scan() {
        let mut rng = Prng::new(21);
        let mut t = QuadTree::new(AREA, 8, 18);
        let mut all: Vec<Option<LatLon>> = vec![None; 600];
        for step in 0..6_000 {
            let id = rng.below(600) as u32;
            match all[id as usize] {
                Some(old) if rng.chance(0.2) => {
                    assert!(t.remove(id, old).is_some());
                    all[id as usize] = None;
                }
                Some(old) => {
                    let by_scan = step % 7 == 0;
                    if by_scan {
                        assert!(t.remove_anywhere(id).0);
                    } else {
                        t.remove(id, old).unwrap();
                    }
                    let p = point(&mut rng);
                    t.insert(id, p);
                    all[id as usize] = Some(p);
                }
                None => {
                    let p = point(&mut rng);
                    t.insert(id, p);
                    all[id as usize] = Some(p);
                }
            }
            assert_eq!(t.len(), all.iter().flatten().count());
            if step % 50 == 0 {
                let c = point(&mut rng);
                let r = rng.unit() * 3.0;
                assert_eq!(t.within(c, r).0, scan(&all, c, usize::MAX, r), "within at step {step}");
                let k = 1 + rng.below(20) as usize;
                assert_eq!(t.nearest(c, k, 50.0).0, scan(&all, c, k, 50.0), "nearest at step {step}");
                assert_eq!(t.nearest(c, k, r).0, scan(&all, c, k, r), "bounded nearest at step {step}");
            }
        }
        // Leaves partition the points, each inside its rectangle.
        let held: usize = t.leaves().iter().map(|l| l.2).sum();
        assert_eq!(held, t.len());
    }

    #[test]
    fn removing_everything_merges_back_to_one_leaf() {
        let mut rng = Prng::new(2);
        let mut t = QuadTree::new(AREA, 4, 16);
        let pts: Vec<LatLon> = (0..300).map(|_| point(&mut rng)).collect();
        for (i, p) in pts.iter().enumerate() {
            t.insert(i as u32, *p);
        }
        assert!(t.node_count() > 20);
        for (i, p) in pts.iter().enumerate() {
            t.remove(i as u32, *p).unwrap();
        }
        assert_eq!((t.node_count(), t.len()), (1, 0));
        assert_eq!(t.remove(3, pts[3]), None);
    }

    #[test]
    fn a_move_costs_the_depth_but_a_search_for_the_old_entry_costs_the_tree() {
        let mut rng = Prng::new(9);
        let mut t = QuadTree::new(AREA, 8, 16);
        let pts: Vec<LatLon> = (0..4_000).map(|_| point(&mut rng)).collect();
        for (i, p) in pts.iter().enumerate() {
            t.insert(i as u32, *p);
        }
        let known = t.remove(7, pts[7]).unwrap() + t.insert(7, pts[7]);
        assert!(known < 64, "{known}");
        let mut blind = 0;
        for id in 0..100u32 {
            let (found, steps) = t.remove_anywhere(id);
            assert!(found);
            blind += steps;
        }
        assert!(blind / 100 > 1_000, "{}", blind / 100);
    }
}
