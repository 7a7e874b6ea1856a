//! The scraper: the client, and the checks' reference. Every `scrape_ms` it samples every
//! series (a CPU gauge in quarter percents, a memory gauge in whole MB, a request counter)
//! and writes the batch, retrying it until acknowledged (a retry rewrites the same points:
//! the database keeps one value per (series, timestamp)). It reports each batch's first
//! acknowledgement, so the checks hold the full record of acknowledged points.
//!
//! It also queries: an *audit* that reads every series back over a window that walks
//! round the retained range, and aggregate queries (a metric, maybe a data centre or a
//! host; sum/avg/min/max/count per step). A query only covers time whose points were all
//! acknowledged before it was sent (below the *horizon*: the oldest unacknowledged batch)
//! and that the retention cannot have dropped (at or after the newest timestamp written
//! minus the retention), so the right answer is exactly known.
//!
//! The scraper is the test harness, not the system under test: a crash of its process
//! keeps its record (only its timers restart).

use super::msg::{Agg, Answer, Label, Msg, Obs, Point, Query, QueryKind, SeriesId};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TICK: u64 = 1;
const RETRY: u64 = 2;
const QUERY: u64 = 3;

/// Points an audit reads at most (its window shrinks with the series count).
pub const AUDIT_POINTS: i64 = 6_000;
/// Points an aggregate query spans at most.
pub const QUERY_POINTS: i64 = 12_000;
/// Queries awaiting an answer at most (older ones are forgotten).
const OUTSTANDING: usize = 32;

#[derive(Clone, Debug)]
pub struct ScraperCfg {
    pub db: NodeId,
    pub series: u32,
    pub scrape_ms: i64,
    pub duration_ms: i64,
    pub timeout_ms: u64,
    pub query_every_ms: u64,
    pub retention_ms: i64,
    pub block_ms: i64,
}

#[derive(Clone, Debug)]
pub struct Scraper {
    pub cfg: ScraperCfg,
    /// Next scrape number (timestamp `tick * scrape_ms`).
    pub tick: i64,
    values: Vec<f64>,
    /// Unacknowledged batches: tick → points.
    pub pending: BTreeMap<i64, Vec<Point>>,
    pub acked_batches: u64,
    pub retries: u64,
    next_query: u64,
    pub outstanding: BTreeMap<u64, Query>,
    audit_cursor: i64,
    /// The latest answered queries, for the view: (description, result summary).
    pub recent: Vec<(String, String)>,
    rng: crate::sim::rng::Prng,
}

impl Scraper {
    pub fn new(cfg: ScraperCfg, rng: crate::sim::rng::Prng) -> Scraper {
        let values = (0..cfg.series)
            .map(|s| match s % 3 {
                0 => 20.0 + f64::from(s % 50),
                1 => 512.0 + f64::from(s * 7 % 300),
                _ => 0.0,
            })
            .collect();
        Scraper {
            cfg,
            tick: 0,
            values,
            pending: BTreeMap::new(),
            acked_batches: 0,
            retries: 0,
            next_query: 1,
            outstanding: BTreeMap::new(),
            audit_cursor: 0,
            recent: Vec::new(),
            rng,
        }
    }

    fn sample(&mut self, s: SeriesId) -> f64 {
        let v = &mut self.values[s as usize];
        match s % 3 {
            // A CPU percentage in quarter steps, moving on 3 scrapes in 10.
            0 => {
                if self.rng.chance(0.3) {
                    *v = (*v + (self.rng.below(9) as f64 - 4.0) * 0.25).clamp(0.0, 100.0);
                }
            }
            // Memory in whole MB, moving now and then.
            1 => {
                if self.rng.chance(0.1) {
                    *v = (*v + self.rng.below(33) as f64 - 16.0).max(0.0);
                }
            }
            // A counter.
            _ => *v += self.rng.below(20) as f64,
        }
        *v
    }

    /// The newest timestamp written.
    pub fn newest(&self) -> i64 {
        (self.tick - 1).max(0) * self.cfg.scrape_ms
    }

    /// Every point written before this timestamp is acknowledged.
    pub fn horizon(&self) -> i64 {
        self.pending.keys().next().copied().unwrap_or(self.tick) * self.cfg.scrape_ms
    }

    fn scrape(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let ts = self.tick * self.cfg.scrape_ms;
        if ts >= self.cfg.duration_ms {
            return;
        }
        let points: Vec<Point> =
            (0..self.cfg.series).map(|s| Point { series: s, ts, bits: self.sample(s).to_bits() }).collect();
        ctx.send(self.cfg.db, Msg::Write { batch: self.tick as u64, points: points.clone() });
        self.pending.insert(self.tick, points);
        self.tick += 1;
        ctx.set_timer(SimDuration::from_ms(self.cfg.scrape_ms as u64), TICK);
    }

    fn retry(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        // Resend the oldest few unacknowledged batches (a partition's backlog drains in
        // order, a few batches per timeout).
        for (tick, points) in self.pending.iter().take(8) {
            ctx.send(self.cfg.db, Msg::Write { batch: *tick as u64, points: points.clone() });
            self.retries += 1;
        }
        ctx.set_timer(SimDuration::from_ms(self.cfg.timeout_ms), RETRY);
    }

    fn query(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(self.cfg.query_every_ms), QUERY);
        let (newest, horizon) = (self.newest(), self.horizon());
        let c = &self.cfg;
        // Round the low end up to the scrape schedule: retention is judged on timestamps.
        let lo = (newest - c.retention_ms).max(0);
        let lo = (lo + c.scrape_ms - 1) / c.scrape_ms * c.scrape_ms;
        if horizon - lo < c.scrape_ms {
            return;
        }
        let audit = self.rng.chance(0.4);
        let query = if audit {
            let span = (AUDIT_POINTS / i64::from(c.series)).max(1) * c.scrape_ms;
            let span = span.min(c.block_ms);
            if self.audit_cursor < lo || self.audit_cursor >= horizon {
                self.audit_cursor = lo;
            }
            let from = self.audit_cursor;
            let to = (from + span).min(horizon);
            self.audit_cursor = to;
            Query { id: self.next_query, matchers: Vec::new(), from, to, kind: QueryKind::Raw }
        } else {
            let metric = self.rng.below(3) as u32;
            let mut matchers = vec![(Label::Metric, metric)];
            if self.rng.chance(0.5) {
                matchers.push((Label::Dc, self.rng.below(3) as u32));
            } else if self.rng.chance(0.2) {
                let hosts = (c.series / 3).max(1);
                matchers.push((Label::Host, self.rng.below(u64::from(hosts)) as u32));
            }
            let agg = *self.rng.pick(&Agg::ALL).unwrap_or(&Agg::Sum);
            let step = *self.rng.pick(&[c.block_ms / 2, c.block_ms, 2 * c.block_ms]).unwrap_or(&c.block_ms);
            let step = (step / c.scrape_ms).max(1) * c.scrape_ms;
            let from = (lo + step - 1) / step * step;
            let per_step = (i64::from(c.series) / 3).max(1) * (step / c.scrape_ms);
            let most = ((horizon - from) / step).min(QUERY_POINTS / per_step.max(1)).min(8);
            if most < 1 {
                return;
            }
            let k = 1 + self.rng.below(most as u64) as i64;
            // The latest k steps below the horizon, or an older stretch.
            let last = (horizon - from) / step;
            let first = if self.rng.chance(0.5) { last - k } else { self.rng.below((last - k + 1) as u64) as i64 };
            let from = from + first * step;
            Query { id: self.next_query, matchers, from, to: from + k * step, kind: QueryKind::Agg { agg, step } }
        };
        self.next_query += 1;
        ctx.observe(Obs::QuerySent { query: query.clone(), newest, horizon });
        ctx.send(self.cfg.db, Msg::Query(query.clone()));
        self.outstanding.insert(query.id, query);
        while self.outstanding.len() > OUTSTANDING {
            self.outstanding.pop_first();
        }
    }
}

impl Actor for Scraper {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(self.cfg.scrape_ms as u64), TICK);
        ctx.set_timer(SimDuration::from_ms(self.cfg.timeout_ms), RETRY);
        ctx.set_timer(SimDuration::from_ms(self.cfg.query_every_ms), QUERY);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::WriteAck { batch } => {
                if let Some(points) = self.pending.remove(&(batch as i64)) {
                    self.acked_batches += 1;
                    ctx.metrics.add("tsdb.points_acked", points.len() as u64);
                    ctx.observe(Obs::Acked { points });
                }
            }
            Msg::Answer { id, answer } => {
                if let Some(q) = self.outstanding.remove(&id) {
                    let summary = match &answer {
                        Answer::Raw(s) => format!("{} points", s.iter().map(|x| x.1.len()).sum::<usize>()),
                        Answer::Agg(w) => format!("{} windows", w.len()),
                    };
                    self.recent.push((q.describe(), summary));
                    if self.recent.len() > 12 {
                        self.recent.remove(0);
                    }
                    ctx.metrics.add("tsdb.queries_answered", 1);
                    ctx.observe(Obs::Answered { id, answer });
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag {
            TICK => self.scrape(ctx),
            RETRY => self.retry(ctx),
            QUERY => self.query(ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("t={} ms, {} batches unacked", self.newest(), self.pending.len())
    }
}
