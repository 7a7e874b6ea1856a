//! Query execution and its plan. The label index turns matchers into series (posting
//! lists intersected); each table is then skipped (its time range misses the query, or it
//! holds none of the series), answered from its rollups (a level-2 block, a step that is a
//! multiple of its buckets, and no other source holding points in its range: rollups cannot
//! be de-duplicated against another copy), or decoded chunk by chunk. Decoded points from
//! every source, memtables included, are merged per series keeping the newest source's
//! value for a timestamp, then folded into the step windows.

use super::msg::{Acc, Answer, Label, Query, QueryKind, SeriesId};
use super::table::{decode, Table};
use std::collections::BTreeMap;

/// The inverted label index: (label, value) → sorted series ids.
#[derive(Clone, Debug, Default)]
pub struct LabelIndex {
    pub postings: BTreeMap<(Label, u32), Vec<SeriesId>>,
    pub all: Vec<SeriesId>,
}

impl LabelIndex {
    pub fn add(&mut self, id: SeriesId) {
        if let Err(i) = self.all.binary_search(&id) {
            self.all.insert(i, id);
            for l in super::msg::labels(id) {
                let p = self.postings.entry(l).or_default();
                if let Err(j) = p.binary_search(&id) {
                    p.insert(j, id);
                }
            }
        }
    }

    /// Series carrying every matcher (all series for none).
    pub fn select(&self, matchers: &[(Label, u32)]) -> Vec<SeriesId> {
        let mut out = self.all.clone();
        for m in matchers {
            let p = self.postings.get(m).map(Vec::as_slice).unwrap_or(&[]);
            out.retain(|s| p.binary_search(s).is_ok());
        }
        out
    }
}

/// What a query did with one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Use {
    SkippedTime,
    SkippedSeries,
    Rollup(u64),
    Decoded(u64),
}

#[derive(Clone, Debug, Default)]
pub struct QueryPlan {
    pub query: String,
    pub series: usize,
    /// (table id, level, what happened).
    pub tables: Vec<(u64, u8, Use)>,
    pub memtable_points: u64,
}

/// In-memory points (the memtable being written and the one being flushed), newest last.
pub type Mem<'a> = [&'a BTreeMap<(SeriesId, i64), u64>];

pub fn execute(q: &Query, index: &LabelIndex, tables: &[Table], mems: &Mem<'_>) -> (Answer, QueryPlan) {
    let series = index.select(&q.matchers);
    let mut plan = QueryPlan { query: q.describe(), series: series.len(), ..QueryPlan::default() };
    let step = match q.kind {
        QueryKind::Agg { step, .. } => step,
        QueryKind::Raw => 0,
    };
    let mem_range = mems
        .iter()
        .flat_map(|m| m.keys())
        .fold(None, |r: Option<(i64, i64)>, &(_, ts)| Some(r.map_or((ts, ts), |(lo, hi)| (lo.min(ts), hi.max(ts)))));
    let mem_overlaps = |from: i64, to: i64| mem_range.is_some_and(|(lo, hi)| hi >= from && lo <= to);
    // Which tables answer from rollups.
    let mut rollup: Vec<bool> = vec![false; tables.len()];
    for (i, t) in tables.iter().enumerate() {
        rollup[i] = step > 0
            && t.rollup_ms > 0
            && step % t.rollup_ms == 0
            && q.from % t.rollup_ms == 0
            && !tables.iter().any(|o| o.id != t.id && o.max_ts >= t.min_ts && o.min_ts <= t.max_ts)
            && !mem_overlaps(t.min_ts, t.max_ts);
    }
    let windows = if step > 0 { ((q.to - q.from) / step).max(0) as usize } else { 0 };
    let mut accs = vec![Acc::default(); windows];
    let mut raw: Vec<(SeriesId, Vec<(i64, u64)>)> = Vec::new();
    let mut used: Vec<Use> =
        tables.iter().map(|t| if t.overlaps(q.from, q.to) { Use::SkippedSeries } else { Use::SkippedTime }).collect();
    for &s in &series {
        // (ts, source order, bits): tables by id, then memtables.
        let mut pts: Vec<(i64, u64, u64)> = Vec::new();
        for (i, t) in tables.iter().enumerate() {
            if used[i] == Use::SkippedTime {
                continue;
            }
            if rollup[i] {
                let mut n = 0;
                for r in t.rollups.iter().filter(|r| r.series == s && r.start >= q.from && r.start < q.to) {
                    accs[((r.start - q.from) / step) as usize].merge(&r.acc);
                    n += 1;
                }
                if n > 0 {
                    let before = if let Use::Rollup(p) = used[i] { p } else { 0 };
                    used[i] = Use::Rollup(before + n);
                }
                continue;
            }
            let Some(c) = t.chunk(s) else { continue };
            if c.max_ts < q.from || c.min_ts >= q.to {
                continue;
            }
            let n = match used[i] {
                Use::Decoded(n) => n,
                _ => 0,
            };
            used[i] = Use::Decoded(n + 1);
            pts.extend(
                decode(c, t.encoding).into_iter().filter(|p| p.0 >= q.from && p.0 < q.to).map(|(ts, b)| (ts, t.id, b)),
            );
        }
        for (k, m) in mems.iter().enumerate() {
            for (&(_, ts), &b) in m.range((s, q.from)..(s, q.to)) {
                pts.push((ts, u64::MAX - (mems.len() - k) as u64, b));
                plan.memtable_points += 1;
            }
        }
        let kept = super::lsm::dedup(pts.into_iter().map(|(ts, src, b)| (s, ts, src, b)).collect());
        match q.kind {
            QueryKind::Raw => {
                if !kept.is_empty() {
                    raw.push((s, kept.into_iter().map(|p| (p.1, p.2)).collect()));
                }
            }
            QueryKind::Agg { .. } => {
                for (_, ts, b) in kept {
                    accs[((ts - q.from) / step) as usize].add(f64::from_bits(b));
                }
            }
        }
    }
    plan.tables = tables.iter().zip(used).map(|(t, u)| (t.id, t.level, u)).collect();
    let answer = match q.kind {
        QueryKind::Raw => Answer::Raw(raw),
        QueryKind::Agg { agg, .. } => {
            Answer::Agg(accs.iter().enumerate().map(|(i, a)| (q.from + i as i64 * step, a.value(agg))).collect())
        }
    };
    (answer, plan)
}
