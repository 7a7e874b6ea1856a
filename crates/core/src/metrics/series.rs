//! Per-interval series: the data behind live charts. Time is cut into fixed intervals;
//! each named series sums (or overwrites, for gauges) the values that land in an
//! interval. The number of points is capped so a long run cannot grow memory without end.

use crate::sim::time::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

/// Most points any one series keeps.
pub const MAX_POINTS: usize = 20_000;

#[derive(Clone, Debug, Serialize)]
pub struct SeriesSet {
    pub interval_ms: u64,
    pub series: BTreeMap<String, Vec<f64>>,
}

impl SeriesSet {
    pub fn new(interval_ms: u64) -> SeriesSet {
        SeriesSet {
            interval_ms: interval_ms.max(1),
            series: BTreeMap::new(),
        }
    }

    fn slot(&mut self, name: &str, at: SimTime) -> Option<&mut f64> {
        let idx = (at.0 / 1_000 / self.interval_ms) as usize;
        if idx >= MAX_POINTS {
            return None;
        }
        if !self.series.contains_key(name) {
            self.series.insert(name.to_string(), Vec::new());
        }
        let v = self.series.get_mut(name)?;
        if v.len() <= idx {
            v.resize(idx + 1, 0.0);
        }
        v.get_mut(idx)
    }

    /// Adds `value` to the interval containing `at`.
    pub fn add(&mut self, name: &str, at: SimTime, value: f64) {
        if let Some(s) = self.slot(name, at) {
            *s += value;
        }
    }

    /// Sets the interval containing `at` to `value` (a gauge reading).
    pub fn set(&mut self, name: &str, at: SimTime, value: f64) {
        if let Some(s) = self.slot(name, at) {
            *s = value;
        }
    }

    /// Sets the interval to the max of its value and `value`.
    pub fn max(&mut self, name: &str, at: SimTime, value: f64) {
        if let Some(s) = self.slot(name, at) {
            *s = s.max(value);
        }
    }

    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.series.get(name).map(Vec::as_slice)
    }
}
