//! An immutable table (an SSTable, or a time-partitioned block): one chunk per series,
//! sorted by series, each chunk the series' points in time order, encoded either as
//! Gorilla bits ([`crate::blocks::gorilla`]) or as rows (8-byte timestamp, 8-byte value
//! and the series' name repeated on every point, the way a naive row store keeps them).
//! The bytes a table reports are the real encoded bytes plus fixed headers, so the
//! bytes-per-point figure is measured, not assumed.
//!
//! Top-level (L2) tables also carry *rollups*: per series and per `rollup_ms` bucket the
//! count, sum, min and max. A query whose step is a multiple of the bucket can answer
//! from them without decoding a point (downsampling that loses nothing the aggregate
//! needs).

use super::msg::{series_name, Acc, SeriesId};
use crate::blocks::gorilla;

/// How points are laid out on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gorilla,
    Rows,
}

/// Chunk header: series id (4), min and max timestamp (16), count (4).
pub const CHUNK_HEADER: u64 = 24;
/// Table header: id, level, time range, counts.
pub const TABLE_HEADER: u64 = 48;
/// A rollup row: series, bucket, count, sum, min, max.
pub const ROLLUP_ROW: u64 = 44;

#[derive(Clone, Debug)]
pub struct Chunk {
    pub series: SeriesId,
    pub min_ts: i64,
    pub max_ts: i64,
    pub count: u32,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Rollup {
    pub series: SeriesId,
    pub start: i64,
    pub acc: Acc,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub id: u64,
    pub level: u8,
    pub min_ts: i64,
    pub max_ts: i64,
    pub points: u64,
    pub encoding: Encoding,
    pub chunks: Vec<Chunk>,
    pub rollups: Vec<Rollup>,
    /// Rollup bucket width (0: none).
    pub rollup_ms: i64,
}

impl Table {
    /// Builds a table from points sorted by (series, ts) with no duplicate (series, ts).
    pub fn build(id: u64, level: u8, encoding: Encoding, points: &[(SeriesId, i64, u64)], rollup_ms: i64) -> Table {
        let mut chunks = Vec::new();
        let mut rollups: Vec<Rollup> = Vec::new();
        let mut i = 0;
        while i < points.len() {
            let s = points[i].0;
            let mut j = i;
            while j < points.len() && points[j].0 == s {
                j += 1;
            }
            let run = &points[i..j];
            let data = match encoding {
                Encoding::Gorilla => {
                    let pts: Vec<(i64, f64)> = run.iter().map(|p| (p.1, f64::from_bits(p.2))).collect();
                    // Timestamps sit on a millisecond schedule within one run: every
                    // delta-of-delta fits the format's 32 bits.
                    gorilla::encode(&pts).expect("delta-of-delta within 32 bits")
                }
                Encoding::Rows => {
                    let name = series_name(s);
                    let mut out = Vec::with_capacity(run.len() * (17 + name.len()));
                    for p in run {
                        out.extend_from_slice(&p.1.to_le_bytes());
                        out.extend_from_slice(&p.2.to_le_bytes());
                        out.push(name.len() as u8);
                        out.extend_from_slice(name.as_bytes());
                    }
                    out
                }
            };
            if rollup_ms > 0 {
                for p in run {
                    let start = p.1.div_euclid(rollup_ms) * rollup_ms;
                    match rollups.last_mut() {
                        Some(r) if r.series == s && r.start == start => r.acc.add(f64::from_bits(p.2)),
                        _ => {
                            let mut acc = Acc::default();
                            acc.add(f64::from_bits(p.2));
                            rollups.push(Rollup { series: s, start, acc });
                        }
                    }
                }
            }
            chunks.push(Chunk {
                series: s,
                min_ts: run[0].1,
                max_ts: run[run.len() - 1].1,
                count: run.len() as u32,
                data,
            });
            i = j;
        }
        let min_ts = chunks.iter().map(|c| c.min_ts).min().unwrap_or(0);
        let max_ts = chunks.iter().map(|c| c.max_ts).max().unwrap_or(0);
        Table { id, level, min_ts, max_ts, points: points.len() as u64, encoding, chunks, rollups, rollup_ms }
    }

    /// Bytes the points take on disk: the table header and the chunks (headers and
    /// encoded data). Rollups are derived data and counted apart ([`Table::rollup_bytes`]).
    pub fn bytes(&self) -> u64 {
        TABLE_HEADER + self.chunks.iter().map(|c| CHUNK_HEADER + c.data.len() as u64).sum::<u64>()
    }

    pub fn rollup_bytes(&self) -> u64 {
        self.rollups.len() as u64 * ROLLUP_ROW
    }

    /// The raw (16 bytes a point) size of what the table holds.
    pub fn raw_bytes(&self) -> u64 {
        self.points * 16
    }

    pub fn chunk(&self, series: SeriesId) -> Option<&Chunk> {
        self.chunks.binary_search_by_key(&series, |c| c.series).ok().map(|i| &self.chunks[i])
    }

    /// Every point of the table, sorted by (series, ts).
    pub fn all_points(&self) -> Vec<(SeriesId, i64, u64)> {
        let mut out = Vec::with_capacity(self.points as usize);
        for c in &self.chunks {
            out.extend(decode(c, self.encoding).into_iter().map(|(t, b)| (c.series, t, b)));
        }
        out
    }

    pub fn overlaps(&self, from: i64, to: i64) -> bool {
        self.max_ts >= from && self.min_ts < to
    }
}

/// Decodes one chunk to (ts, value bits).
pub fn decode(c: &Chunk, encoding: Encoding) -> Vec<(i64, u64)> {
    match encoding {
        Encoding::Gorilla => {
            gorilla::decode(&c.data, c.count).unwrap_or_default().into_iter().map(|(t, v)| (t, v.to_bits())).collect()
        }
        Encoding::Rows => {
            let mut out = Vec::with_capacity(c.count as usize);
            let mut i = 0;
            let d = &c.data;
            while i + 17 <= d.len() {
                let mut ts = [0u8; 8];
                let mut v = [0u8; 8];
                ts.copy_from_slice(&d[i..i + 8]);
                v.copy_from_slice(&d[i + 8..i + 16]);
                out.push((i64::from_le_bytes(ts), u64::from_le_bytes(v)));
                i += 17 + usize::from(d[i + 16]);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_give_back_their_points_and_rows_cost_more() {
        let pts: Vec<(SeriesId, i64, u64)> = (0..3u32)
            .flat_map(|s| (0..50i64).map(move |i| (s, i * 100, (f64::from(s) + (i / 7) as f64 * 0.25).to_bits())))
            .collect();
        let g = Table::build(1, 0, Encoding::Gorilla, &pts, 1_000);
        let r = Table::build(2, 0, Encoding::Rows, &pts, 0);
        assert_eq!(g.all_points(), pts);
        assert_eq!(r.all_points(), pts);
        assert!(r.bytes() > 16 * 150 && g.bytes() < 4 * 150 + 3 * CHUNK_HEADER + TABLE_HEADER);
        // Rollups: 5 buckets of 1 s per series, each 10 points.
        assert_eq!(g.rollups.len(), 15);
        assert!(g.rollups.iter().all(|r| r.acc.count == 10));
    }
}
