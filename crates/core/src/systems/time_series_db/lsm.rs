//! The LSM shape of the store: which tables a compaction merges, and the merge.
//!
//! Level 0 holds flushed memtables: any time range, possibly overlapping (a retried or
//! late write lands in a later memtable). When `fanout` of them pile up, they merge with
//! the level-1 tables they overlap into level-1 tables cut on `block_ms` boundaries (one
//! per window, never overlapping one another). When a window of `fanout` level-1 blocks
//! is closed (the newest data is a block past its end), its blocks merge into one level-2
//! block, which also gets rollups. A merge keeps one value per (series, timestamp): the
//! newest table's.
//!
//! A compaction's output becomes visible only when its write is complete, and its inputs
//! are removed in the same step (the new files are renamed into place, then the old ones
//! unlinked): a crash mid-compaction leaves the inputs, never a half.

use super::msg::SeriesId;
use super::table::{Encoding, Table};

/// What a compaction will merge and at which level it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub inputs: Vec<u64>,
    pub level: u8,
}

/// The next compaction worth doing, level 0 first; `head` is the newest timestamp held.
pub fn pick(tables: &[Table], fanout: usize, block_ms: i64, head: i64) -> Option<Plan> {
    let l0: Vec<&Table> = tables.iter().filter(|t| t.level == 0).collect();
    if l0.len() >= fanout {
        let from = l0.iter().map(|t| t.min_ts).min()?;
        let to = l0.iter().map(|t| t.max_ts).max()?;
        let mut inputs: Vec<u64> = l0.iter().map(|t| t.id).collect();
        inputs.extend(tables.iter().filter(|t| t.level == 1 && t.max_ts >= from && t.min_ts <= to).map(|t| t.id));
        inputs.sort_unstable();
        return Some(Plan { inputs, level: 1 });
    }
    let wide = block_ms * fanout as i64;
    // Level-1 blocks grouped by their level-2 window, oldest window first.
    let mut windows: Vec<i64> = tables.iter().filter(|t| t.level == 1).map(|t| t.min_ts.div_euclid(wide)).collect();
    windows.sort_unstable();
    windows.dedup();
    // The oldest window only: it closes first.
    let w = *windows.first()?;
    if (w + 1) * wide + block_ms > head {
        return None;
    }
    let (lo, hi) = (w * wide, (w + 1) * wide);
    let mut inputs: Vec<u64> =
        tables.iter().filter(|t| t.level >= 1 && t.max_ts >= lo && t.min_ts < hi).map(|t| t.id).collect();
    inputs.sort_unstable();
    Some(Plan { inputs, level: 2 })
}

/// Merges `inputs` (in id order: later ids are newer) into tables at `plan.level`, ids
/// from `next_id`. Level 1 cuts on `block_ms` windows; level 2 writes one block with
/// rollups of `block_ms` buckets.
pub fn merge(inputs: &[&Table], level: u8, encoding: Encoding, block_ms: i64, next_id: &mut u64) -> Vec<Table> {
    let mut points: Vec<(SeriesId, i64, u64, u64)> = Vec::new();
    for t in inputs {
        points.extend(t.all_points().into_iter().map(|(s, ts, b)| (s, ts, t.id, b)));
    }
    let mut kept = dedup(points);
    let mut out = Vec::new();
    if level == 1 {
        kept.sort_by_key(|p| (p.1.div_euclid(block_ms), p.0, p.1));
        let mut i = 0;
        while i < kept.len() {
            let w = kept[i].1.div_euclid(block_ms);
            let mut j = i;
            while j < kept.len() && kept[j].1.div_euclid(block_ms) == w {
                j += 1;
            }
            out.push(Table::build(*next_id, 1, encoding, &kept[i..j], 0));
            *next_id += 1;
            i = j;
        }
    } else if !kept.is_empty() {
        out.push(Table::build(*next_id, level, encoding, &kept, block_ms));
        *next_id += 1;
    }
    out
}

/// Sorts by (series, ts) and keeps, per (series, ts), the value from the newest source
/// (the highest `.2`).
pub fn dedup(mut points: Vec<(SeriesId, i64, u64, u64)>) -> Vec<(SeriesId, i64, u64)> {
    points.sort_unstable_by_key(|p| (p.0, p.1, p.2));
    let mut out: Vec<(SeriesId, i64, u64)> = Vec::with_capacity(points.len());
    for p in points {
        match out.last_mut() {
            Some(last) if last.0 == p.0 && last.1 == p.1 => last.2 = p.3,
            _ => out.push((p.0, p.1, p.3)),
        }
    }
    out
}
