//! Properties checked while a run goes. Nodes report typed observations through
//! `Ctx::observe` ("id 4F issued for url 17", "storage accepted a write with token 9");
//! every property sees every observation as it happens, and the first violation is pinned
//! to the event that caused it, so the UI can jump there. Properties that can only be
//! judged at the end (eventually, SLOs) answer in [`Property::finish`].
//!
//! Each property also counts how often it was exercised, so a check that held only
//! because nothing ever tested it shows up as "0 samples" instead of a quiet green
//! (stateright's `always` + `sometimes` pairing, in one number).

pub mod slo;

use crate::metrics::Metrics;
use crate::sim::time::SimTime;
use serde::{Deserialize, Serialize};

/// What a check promises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Must hold at every instant, under any fault mix.
    Safety,
    /// Must eventually happen (judged at the end of the run).
    Liveness,
    /// A service-level objective, judged only under the conditions it states.
    Slo,
}

/// What a property sees when the run ends.
pub struct RunEnd<'a> {
    pub now: SimTime,
    pub metrics: &'a Metrics,
    /// Description of the first fault that could cut a node off, if any happened.
    pub disruption: Option<&'a str>,
}

/// A property over a system's observations `O`. Any `Clone` type implementing it can be
/// boxed and cloned with the world (snapshots): [`CloneProperty`] is implemented for it.
pub trait Property<O>: CloneProperty<O> + 'static {
    fn name(&self) -> &'static str;
    /// Sees one observation; returns a description if it breaks the property.
    fn observe(&mut self, at: SimTime, obs: &O) -> Option<String>;
    /// Judges what can only be judged at the end; `None` means it holds.
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        None
    }
    /// How many times the property was exercised.
    fn samples(&self) -> u64;
    /// A one-line account of what was checked, shown when the check holds.
    fn summary(&self) -> String {
        format!("{} samples", self.samples())
    }
}

/// Cloning a boxed property, for every `Clone` property at once (no per-check plumbing).
pub trait CloneProperty<O> {
    fn clone_box(&self) -> Box<dyn Property<O>>;
}

impl<O: 'static, P: Property<O> + Clone> CloneProperty<O> for P {
    fn clone_box(&self) -> Box<dyn Property<O>> {
        Box::new(self.clone())
    }
}

impl<O: 'static> Clone for Box<dyn Property<O>> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Where a violation happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// The kernel event index (trace `seq`) of the event that broke the property.
    pub seq: u64,
    pub at_ms: f64,
    pub detail: String,
}

/// The verdict on one check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    pub samples: u64,
    pub violation: Option<Violation>,
}

/// All properties of one run and their first violations.
#[derive(Clone)]
pub struct Checks<O: 'static> {
    props: Vec<Box<dyn Property<O>>>,
    first: Vec<Option<Violation>>,
    finished: bool,
}

impl<O: 'static> Checks<O> {
    pub fn new(props: Vec<Box<dyn Property<O>>>) -> Checks<O> {
        let first = vec![None; props.len()];
        Checks { props, first, finished: false }
    }

    /// Feeds one observation to every property; returns the names and details of
    /// properties violated for the first time.
    pub fn observe(&mut self, seq: u64, at: SimTime, obs: &O) -> Vec<(&'static str, String)> {
        let mut fresh = Vec::new();
        for (p, first) in self.props.iter_mut().zip(self.first.iter_mut()) {
            if let Some(detail) = p.observe(at, obs) {
                if first.is_none() {
                    *first = Some(Violation { seq, at_ms: at.as_ms(), detail: detail.clone() });
                    fresh.push((p.name(), detail));
                }
            }
        }
        fresh
    }

    /// Judges end-of-run properties once.
    pub fn finish(&mut self, seq: u64, end: &RunEnd<'_>) {
        if self.finished {
            return;
        }
        self.finished = true;
        for (p, first) in self.props.iter_mut().zip(self.first.iter_mut()) {
            if let Some(detail) = p.finish(end) {
                if first.is_none() {
                    *first = Some(Violation { seq, at_ms: end.now.as_ms(), detail });
                }
            }
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    pub fn results(&self) -> Vec<CheckResult> {
        self.props
            .iter()
            .zip(&self.first)
            .map(|(p, v)| CheckResult {
                name: p.name().to_string(),
                ok: v.is_none(),
                detail: match v {
                    Some(v) => v.detail.clone(),
                    None => p.summary(),
                },
                samples: p.samples(),
                violation: v.clone(),
            })
            .collect()
    }
}
