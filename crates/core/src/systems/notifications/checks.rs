//! The three checks. All of them judge what the providers actually delivered
//! (`Obs::Delivered`, reported after any dedup) against the preference data, read here
//! with the check's own statement of the rules (`owed`), never through the workers'
//! filter. A worker's belief that it sent something plays no part.
//!
//! - `exactly-once` (safety): no (campaign, user, channel) is delivered twice — judged at
//!   each delivery against a per-campaign bitset of who already got it — and, at the end,
//!   every owed (campaign, user, channel) was delivered. Loss is judged for sends accepted
//!   at least `settle_ms` before the run ends and, when the plan has faults, at least
//!   `settle_ms` after the last one ends (work still legitimately in the queue is late,
//!   not lost); a plan whose fault never ends is not judged for loss.
//! - `opt-out-respected` (safety): nobody receives a message they are not owed: opted out
//!   of marketing, not subscribed to the topic, channel not allowed, or inside quiet
//!   hours (22:00–08:00) in their own time zone at the send's hour.
//! - `fanout-slo` (SLO): a marketing campaign reaches all its owed recipients within
//!   `slo_ms` of being accepted, a transactional send within `TXN_SLO_MS`. Judged only for
//!   sends whose whole SLO window lies inside the run and clear of every fault in the plan.

use super::bits::Bits;
use super::msg::Obs;
use super::prefs::{Campaign, Channel, Prefs, Topic};
use crate::check::{Property, RunEnd};
use crate::sim::fault::TimedFault;
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

/// A transactional send's SLO.
pub const TXN_SLO_MS: u64 = 1_000;

/// What the user is owed, read straight from the requirement: transactional messages go
/// on the first channel of push, SMS, email the user can be reached on, regardless of
/// topic and quiet hours; marketing goes on each of the campaign's channels the user
/// allows, if they have not opted out, subscribe to the topic, and it is not between
/// 22:00 and 08:00 where they live.
pub fn owed(p: &Prefs, c: &Campaign, ch: Channel) -> bool {
    why_not(p, c, ch).is_none()
}

/// Why a user is not owed a message (`None`: they are).
pub fn why_not(p: &Prefs, c: &Campaign, ch: Channel) -> Option<String> {
    if c.topic == Topic::Account {
        let order = [Channel::Push, Channel::Sms, Channel::Email];
        let pick = order.iter().copied().find(|&x| p.channels & x.bit() != 0);
        return (pick != Some(ch)).then(|| "transactional sends go on one channel only".to_string());
    }
    if c.channels & ch.bit() == 0 {
        return Some(format!("the campaign does not use {}", ch.name()));
    }
    if p.opted_out {
        return Some("opted out of marketing".into());
    }
    if !p.subscribed(c.topic) {
        return Some(format!("not subscribed to {}", c.topic.name()));
    }
    if !p.reachable(ch) {
        return Some(format!("has {} turned off", ch.name()));
    }
    let local = (i64::from(c.utc_hour) + i64::from(p.tz_hours)).rem_euclid(24);
    if !(8..22).contains(&local) {
        return Some(format!("in quiet hours ({local:02}:00 local, UTC{:+})", p.tz_hours));
    }
    None
}

/// Windows of the plan in which some fault is in force: [start, end) in ms.
pub fn fault_windows(faults: &[TimedFault], horizon_ms: u64) -> Vec<(u64, u64)> {
    crate::sim::fault::windows(faults, false)
        .iter()
        .map(|w| {
            let from = w.from.micros() / 1_000;
            (from, w.until.map_or(horizon_ms, |u| u.micros() / 1_000).max(from))
        })
        .collect()
}

/// One accepted send as a check records it: what it was, when, and who got it.
#[derive(Clone, Debug)]
struct Record {
    c: Campaign,
    at: SimTime,
    got: [Option<Bits>; 3],
}

impl Record {
    fn new(c: Campaign, at: SimTime) -> Record {
        let got = Channel::ALL.map(|ch| (c.channels & ch.bit() != 0).then(|| Bits::new(c.count)));
        Record { c, at, got }
    }
}

fn who(c: &Campaign) -> String {
    c.label()
}

#[derive(Clone)]
pub struct ExactlyOnce {
    salt: u64,
    settle_ms: u64,
    /// End of the plan's last fault (`None`: one never ends); 0 without faults.
    quiet_from: Option<u64>,
    recs: BTreeMap<u32, Record>,
    messages: u64,
    verdict: String,
}

impl ExactlyOnce {
    pub fn new(salt: u64, settle_ms: u64, windows: &[(u64, u64)], endless: bool) -> ExactlyOnce {
        let quiet_from = if endless { None } else { Some(windows.iter().map(|w| w.1).max().unwrap_or(0)) };
        ExactlyOnce { salt, settle_ms, quiet_from, recs: BTreeMap::new(), messages: 0, verdict: String::new() }
    }
}

impl Property<Obs> for ExactlyOnce {
    fn name(&self) -> &'static str {
        "exactly-once"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Accepted { campaign } => {
                self.recs.insert(campaign.id, Record::new(*campaign, at));
                None
            }
            Obs::Delivered { campaign, channel, first, users } => {
                let Some(r) = self.recs.get_mut(campaign) else {
                    return Some(format!(
                        "{} delivered campaign #{campaign}, which the API never accepted",
                        channel.name()
                    ));
                };
                let label = who(&r.c);
                let Some(got) = r.got[channel.index()].as_mut() else {
                    return Some(format!("{label} went out on {}, which it does not use", channel.name()));
                };
                let mut dup: Option<(u32, u64)> = None;
                for i in users.ones() {
                    self.messages += 1;
                    let k = first + i - r.c.first;
                    if got.get(k) {
                        let d = dup.get_or_insert((first + i, 0));
                        d.1 += 1;
                    }
                    got.set(k);
                }
                dup.map(|(u, n)| {
                    format!(
                        "user {u} received {label} on {} a second time ({n} duplicates in this delivery)",
                        channel.name()
                    )
                })
            }
        }
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        let end_ms = end.now.as_ms() as u64;
        let Some(q) = self.quiet_from else {
            self.verdict = format!("{} messages, no duplicate; loss not judged (a fault never ends)", self.messages);
            return None;
        };
        let (mut judged, mut owed_n, mut missing) = (0u64, 0u64, 0u64);
        let mut first_miss: Option<String> = None;
        for r in self.recs.values() {
            let from = (r.at.as_ms() as u64).max(q);
            if from + self.settle_ms > end_ms {
                continue;
            }
            judged += 1;
            for ch in Channel::ALL {
                let Some(got) = &r.got[ch.index()] else { continue };
                for i in 0..r.c.count {
                    let p = Prefs::of(self.salt, r.c.first + i);
                    if owed(&p, &r.c, ch) {
                        owed_n += 1;
                        if !got.get(i) {
                            missing += 1;
                            if first_miss.is_none() {
                                first_miss = Some(format!(
                                    "user {} never received {} on {}",
                                    r.c.first + i,
                                    who(&r.c),
                                    ch.name()
                                ));
                            }
                        }
                    }
                }
            }
        }
        if let Some(m) = first_miss {
            return Some(format!("{m}: {missing} of {owed_n} owed messages missing at the end"));
        }
        self.verdict = format!(
            "{} messages, no duplicate; all {owed_n} owed messages of {judged} sends arrived (of {} accepted)",
            self.messages,
            self.recs.len()
        );
        None
    }
    fn samples(&self) -> u64 {
        self.messages
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
}

#[derive(Clone)]
pub struct OptOutRespected {
    salt: u64,
    sends: BTreeMap<u32, Campaign>,
    messages: u64,
}

impl OptOutRespected {
    pub fn new(salt: u64) -> OptOutRespected {
        OptOutRespected { salt, sends: BTreeMap::new(), messages: 0 }
    }
}

impl Property<Obs> for OptOutRespected {
    fn name(&self) -> &'static str {
        "opt-out-respected"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Accepted { campaign } => {
                self.sends.insert(campaign.id, *campaign);
                None
            }
            Obs::Delivered { campaign, channel, first, users } => {
                let c = self.sends.get(campaign)?;
                let mut bad: Option<(u32, String, u64)> = None;
                for i in users.ones() {
                    self.messages += 1;
                    let u = first + i;
                    if let Some(why) = why_not(&Prefs::of(self.salt, u), c, *channel) {
                        bad.get_or_insert((u, why, 0)).2 += 1;
                    }
                }
                bad.map(|(u, why, n)| {
                    format!(
                        "user {u} got {} on {} but is {why} ({n} such users in this delivery)",
                        c.label(),
                        channel.name()
                    )
                })
            }
        }
    }
    fn samples(&self) -> u64 {
        self.messages
    }
    fn summary(&self) -> String {
        format!("{} messages delivered, each to a user who wanted it on that channel at that hour", self.messages)
    }
}

#[derive(Clone, Debug)]
struct Progress {
    at: SimTime,
    owed: u64,
    got: u64,
    done: Option<SimTime>,
    txn: bool,
    label: String,
}

#[derive(Clone)]
pub struct FanoutSlo {
    salt: u64,
    slo_ms: u64,
    windows: Vec<(u64, u64)>,
    recs: BTreeMap<u32, Record>,
    progress: BTreeMap<u32, Progress>,
    judged: u64,
    finished: bool,
    verdict: String,
}

impl FanoutSlo {
    pub fn new(salt: u64, slo_ms: u64, windows: Vec<(u64, u64)>) -> FanoutSlo {
        FanoutSlo {
            salt,
            slo_ms,
            windows,
            recs: BTreeMap::new(),
            progress: BTreeMap::new(),
            judged: 0,
            finished: false,
            verdict: String::new(),
        }
    }
}

impl Property<Obs> for FanoutSlo {
    fn name(&self) -> &'static str {
        "fanout-slo"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Accepted { campaign: c } => {
                let mut n = 0u64;
                for i in 0..c.count {
                    let p = Prefs::of(self.salt, c.first + i);
                    n += Channel::ALL.iter().filter(|&&ch| owed(&p, c, ch)).count() as u64;
                }
                let done = (n == 0).then_some(at);
                self.progress.insert(c.id, Progress { at, owed: n, got: 0, done, txn: c.txn, label: c.label() });
                self.recs.insert(c.id, Record::new(*c, at));
            }
            Obs::Delivered { campaign, channel, first, users } => {
                let (Some(r), Some(pr)) = (self.recs.get_mut(campaign), self.progress.get_mut(campaign)) else {
                    return None;
                };
                let got = r.got[channel.index()].as_mut()?;
                for i in users.ones() {
                    let k = first + i - r.c.first;
                    if !got.get(k) && owed(&Prefs::of(self.salt, first + i), &r.c, *channel) {
                        got.set(k);
                        pr.got += 1;
                    }
                }
                if pr.done.is_none() && pr.got == pr.owed {
                    pr.done = Some(at);
                }
            }
        }
        None
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        let end_ms = end.now.as_ms() as u64;
        self.finished = true;
        let mut late: Vec<String> = Vec::new();
        let mut worst = 0.0f64;
        for pr in self.progress.values() {
            let limit = if pr.txn { TXN_SLO_MS } else { self.slo_ms };
            let (a, b) = (pr.at.as_ms() as u64, pr.at.as_ms() as u64 + limit);
            if b > end_ms || self.windows.iter().any(|&(s, e)| s < b && e > a) {
                continue;
            }
            self.judged += 1;
            let took = pr.done.map(|d| d.since(pr.at).as_ms());
            worst = worst.max(took.unwrap_or(f64::INFINITY));
            if took.is_none_or(|t| t > limit as f64) {
                let what = match took {
                    Some(t) => format!("took {t:.0} ms"),
                    None => format!("reached {} of {} recipients by the end", pr.got, pr.owed),
                };
                late.push(format!("{} {what} (SLO {limit} ms)", pr.label));
            }
        }
        if let Some(first) = late.first() {
            return Some(format!("{first}; {} of {} judged sends late", late.len(), self.judged));
        }
        self.verdict = if self.judged == 0 {
            "no send's SLO window was clear of faults and inside the run".into()
        } else {
            format!("{} sends judged, slowest done in {worst:.0} ms", self.judged)
        };
        None
    }
    fn samples(&self) -> u64 {
        // Until the end, the sends seen; after it, only those actually judged.
        if self.finished {
            self.judged
        } else {
            self.progress.len() as u64
        }
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
}
