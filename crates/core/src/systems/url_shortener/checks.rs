//! The three checks. `unique-ids` and `ids-resolve` are safety properties over what
//! clients were told, so they judge the service from the outside, whatever the strategy
//! does inside. `p99-redirect` is an SLO on redirect latency alone (creates are excluded:
//! they are rare and may legitimately wait for an id block), judged on the redirects that
//! no disruptive fault touched (see [`RedirectSlo`]).

use super::msg::{Obs, Resolution};
use crate::blocks::base62;
use crate::check::{Property, RunEnd};
use crate::metrics::histogram::Histogram;
use crate::sim::fault::TimedFault;
use crate::sim::time::{SimDuration, SimTime};
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
}

/// How long after a disruptive fault is repaired the SLO still excuses redirects: the
/// backlog a paused or cut-off node built up drains, and a cache emptied by a crash refills.
/// One second is the client's timeout, so nothing a fault held back is older than that when
/// the repair lets it go.
pub const RECOVERY_MS: u64 = 1_000;

pub use crate::sim::fault::Window;

/// The windows of a fault plan ([`crate::sim::fault::windows`]). Clock skew opens none:
/// the redirect path reads no clock, so the SLO makes no excuse for it.
pub fn disruption_windows(faults: &[TimedFault]) -> Vec<Window> {
    crate::sim::fault::windows(faults, false)
}

/// p99 of redirect latency (as clients saw it, failures at their timeout) ≤ `limit_ms`,
/// judged on the redirects the SLO's conditions cover. An SLO promises latency while the
/// service is whole; it says nothing about a request that met a crashed, paused or cut-off
/// node, or that queued behind the backlog such a fault left. So a redirect is set aside
/// when its lifetime (sent → answered) overlaps a disruptive fault of the plan or the
/// `RECOVERY_MS` after its repair, and every other redirect is judged, the viral burst
/// included. That keeps the verdict meaningful in swarm runs, where almost every plan has
/// some fault, instead of skipping them all.
///
/// The windows come from the scenario's plan, which the property is built with. A fault
/// clicked into a running playground is not in it; when the run's first disruption is not
/// the one the plan predicts, the SLO says it cannot judge rather than blame the design.
#[derive(Clone)]
pub struct RedirectSlo {
    pub limit_ms: f64,
    windows: Vec<Window>,
    /// How the kernel will name the plan's first disruptive fault.
    first_planned: Option<String>,
    judged: Histogram,
    set_aside: u64,
    verdict: String,
}

impl RedirectSlo {
    pub fn new(limit_ms: f64, faults: &[TimedFault]) -> RedirectSlo {
        let first_planned = faults
            .iter()
            .enumerate()
            .filter(|(_, f)| f.fault.disrupts())
            .min_by_key(|(i, f)| (f.at_ms, *i))
            .map(|(_, f)| format!("{} at {}", f.fault.describe(), SimTime::from_ms(f.at_ms)));
        RedirectSlo {
            limit_ms,
            windows: disruption_windows(faults),
            first_planned,
            judged: Histogram::default(),
            set_aside: 0,
            verdict: String::new(),
        }
    }

    /// Whether a redirect sent at `sent` and ended at `done` met a fault or its aftermath.
    fn excused(&self, sent: SimTime, done: SimTime) -> bool {
        let margin = SimDuration::from_ms(RECOVERY_MS);
        self.windows.iter().any(|w| done >= w.from && w.until.is_none_or(|u| sent < u + margin))
    }

    fn aside(&self) -> String {
        format!(
            "{} set aside: they met a disruptive fault or started within {} s of its repair",
            self.set_aside,
            RECOVERY_MS / 1_000
        )
    }
}

impl Property<Obs> for RedirectSlo {
    fn name(&self) -> &'static str {
        P99_REDIRECT
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        if let Obs::RedirectTimed { sent, latency } = *obs {
            if self.excused(sent, sent + latency) {
                self.set_aside += 1;
            } else {
                self.judged.record(latency.0);
            }
        }
        None
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        if let Some(d) = end.disruption.filter(|&d| Some(d) != self.first_planned.as_deref()) {
            self.verdict = format!("not judged: {d} is not in the scenario's plan, so the SLO cannot place it");
            return None;
        }
        let n = self.judged.count();
        if n < 50 {
            self.verdict = format!("not judged: only {n} redirects outside faults ({})", self.aside());
            return None;
        }
        let p99_ms = self.judged.quantile(0.99) as f64 / 1_000.0;
        self.verdict =
            format!("p99 redirect {p99_ms:.2} ms ≤ {} ms over {n} redirects ({})", self.limit_ms, self.aside());
        (p99_ms > self.limit_ms).then(|| {
            format!("p99 redirect latency {p99_ms:.2} ms > {} ms over {n} redirects ({})", self.limit_ms, self.aside())
        })
    }
    fn samples(&self) -> u64 {
        self.judged.count()
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
}
