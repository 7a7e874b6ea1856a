//! A worker runs fires it is sent: claim the fire at the target, run the job for
//! `run_ms`, then either fail (with probability `fail_pct`, no effect) or write the effect
//! and report back. It runs any number of fires at once (a process pool). A request the
//! target does not answer is resent a few times, then the run is reported unreachable.
//! A crash loses every run in progress; a pause freezes them, and they carry on after it
//! exactly where they were — which is how a stale attempt comes to write late.

use super::msg::{FireId, Msg, Obs, Outcome, Refusal};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;

const TAG_TIMEOUT: u64 = 1;
const TAG_FINISHED: u64 = 2;
/// Wait for the target's answer, and how often to ask.
pub const REQUEST_TIMEOUT_MS: u64 = 20;
pub const REQUEST_TRIES: u32 = 3;
/// Spans kept for the timeline.
const MAX_SPANS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Claiming,
    Running,
    Writing,
}

#[derive(Clone, Debug)]
struct Run {
    slot: u64,
    run: u64,
    fire: FireId,
    token: u64,
    from: NodeId,
    step: Step,
    tries: u32,
}

/// One run, for the view: when it started and ended, and how.
#[derive(Clone, Debug)]
pub struct RunSpan {
    pub start_ms: f64,
    pub end_ms: Option<f64>,
    pub fire: FireId,
    pub token: u64,
    pub outcome: Option<Outcome>,
}

#[derive(Clone, Debug)]
pub struct Worker {
    pub target: NodeId,
    pub run_ms: u64,
    pub fail_pct: u64,
    runs: Vec<Run>,
    next_slot: u64,
    pub spans: Vec<RunSpan>,
    pub completed: u64,
}

impl Worker {
    pub fn new(target: NodeId, run_ms: u64, fail_pct: u64) -> Worker {
        Worker { target, run_ms, fail_pct, runs: Vec::new(), next_slot: 0, spans: Vec::new(), completed: 0 }
    }

    fn request(&self, r: &Run, ctx: &mut Ctx<'_, Msg, Obs>) {
        let msg = match r.step {
            Step::Claiming => Msg::Claim { run: r.run, fire: r.fire, token: r.token },
            Step::Writing => Msg::Effect { run: r.run, fire: r.fire, token: r.token, dispatcher: r.from },
            Step::Running => return,
        };
        ctx.send(self.target, msg);
        ctx.set_timer(SimDuration::from_ms(REQUEST_TIMEOUT_MS), r.slot << 8 | u64::from(r.tries) << 4 | TAG_TIMEOUT);
    }

    /// Ends run `i`: tells its scheduler and closes its span.
    fn finish(&mut self, i: usize, outcome: Outcome, ctx: &mut Ctx<'_, Msg, Obs>) {
        let r = self.runs.remove(i);
        ctx.send(r.from, Msg::RunDone { run: r.run, fire: r.fire, outcome });
        self.completed += 1;
        if let Some(s) =
            self.spans.iter_mut().rev().find(|s| s.fire == r.fire && s.token == r.token && s.end_ms.is_none())
        {
            s.end_ms = Some(ctx.now().as_ms());
            s.outcome = Some(outcome);
        }
    }

    fn by_run(&self, run: u64) -> Option<usize> {
        self.runs.iter().position(|r| r.run == run)
    }
}

impl Actor for Worker {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Run { run, fire, token } => {
                if self.by_run(run).is_some() {
                    return; // a duplicated message
                }
                self.next_slot += 1;
                let r = Run { slot: self.next_slot, run, fire, token, from, step: Step::Claiming, tries: 0 };
                self.request(&r, ctx);
                self.runs.push(r);
                self.spans.push(RunSpan { start_ms: ctx.now().as_ms(), end_ms: None, fire, token, outcome: None });
                if self.spans.len() > MAX_SPANS {
                    self.spans.remove(0);
                }
            }
            Msg::ClaimOk { run } => {
                let Some(i) = self.by_run(run).filter(|&i| self.runs[i].step == Step::Claiming) else { return };
                self.runs[i].step = Step::Running;
                ctx.set_timer(SimDuration::from_ms(self.run_ms), self.runs[i].slot << 8 | TAG_FINISHED);
            }
            Msg::EffectOk { run } => {
                if let Some(i) = self.by_run(run).filter(|&i| self.runs[i].step == Step::Writing) {
                    self.finish(i, Outcome::Applied, ctx);
                }
            }
            Msg::Refused { run, why } => {
                if let Some(i) = self.by_run(run).filter(|&i| self.runs[i].step != Step::Running) {
                    self.finish(i, Outcome::Refused(why), ctx);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let slot = tag >> 8;
        let Some(i) = self.runs.iter().position(|r| r.slot == slot) else { return };
        match tag & 0xf {
            TAG_FINISHED if self.runs[i].step == Step::Running => {
                if ctx.rng.chance(self.fail_pct as f64 / 100.0) {
                    let r = &self.runs[i];
                    ctx.observe(Obs::JobFailed { fire: r.fire, run: r.run });
                    self.finish(i, Outcome::Failed, ctx);
                    return;
                }
                self.runs[i].step = Step::Writing;
                self.runs[i].tries = 0;
                let r = self.runs[i].clone();
                self.request(&r, ctx);
            }
            TAG_TIMEOUT if u64::from(self.runs[i].tries) == (tag >> 4 & 0xf) && self.runs[i].step != Step::Running => {
                self.runs[i].tries += 1;
                if self.runs[i].tries >= REQUEST_TRIES {
                    self.finish(i, Outcome::Unreachable, ctx);
                } else {
                    let r = self.runs[i].clone();
                    self.request(&r, ctx);
                }
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.runs.clear();
        for s in self.spans.iter_mut().filter(|s| s.end_ms.is_none()) {
            s.end_ms = Some(s.start_ms);
        }
    }

    fn describe(&self) -> String {
        format!("{} running · {} done", self.runs.len(), self.completed)
    }
}

/// Whether an outcome means the fire is settled for its scheduler.
pub fn settles(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Applied | Outcome::Refused(Refusal::AlreadyDone | Refusal::Stale))
}
