//! The two checks. `window-bound` (safety) holds each strategy to the guarantee it states
//! ([`Claim`]s from the limiter block): a sliding pass over each key's admission times
//! keeps a deque of the stamps inside `[t - len, t]`, so every window that ends at an
//! admission — and so every window, since the busiest one can always be slid left until
//! it ends at an admission — is counted in O(1) amortised per stamp. Windows holding an
//! admission that bypassed the limiter (fail-open while the store was unreachable) are
//! not judged: the limiter made no promise about them, and the detail says so.
//!
//! `no-starvation` (liveness) asks that every honest client, which stays well under the
//! limit, gets at least `min_share` of its judged requests admitted while an abuser floods.
//! Judged are the requests the limiter decided (admitted or 429), and those the store was
//! up for but could not serve because other callers' commands filled it: refused with
//! `BUSY` by a full queue, or answered only after queueing longer than the gateway's
//! timeout (a gateway reports such a late reply). Those are what a flood that reaches the
//! store does to honest clients, and a design that sheds the flood at the gateways avoids
//! them. Requests that simply went unanswered (store unreachable and failing closed, a
//! lost message, a crashed gateway) are counted and shown but not judged: failing closed
//! during a partition refuses everyone by design, and that is the stated price of
//! fail-closed.

use super::msg::{Obs, Outcome, Verdict};
use crate::blocks::rate_limit::{Claim, Span};
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// Per-key, per-claim sliding state.
#[derive(Clone, Debug, Default)]
struct Lane {
    stamps: VecDeque<u64>,
    /// Aligned span: current window index and its count.
    window: u64,
    count: u64,
    /// Aligned span: whether the current window holds a bypass.
    bypassed: bool,
}

#[derive(Clone, Debug, Default)]
struct KeyAudit {
    lanes: Vec<Lane>,
    last_bypass: Option<u64>,
}

/// `window-bound`: admitted ≤ the stated bound in every window of the stated length.
#[derive(Clone, Debug)]
pub struct WindowBound {
    claims: Vec<Claim>,
    /// Who states the claims ("token bucket", ...), for the detail.
    who: String,
    keys: BTreeMap<u32, KeyAudit>,
    admissions: u64,
    bypasses: u64,
    unjudged: u64,
    /// Per claim: the fullest judged window seen (count, key).
    peak: Vec<(u64, u32)>,
}

impl WindowBound {
    pub fn new(claims: Vec<Claim>, who: impl Into<String>) -> WindowBound {
        let n = claims.len();
        WindowBound {
            claims,
            who: who.into(),
            keys: BTreeMap::new(),
            admissions: 0,
            bypasses: 0,
            unjudged: 0,
            peak: vec![(0, 0); n],
        }
    }

    /// Feeds one admission of `key` at `at_us`; returns a violation if a judged window
    /// now holds more than its claim allows.
    pub fn admit(&mut self, at_us: u64, key: u32, bypass: bool) -> Option<String> {
        self.admissions += 1;
        if bypass {
            self.bypasses += 1;
        }
        let n = self.claims.len();
        let audit =
            self.keys.entry(key).or_insert_with(|| KeyAudit { lanes: vec![Lane::default(); n], last_bypass: None });
        if bypass {
            audit.last_bypass = Some(at_us);
        }
        let mut broken = None;
        for (i, c) in self.claims.iter().enumerate() {
            let lane = &mut audit.lanes[i];
            let (count, judged, from_us) = match c.span {
                Span::Sliding => {
                    let floor = at_us.saturating_sub(c.len_us);
                    lane.stamps.push_back(at_us);
                    while lane.stamps.front().is_some_and(|&s| s < floor) {
                        lane.stamps.pop_front();
                    }
                    let judged = audit.last_bypass.is_none_or(|b| b < floor);
                    (lane.stamps.len() as u64, judged, floor)
                }
                Span::Aligned => {
                    let idx = at_us / c.len_us;
                    if idx != lane.window || lane.count == 0 {
                        lane.window = idx;
                        lane.count = 0;
                        lane.bypassed = false;
                    }
                    lane.count += 1;
                    lane.bypassed |= bypass;
                    (lane.count, !lane.bypassed, idx * c.len_us)
                }
            };
            if !judged {
                if count > c.max {
                    self.unjudged += 1;
                }
                continue;
            }
            if count > self.peak[i].0 {
                self.peak[i] = (count, key);
            }
            if count > c.max && broken.is_none() {
                broken = Some(format!(
                    "key {key}: {count} admitted in the {} ms window [{}, {}] but the {} claims {}",
                    c.len_us as f64 / 1_000.0,
                    SimTime(from_us),
                    SimTime(at_us),
                    self.who,
                    c.describe()
                ));
            }
        }
        broken
    }
}

impl Property<Obs> for WindowBound {
    fn name(&self) -> &'static str {
        "window-bound"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Admit { key, bypass, .. } => self.admit(at.micros(), *key, *bypass),
            Obs::Outcome { .. } | Obs::Late { .. } => None,
        }
    }
    fn samples(&self) -> u64 {
        self.admissions
    }
    fn summary(&self) -> String {
        let peaks: Vec<String> = self
            .claims
            .iter()
            .zip(&self.peak)
            .map(|(c, (n, k))| format!("peak {n} (key {k}) vs {}", c.describe()))
            .collect();
        let mut s = format!("{} admissions over {} keys; {}", self.admissions, self.keys.len(), peaks.join("; "));
        if self.bypasses > 0 {
            s.push_str(&format!(
                "; not judged while fail-open: {} admissions bypassed the unreachable store, windows holding them skipped ({} over the bound)",
                self.bypasses, self.unjudged
            ));
        }
        s
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    node: NodeId,
    admitted: u64,
    limited: u64,
    /// 503 because the store's queue was full.
    busy: u64,
    /// 503 on timeout, and the store later said the command had queued past it.
    late: u64,
    unavailable: u64,
    lost: u64,
}

impl Tally {
    fn judged(&self) -> u64 {
        self.admitted + self.limited + self.busy + self.late
    }
}

/// `no-starvation`: each honest client gets at least `min_share` of its judged requests.
#[derive(Clone, Debug)]
pub struct NoStarvation {
    min_share: f64,
    min_decided: u64,
    clients: BTreeMap<u32, Tally>,
    /// Late replies per client node (honest or not; sorted out at the end).
    late: BTreeMap<NodeId, u64>,
    judged: u64,
    judged_late: u64,
    verdict: String,
}

impl NoStarvation {
    pub fn new(min_share: f64) -> NoStarvation {
        NoStarvation {
            min_share,
            min_decided: 10,
            clients: BTreeMap::new(),
            late: BTreeMap::new(),
            judged: 0,
            judged_late: 0,
            verdict: String::new(),
        }
    }

    /// One honest client's request ended.
    pub fn record(&mut self, client: u32, node: NodeId, outcome: Outcome) {
        let t = self.clients.entry(client).or_default();
        t.node = node;
        match outcome {
            Outcome::Answered(Verdict::Allowed) => t.admitted += 1,
            Outcome::Answered(Verdict::Limited) => t.limited += 1,
            Outcome::Answered(Verdict::Busy) => t.busy += 1,
            Outcome::Answered(Verdict::Unavailable) => t.unavailable += 1,
            Outcome::Lost => t.lost += 1,
        }
        if matches!(outcome, Outcome::Answered(Verdict::Allowed | Verdict::Limited | Verdict::Busy)) {
            self.judged += 1;
        }
    }

    /// A 503 a gateway gave `node` turned out to be queueing at the store.
    pub fn record_late(&mut self, node: NodeId) {
        *self.late.entry(node).or_default() += 1;
    }

    /// The verdict at the end of the run: `Some(detail)` when a client starved.
    pub fn judge(&mut self) -> Option<String> {
        let mut worst: Option<(f64, u32, Tally)> = None;
        let (mut undecided, mut judged) = (0, 0);
        self.judged_late = 0;
        for (&c, t) in &self.clients {
            let mut t = *t;
            t.late = self.late.get(&t.node).copied().unwrap_or(0).min(t.unavailable);
            t.unavailable -= t.late;
            self.judged_late += t.late;
            undecided += t.unavailable + t.lost;
            let decided = t.judged();
            if decided < self.min_decided {
                continue;
            }
            judged += 1;
            let share = t.admitted as f64 / decided as f64;
            if worst.is_none_or(|(w, _, _)| share < w) {
                worst = Some((share, c, t));
            }
        }
        let pct = self.min_share * 100.0;
        let aside = format!("{undecided} requests not judged (store unreachable and failing closed, or lost)");
        let Some((share, c, t)) = worst else {
            self.verdict = format!("not judged: no honest client had {} judged requests; {aside}", self.min_decided);
            return None;
        };
        let line = format!(
            "client-{c} got {} of {} judged requests admitted ({:.0}%: {} limited, {} refused by the store's full queue, {} timed out queueing in the store)",
            t.admitted,
            t.judged(),
            share * 100.0,
            t.limited,
            t.busy,
            t.late
        );
        if share + 1e-9 < self.min_share {
            self.verdict = format!("{line} < {pct:.0}% while the abuser flooded; {aside}");
            return Some(self.verdict.clone());
        }
        self.verdict = format!("{judged} honest clients, the worst {line} ≥ {pct:.0}%; {aside}");
        None
    }
}

impl Property<Obs> for NoStarvation {
    fn name(&self) -> &'static str {
        "no-starvation"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Outcome { client, node, honest: true, outcome } => self.record(*client, *node, *outcome),
            Obs::Late { client, .. } => self.record_late(*client),
            _ => {}
        }
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        self.judge()
    }
    fn samples(&self) -> u64 {
        self.judged + self.judged_late
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
}
