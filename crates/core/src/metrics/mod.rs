//! Metrics of a run: named counters, latency histograms and per-interval series. The
//! standard request path ([`Metrics::request`]) feeds throughput, error rate and latency
//! series every system shares, so the UI charts them the same way everywhere.

pub mod histogram;
pub mod series;

use crate::sim::time::{SimDuration, SimTime};
use histogram::{Histogram, Quantiles};
use serde::Serialize;
use series::SeriesSet;
use std::collections::BTreeMap;

/// Names of the shared request-path metrics.
pub const REQUESTS: &str = "requests";
pub const ERRORS: &str = "errors";
pub const LATENCY: &str = "latency_us";

#[derive(Clone, Debug)]
pub struct Metrics {
    pub counters: BTreeMap<String, u64>,
    pub histograms: BTreeMap<String, Histogram>,
    pub gauges: BTreeMap<String, f64>,
    pub series: SeriesSet,
    /// Latency histogram per interval, for p50/p99 charts.
    pub latency_by_interval: Vec<Histogram>,
}

/// A JSON-friendly summary: what `sdlab run --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct MetricsSummary {
    pub counters: BTreeMap<String, u64>,
    pub gauges: BTreeMap<String, f64>,
    pub latency_us: BTreeMap<String, Quantiles>,
}

impl Metrics {
    pub fn new(interval_ms: u64) -> Metrics {
        Metrics {
            counters: BTreeMap::new(),
            histograms: BTreeMap::new(),
            gauges: BTreeMap::new(),
            series: SeriesSet::new(interval_ms),
            latency_by_interval: Vec::new(),
        }
    }

    pub fn add(&mut self, name: &str, n: u64) {
        match self.counters.get_mut(name) {
            Some(c) => *c += n,
            None => {
                self.counters.insert(name.to_string(), n);
            }
        }
    }

    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    pub fn gauge(&mut self, name: &str, value: f64) {
        match self.gauges.get_mut(name) {
            Some(g) => *g = value,
            None => {
                self.gauges.insert(name.to_string(), value);
            }
        }
    }

    pub fn observe(&mut self, name: &str, value: u64) {
        match self.histograms.get_mut(name) {
            Some(h) => h.record(value),
            None => {
                let mut h = Histogram::default();
                h.record(value);
                self.histograms.insert(name.to_string(), h);
            }
        }
    }

    pub fn histogram(&self, name: &str) -> Option<&Histogram> {
        self.histograms.get(name)
    }

    /// Records one finished client request on the shared request path.
    pub fn request(&mut self, at: SimTime, latency: SimDuration, ok: bool) {
        self.add(REQUESTS, 1);
        self.series.add(REQUESTS, at, 1.0);
        if !ok {
            self.add(ERRORS, 1);
            self.series.add(ERRORS, at, 1.0);
        }
        self.observe(LATENCY, latency.0);
        let idx = (at.0 / 1_000 / self.series.interval_ms) as usize;
        if idx < series::MAX_POINTS {
            if self.latency_by_interval.len() <= idx {
                self.latency_by_interval
                    .resize(idx + 1, Histogram::default());
            }
            self.latency_by_interval[idx].record(latency.0);
        }
    }

    pub fn summary(&self) -> MetricsSummary {
        MetricsSummary {
            counters: self.counters.clone(),
            gauges: self.gauges.clone(),
            latency_us: self
                .histograms
                .iter()
                .map(|(k, h)| (k.clone(), h.summary()))
                .collect(),
        }
    }
}
