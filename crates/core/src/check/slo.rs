//! A reusable latency SLO: "the q-quantile of the shared request latency stays below a
//! limit". An SLO is a promise made under conditions, so it states them: with
//! `only_undisrupted`, a run in which a fault cut a node off is reported as not judged
//! (and passes), rather than failing a promise it never made.

use super::{Property, RunEnd};
use crate::metrics::LATENCY;
use crate::sim::time::SimTime;

#[derive(Clone, Debug)]
pub struct LatencySlo {
    pub name: &'static str,
    pub quantile: f64,
    pub limit_ms: f64,
    /// Fewer requests than this make no verdict.
    pub min_samples: u64,
    pub only_undisrupted: bool,
    samples: u64,
    verdict: String,
}

impl LatencySlo {
    pub fn new(name: &'static str, quantile: f64, limit_ms: f64, only_undisrupted: bool) -> LatencySlo {
        LatencySlo { name, quantile, limit_ms, min_samples: 20, only_undisrupted, samples: 0, verdict: String::new() }
    }
}

impl<O: 'static> Property<O> for LatencySlo {
    fn name(&self) -> &'static str {
        self.name
    }
    fn observe(&mut self, _at: SimTime, _obs: &O) -> Option<String> {
        None
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        let q = format!("p{}", trim_quantile(self.quantile));
        if let (true, Some(why)) = (self.only_undisrupted, end.disruption) {
            self.verdict = format!("not judged: the SLO holds only without disruptive faults ({why})");
            return None;
        }
        let Some(h) = end.metrics.histogram(LATENCY) else {
            self.verdict = "not judged: no requests".into();
            return None;
        };
        self.samples = h.count();
        if h.count() < self.min_samples {
            self.verdict = format!("not judged: only {} requests", h.count());
            return None;
        }
        let got_ms = h.quantile(self.quantile) as f64 / 1_000.0;
        self.verdict = format!("{q} {got_ms:.2} ms ≤ {} ms over {} requests", self.limit_ms, h.count());
        (got_ms > self.limit_ms)
            .then(|| format!("{q} latency {got_ms:.2} ms > {} ms over {} requests", self.limit_ms, h.count()))
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
}

/// 0.99 → "99", 0.999 → "999", 0.5 → "50".
fn trim_quantile(q: f64) -> String {
    let tenths = (q * 1_000.0).round() as u64;
    if tenths.is_multiple_of(10) {
        format!("{}", tenths / 10)
    } else {
        format!("{tenths}")
    }
}
