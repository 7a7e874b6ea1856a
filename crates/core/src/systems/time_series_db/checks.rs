//! The three properties, judged against the scraper's own record: every point it had
//! acknowledged (its value, kept densely per series and scrape), every query it sent with
//! the newest timestamp and the acknowledged horizon at that instant.
//!
//! - `acked-durable`: every acknowledged point a read-back covers is returned with its
//!   value, whatever crashed in between. A read (raw query) over `[from, to)` below the
//!   horizon and inside the retention (`from ≥ newest − retention`) must return every
//!   acknowledged point of every matching series in the range.
//! - `query-exact`: answers equal a brute-force scan of the record: a raw answer holds no
//!   point the scraper did not acknowledge (or with another value), and an aggregate
//!   answer equals, window by window, the aggregate recomputed over every acknowledged
//!   point of the series the matchers select (found by scanning every series' labels, not
//!   through the database's index). Values are quarter multiples, so sums compare exactly.
//! - `bytes-per-point`: the live tables' real encoded size per point stays within the
//!   budget (judged at the end of the run, on the tables as they are then).

use super::msg::{matches, Answer, Obs, Query, QueryKind};
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

/// No value acknowledged at this (series, scrape).
const NONE: u64 = u64::MAX;

/// The acknowledged points, dense: per series, per scrape number, the value's bits.
#[derive(Clone, Debug)]
pub struct Record {
    pub scrape_ms: i64,
    pub retention_ms: i64,
    pub series: Vec<Vec<u64>>,
    /// Queries sent and not yet answered, with the newest timestamp at sending.
    pub sent: BTreeMap<u64, (Query, i64, i64)>,
}

impl Record {
    pub fn new(series: u32, scrape_ms: i64, retention_ms: i64) -> Record {
        Record { scrape_ms, retention_ms, series: vec![Vec::new(); series as usize], sent: BTreeMap::new() }
    }

    fn ack(&mut self, obs: &Obs) -> bool {
        match obs {
            Obs::Acked { points } => {
                for p in points {
                    let k = (p.ts / self.scrape_ms) as usize;
                    if let Some(v) = self.series.get_mut(p.series as usize) {
                        if v.len() <= k {
                            v.resize(k + 1, NONE);
                        }
                        v[k] = p.bits;
                    }
                }
                false
            }
            Obs::QuerySent { query, newest, horizon } => {
                self.sent.insert(query.id, (query.clone(), *newest, *horizon));
                while self.sent.len() > 256 {
                    self.sent.pop_first();
                }
                false
            }
            _ => false,
        }
    }

    /// The query behind an answer, if the right answer is exactly known: below the
    /// horizon and inside the retention.
    fn judgeable(&mut self, id: u64) -> Option<Query> {
        let (q, newest, horizon) = self.sent.remove(&id)?;
        (q.to <= horizon && q.from >= newest - self.retention_ms).then_some(q)
    }

    /// Acknowledged points of `series` in `[from, to)`.
    fn points(&self, series: usize, from: i64, to: i64) -> impl Iterator<Item = (i64, u64)> + '_ {
        let v = &self.series[series];
        let lo = ((from + self.scrape_ms - 1) / self.scrape_ms).max(0) as usize;
        let hi = (((to + self.scrape_ms - 1) / self.scrape_ms).max(0) as usize).min(v.len());
        (lo..hi.max(lo)).filter(move |&k| v[k] != NONE).map(move |k| (k as i64 * self.scrape_ms, v[k]))
    }

    fn value(&self, series: u32, ts: i64) -> Option<u64> {
        if ts % self.scrape_ms != 0 {
            return None;
        }
        let v = self.series.get(series as usize)?.get((ts / self.scrape_ms) as usize)?;
        (*v != NONE).then_some(*v)
    }
}

#[derive(Clone)]
pub struct AckedDurable {
    rec: Record,
    samples: u64,
}

impl AckedDurable {
    pub fn new(rec: Record) -> AckedDurable {
        AckedDurable { rec, samples: 0 }
    }
}

impl Property<Obs> for AckedDurable {
    fn name(&self) -> &'static str {
        "acked-durable"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        self.rec.ack(obs);
        let Obs::Answered { id, answer: Answer::Raw(got) } = obs else { return None };
        let q = self.rec.judgeable(*id)?;
        let got: BTreeMap<u32, &Vec<(i64, u64)>> = got.iter().map(|(s, p)| (*s, p)).collect();
        for s in 0..self.rec.series.len() as u32 {
            if !matches(s, &q.matchers) {
                continue;
            }
            let returned = got.get(&s).map(|v| v.as_slice()).unwrap_or(&[]);
            let mut missing = Vec::new();
            for (ts, bits) in self.rec.points(s as usize, q.from, q.to) {
                self.samples += 1;
                match returned.binary_search_by_key(&ts, |p| p.0) {
                    Ok(i) if returned[i].1 == bits => {}
                    _ => missing.push(ts),
                }
            }
            if !missing.is_empty() {
                return Some(format!(
                    "{}: series {s} lost {} acknowledged points ({} … {} ms)",
                    q.describe(),
                    missing.len(),
                    missing[0],
                    missing[missing.len() - 1]
                ));
            }
        }
        None
    }

    fn samples(&self) -> u64 {
        self.samples
    }

    fn summary(&self) -> String {
        format!("{} acknowledged points read back, all present", self.samples)
    }
}

#[derive(Clone)]
pub struct QueryExact {
    rec: Record,
    samples: u64,
}

impl QueryExact {
    pub fn new(rec: Record) -> QueryExact {
        QueryExact { rec, samples: 0 }
    }
}

fn show(bits: Option<u64>) -> String {
    bits.map_or("∅".into(), |b| format!("{}", f64::from_bits(b)))
}

impl Property<Obs> for QueryExact {
    fn name(&self) -> &'static str {
        "query-exact"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        self.rec.ack(obs);
        let Obs::Answered { id, answer } = obs else { return None };
        let q = self.rec.judgeable(*id)?;
        match (answer, q.kind) {
            (Answer::Raw(got), QueryKind::Raw) => {
                for (s, pts) in got {
                    if !matches(*s, &q.matchers) {
                        return Some(format!("{}: series {s} does not match", q.describe()));
                    }
                    for &(ts, bits) in pts {
                        self.samples += 1;
                        if ts < q.from || ts >= q.to || self.rec.value(*s, ts) != Some(bits) {
                            return Some(format!(
                                "{}: series {s} at {ts} ms returned {}, acknowledged {}",
                                q.describe(),
                                show(Some(bits)),
                                show(self.rec.value(*s, ts))
                            ));
                        }
                    }
                }
                None
            }
            (Answer::Agg(got), QueryKind::Agg { agg, step }) => {
                let n = ((q.to - q.from) / step) as usize;
                let mut want = vec![super::msg::Acc::default(); n];
                for s in 0..self.rec.series.len() {
                    if !matches(s as u32, &q.matchers) {
                        continue;
                    }
                    for (ts, bits) in self.rec.points(s, q.from, q.to) {
                        want[((ts - q.from) / step) as usize].add(f64::from_bits(bits));
                    }
                }
                if got.len() != n {
                    return Some(format!("{}: {} windows, expected {n}", q.describe(), got.len()));
                }
                for (i, (start, value)) in got.iter().enumerate() {
                    self.samples += 1;
                    let w = want[i].value(agg);
                    if *start != q.from + i as i64 * step || *value != w {
                        return Some(format!(
                            "{}: window {start} ms is {}, a scan of the acknowledged points gives {} ({} points)",
                            q.describe(),
                            show(*value),
                            show(w),
                            want[i].count
                        ));
                    }
                }
                None
            }
            _ => Some(format!("{}: answer of the wrong kind", q.describe())),
        }
    }

    fn samples(&self) -> u64 {
        self.samples
    }

    fn summary(&self) -> String {
        format!("{} returned points and windows equal a scan of the acknowledged points", self.samples)
    }
}

#[derive(Clone)]
pub struct BytesPerPoint {
    budget: f64,
    last: Option<(u64, u64)>,
    worst_end: Option<f64>,
    samples: u64,
}

impl BytesPerPoint {
    pub fn new(budget: f64) -> BytesPerPoint {
        BytesPerPoint { budget, last: None, worst_end: None, samples: 0 }
    }
}

impl Property<Obs> for BytesPerPoint {
    fn name(&self) -> &'static str {
        "bytes-per-point"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        if let Obs::Footprint { bytes, points } = obs {
            if *points > 0 {
                self.samples += 1;
                self.last = Some((*bytes, *points));
            }
        }
        None
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let (bytes, points) = self.last?;
        let per = bytes as f64 / points as f64;
        self.worst_end = Some(per);
        (per > self.budget).then(|| {
            format!(
                "the live tables take {bytes} B for {points} points = {per:.2} B/point, over the {:.1} B/point budget",
                self.budget
            )
        })
    }

    fn samples(&self) -> u64 {
        self.samples
    }

    fn summary(&self) -> String {
        match self.worst_end.or(self.last.map(|(b, p)| b as f64 / p as f64)) {
            Some(per) => format!("{per:.2} B/point on disk (budget {:.1})", self.budget),
            None => "no table written".into(),
        }
    }
}
