//! The three checks. `unique-ids` and `ids-resolve` are safety properties over what
//! clients were told, so they judge the service from the outside, whatever the strategy
//! does inside. `p99-redirect` is an SLO on redirect latency alone (creates are excluded:
//! they are rare and may legitimately wait for an id block), promised only while no
//! fault cut a node off.

use super::client::REDIRECT_LATENCY;
use super::msg::{Obs, Resolution};
use crate::blocks::base62;
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

pub const UNIQUE_IDS: &str = "unique-ids";
pub const IDS_RESOLVE: &str = "ids-resolve";
pub const P99_REDIRECT: &str = "p99-redirect";

fn url_name(url: u64) -> String {
    format!("u{}.{}", url >> 32, url & 0xffff_ffff)
}

/// No short id is handed out for two different URLs (every create has its own URL).
#[derive(Clone)]
pub struct UniqueIds {
    pub names: Vec<String>,
    owner: BTreeMap<u64, (u64, u32)>,
    samples: u64,
}

impl UniqueIds {
    pub fn new(names: Vec<String>) -> UniqueIds {
        UniqueIds { names, owner: BTreeMap::new(), samples: 0 }
    }
}

impl Property<Obs> for UniqueIds {
    fn name(&self) -> &'static str {
        UNIQUE_IDS
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Issued { id, url, api } = *obs else {
            return None;
        };
        self.samples += 1;
        let name = |n: u32| self.names.get(n as usize).cloned().unwrap_or_default();
        match self.owner.get(&id) {
            Some(&(first, by)) if first != url => Some(format!(
                "id {} issued twice: for {} by {} and for {} by {}",
                base62::encode(id),
                url_name(first),
                name(by),
                url_name(url),
                name(api)
            )),
            Some(_) => None,
            None => {
                self.owner.insert(id, (url, api));
                None
            }
        }
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        format!("{} ids issued, all distinct", self.samples)
    }
    fn clone_box(&self) -> Box<dyn Property<Obs>> {
        Box::new(self.clone())
    }
}

/// Every answered redirect of a created id returns the URL it was created for.
#[derive(Clone, Default)]
pub struct IdsResolve {
    samples: u64,
}

impl Property<Obs> for IdsResolve {
    fn name(&self) -> &'static str {
        IDS_RESOLVE
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Redirect { id, want, got } = *obs else {
            return None;
        };
        self.samples += 1;
        let id = base62::encode(id);
        match got {
            Resolution::Found(u) if u == want => None,
            Resolution::Found(u) => {
                Some(format!("id {id} was created for {} but redirects to {}", url_name(want), url_name(u)))
            }
            Resolution::Missing => {
                Some(format!("id {id} was created for {} but the store has no such id", url_name(want)))
            }
            Resolution::Unavailable => None,
        }
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        format!("{} redirects, each to the URL its id was created for", self.samples)
    }
    fn clone_box(&self) -> Box<dyn Property<Obs>> {
        Box::new(self.clone())
    }
}

/// p99 of redirect latency (as clients saw it, failures at their timeout) ≤ `limit_ms`,
/// judged only in runs without disruptive faults.
#[derive(Clone)]
pub struct RedirectSlo {
    pub limit_ms: f64,
    samples: u64,
    verdict: String,
}

impl RedirectSlo {
    pub fn new(limit_ms: f64) -> RedirectSlo {
        RedirectSlo { limit_ms, samples: 0, verdict: String::new() }
    }
}

impl Property<Obs> for RedirectSlo {
    fn name(&self) -> &'static str {
        P99_REDIRECT
    }
    fn observe(&mut self, _at: SimTime, _obs: &Obs) -> Option<String> {
        None
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        if let Some(why) = end.disruption {
            self.verdict = format!("not judged: the SLO holds only without disruptive faults ({why})");
            return None;
        }
        let Some(h) = end.metrics.histogram(REDIRECT_LATENCY).filter(|h| h.count() >= 50) else {
            self.verdict = "not judged: fewer than 50 redirects".into();
            return None;
        };
        self.samples = h.count();
        let p99_ms = h.quantile(0.99) as f64 / 1_000.0;
        self.verdict = format!("p99 redirect {p99_ms:.2} ms ≤ {} ms over {} redirects", self.limit_ms, h.count());
        (p99_ms > self.limit_ms)
            .then(|| format!("p99 redirect latency {p99_ms:.2} ms > {} ms over {} redirects", self.limit_ms, h.count()))
    }
    fn samples(&self) -> u64 {
        self.samples
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
    fn clone_box(&self) -> Box<dyn Property<Obs>> {
        Box::new(self.clone())
    }
}
