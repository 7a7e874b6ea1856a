//! The two properties of a distributed cron, each judged against records the checks keep
//! themselves, never against the scheduler's own bookkeeping:
//!
//! - **The fire list** is computed at build time by testing every minute of the run's
//!   true time against each job's expression (`jobs::fires_by_scan`) — not by the
//!   field-skipping `next_after` the schedulers use. An effect is for a real fire if its
//!   minute passes the same per-minute test (a scheduler with a fast clock may fire a
//!   minute the run never reaches in true time).
//! - **What happened** comes from observations made where each fact arises: the target
//!   reports every effect it applies (the full history of effects), workers every job
//!   failure, schedulers every dispatch, all stamped with true time.
//! - **What went wrong** is the scenario's fault plan (`outage`), not anything a node
//!   believed.
//!
//! `exactly-once-per-fire` (safety): no fire takes effect twice, and no effect is for a
//! minute that is not a fire of its job. Judged the instant the second effect lands.
//!
//! `no-missed-fire` (liveness, judged at the end): every fire due before the workload ends
//! has settled — taken effect, or failed `retries + 1` times at workers (the job's own
//! failures, which no scheduler can fix) — and its first dispatch came by
//! `max(due, recovered) + deadline`, where `recovered` is when the service was back if the
//! fire fell in an outage window. Under the skip policy a fire may instead go unrun if its
//! deadline passed inside an outage window: the skipped fires must be a subset of those.
//! Timing is not judged once a scheduler's or the coordinator's clock has been skewed.

use super::jobs::{self, Job, MS_PER_MINUTE};
use super::msg::{token_text, FireId, Obs};
use super::outage::Outages;
use crate::blocks::cron::Civil;
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

fn name(names: &[String], id: NodeId) -> String {
    names.get(id as usize).cloned().unwrap_or_else(|| format!("#{id}"))
}

/// "sync 23:04".
fn fire_text(job_names: &[&'static str], f: FireId) -> String {
    let job = job_names.get(f.job as usize).copied().unwrap_or("?");
    format!("{job} {}", jobs::clock(f.minute))
}

/// One applied effect, as first seen.
#[derive(Clone, Debug)]
struct Effect {
    at: SimTime,
    token: u64,
    worker: NodeId,
    dispatcher: NodeId,
}

#[derive(Clone)]
pub struct ExactlyOncePerFire {
    jobs: Vec<Job>,
    job_names: Vec<&'static str>,
    first: BTreeMap<FireId, Effect>,
    effects: u64,
    names: Vec<String>,
}

impl ExactlyOncePerFire {
    pub fn new(jobs: Vec<Job>, names: Vec<String>) -> ExactlyOncePerFire {
        ExactlyOncePerFire {
            job_names: jobs.iter().map(|j| j.name).collect(),
            jobs,
            first: BTreeMap::new(),
            effects: 0,
            names,
        }
    }

    fn who(&self, e: &Effect) -> String {
        format!(
            "{} (dispatched by {}, token {}) at {}",
            name(&self.names, e.worker),
            name(&self.names, e.dispatcher),
            token_text(e.token),
            e.at
        )
    }
}

impl Property<Obs> for ExactlyOncePerFire {
    fn name(&self) -> &'static str {
        "exactly-once-per-fire"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Applied { fire, token, worker, dispatcher, .. } = *obs else { return None };
        self.effects += 1;
        let e = Effect { at, token, worker, dispatcher };
        let start = jobs::start_minute();
        let is_fire = self
            .jobs
            .get(fire.job as usize)
            .is_some_and(|j| j.schedule.matches(Civil::from_unix_minutes(start + fire.minute)));
        if !is_fire {
            return Some(format!(
                "{} took effect by {}, but minute {} is not a fire time of that job",
                fire_text(&self.job_names, fire),
                self.who(&e),
                fire.minute
            ));
        }
        match self.first.get(&fire) {
            Some(before) => Some(format!(
                "{} took effect twice: by {}, and again by {}",
                fire_text(&self.job_names, fire),
                self.who(before),
                self.who(&e)
            )),
            None => {
                self.first.insert(fire, e);
                None
            }
        }
    }
    fn samples(&self) -> u64 {
        self.effects
    }
    fn summary(&self) -> String {
        format!("{} effects, each for a distinct fire of its job's expression", self.effects)
    }
}

/// What the run did for one fire.
#[derive(Clone, Debug, Default)]
struct Seen {
    first_dispatch: Option<SimTime>,
    effects: u32,
    failures: BTreeSet<u64>,
}

#[derive(Clone)]
pub struct NoMissedFire {
    /// (fire, when it was due in true time), every fire due before the workload ends.
    due: Vec<(FireId, SimTime)>,
    seen: BTreeMap<FireId, Seen>,
    job_names: Vec<&'static str>,
    outages: Outages,
    skip: bool,
    deadline_ms: u64,
    retries: u32,
    judged: u64,
    verdict: String,
}

impl NoMissedFire {
    pub fn new(
        fires: &[Vec<i64>],
        workload_end: SimTime,
        job_names: Vec<&'static str>,
        outages: Outages,
        skip: bool,
        deadline_ms: u64,
        retries: u32,
    ) -> NoMissedFire {
        let mut due = Vec::new();
        for (j, minutes) in fires.iter().enumerate() {
            for &k in minutes {
                let at = SimTime::from_ms(k.max(0) as u64 * MS_PER_MINUTE);
                if at < workload_end {
                    due.push((FireId { job: j as u8, minute: k }, at));
                }
            }
        }
        due.sort_by_key(|&(f, at)| (at, f));
        NoMissedFire {
            due,
            seen: BTreeMap::new(),
            job_names,
            outages,
            skip,
            deadline_ms,
            retries,
            judged: 0,
            verdict: String::new(),
        }
    }

    fn plus_deadline(&self, t: SimTime) -> SimTime {
        SimTime(t.0 + self.deadline_ms * 1_000)
    }
}

impl Property<Obs> for NoMissedFire {
    fn name(&self) -> &'static str {
        "no-missed-fire"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Dispatched { fire, .. } => {
                let s = self.seen.entry(fire).or_default();
                s.first_dispatch.get_or_insert(at);
            }
            Obs::Applied { fire, .. } => self.seen.entry(fire).or_default().effects += 1,
            Obs::JobFailed { fire, run } => {
                self.seen.entry(fire).or_default().failures.insert(run);
            }
        }
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let mut problems: Vec<String> = Vec::new();
        let (mut skipped, mut late_ok) = (0u64, 0u64);
        let empty = Seen::default();
        for &(fire, due) in &self.due {
            self.judged += 1;
            let seen = self.seen.get(&fire).unwrap_or(&empty);
            let back = self.outages.recovered(due);
            let by = self.plus_deadline(due.max(back));
            let clocks_true = self.outages.skew_from.is_none_or(|k| by < k);
            // Skip policy: the deadline passed while the service was down (or clocks lied).
            let may_skip = self.skip && (self.plus_deadline(due) < back || !clocks_true);
            let settled = seen.effects > 0 || seen.failures.len() as u64 > u64::from(self.retries);
            let what = fire_text(&self.job_names, fire);
            if !settled {
                if may_skip {
                    skipped += 1;
                    continue;
                }
                let how = match seen.first_dispatch {
                    Some(d) => format!("dispatched at {d}, but it never took effect"),
                    None => "never dispatched".to_string(),
                };
                let excuse = if self.skip { " (its deadline did not pass inside an outage)" } else { "" };
                problems.push(format!("{what} (due {due}) was missed: {how}{excuse}"));
                continue;
            }
            if back > due {
                late_ok += 1;
            }
            if let (Some(d), true) = (seen.first_dispatch, clocks_true) {
                if d > by && !may_skip {
                    problems.push(format!("{what} (due {due}) was first dispatched at {d}, after {by}"));
                }
            }
        }
        self.verdict = format!(
            "{} fires judged: all settled in time ({late_ok} due during an outage, {skipped} skipped inside one){}",
            self.judged,
            if self.outages.skew_from.is_some() { "; timing not judged after a clock skew" } else { "" }
        );
        let first = problems.first()?;
        let more = if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() };
        Some(format!("{first}{more}"))
    }
    fn samples(&self) -> u64 {
        self.due.len() as u64
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
}
