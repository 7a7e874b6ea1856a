//! The target: the system the jobs act on (the database a report is written to, the
//! billing API a charge goes through). Each run makes one write, its *effect*; the target
//! keeps every effect it applies (durably) and reports each one, which is the history
//! `exactly-once-per-fire` is judged on.
//!
//! How much it checks depends on the design:
//! - **Blind** — it applies whatever arrives, as most resources do.
//! - **Claim only** — a run first *claims* its fire (an insert keyed by job and minute);
//!   the claim is refused once the fire has taken effect, but the effect itself is an
//!   ordinary write. A run that claimed, stalled, and came back after a retry had claimed
//!   and finished still lands: the fire takes effect twice.
//! - **Fenced** — the claim also records the attempt's token, and both the claim and the
//!   effect are refused if a higher token has claimed the fire since (the fencing check of
//!   Kleppmann's "How to do distributed locking", 2016, keyed by fire). A stale attempt —
//!   from a deposed leader or a timed-out run — can no longer act once a newer one began,
//!   and a newer one cannot begin once an older one landed.

use super::msg::{FireId, Msg, Obs, Refusal};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Rows kept for the view.
const LOG_ROWS: usize = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Blind,
    ClaimOnly,
    Fenced,
}

/// What the target remembers about one fire.
#[derive(Clone, Copy, Debug, Default)]
pub struct Record {
    /// Highest token that claimed it.
    pub max_token: u64,
    pub claimed: bool,
    /// The token whose effect was applied, if any.
    pub applied: Option<u64>,
    /// Effects applied for it (more than one only when the target does not prevent it).
    pub effects: u32,
}

/// One applied or refused request, for the view.
#[derive(Clone, Debug)]
pub struct LogRow {
    pub at_ms: f64,
    pub fire: FireId,
    pub worker: NodeId,
    pub token: u64,
    pub what: String,
}

#[derive(Clone, Debug)]
pub struct Target {
    pub mode: Mode,
    pub records: BTreeMap<FireId, Record>,
    pub applied: u64,
    pub refused: u64,
    pub log: Vec<LogRow>,
}

impl Target {
    pub fn new(mode: Mode) -> Target {
        Target { mode, records: BTreeMap::new(), applied: 0, refused: 0, log: Vec::new() }
    }

    /// Whether a claim is accepted (and records it if so).
    pub fn claim(&mut self, fire: FireId, token: u64) -> Result<(), Refusal> {
        let r = self.records.entry(fire).or_default();
        match self.mode {
            Mode::Blind => Ok(()),
            Mode::ClaimOnly | Mode::Fenced => {
                if self.mode == Mode::Fenced && token < r.max_token {
                    return Err(Refusal::Stale);
                }
                if r.applied.is_some() {
                    return Err(Refusal::AlreadyDone);
                }
                r.claimed = true;
                r.max_token = r.max_token.max(token);
                Ok(())
            }
        }
    }

    /// Whether an effect is applied; `Ok(false)` is a repeat of the effect already applied
    /// under the same token (a retried message), which changes nothing. The effect is an
    /// ordinary write carrying its token: the fenced target checks the token against the
    /// fire's highest claim, not whether the fire already took effect — that was settled
    /// at the claim, which the run had to pass first.
    pub fn effect(&mut self, fire: FireId, token: u64) -> Result<bool, Refusal> {
        let r = self.records.entry(fire).or_default();
        if self.mode == Mode::Fenced {
            if token < r.max_token {
                return Err(Refusal::Stale);
            }
            if r.applied == Some(token) {
                return Ok(false);
            }
        }
        r.applied = Some(token);
        r.effects += 1;
        Ok(true)
    }

    fn note(&mut self, at_ms: f64, fire: FireId, worker: NodeId, token: u64, what: String) {
        self.log.push(LogRow { at_ms, fire, worker, token, what });
        if self.log.len() > LOG_ROWS {
            self.log.remove(0);
        }
    }
}

impl Actor for Target {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let at_ms = ctx.now().as_ms();
        match msg {
            Msg::Claim { run, fire, token } => match self.claim(fire, token) {
                Ok(()) => ctx.send(from, Msg::ClaimOk { run }),
                Err(why) => {
                    self.refused += 1;
                    self.note(at_ms, fire, from, token, format!("claim refused: {why:?}"));
                    ctx.send(from, Msg::Refused { run, why });
                }
            },
            Msg::Effect { run, fire, token, dispatcher } => match self.effect(fire, token) {
                Ok(fresh) => {
                    if fresh {
                        self.applied += 1;
                        let n = self.records.get(&fire).map_or(1, |r| r.effects);
                        let what = if n > 1 { format!("applied (effect #{n})") } else { "applied".into() };
                        self.note(at_ms, fire, from, token, what);
                        ctx.observe(Obs::Applied { fire, run, token, worker: from, dispatcher });
                    }
                    ctx.send(from, Msg::EffectOk { run });
                }
                Err(why) => {
                    self.refused += 1;
                    self.note(at_ms, fire, from, token, format!("effect refused: {why:?}"));
                    ctx.send(from, Msg::Refused { run, why });
                }
            },
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} effects · {} refused", self.applied, self.refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One attempt's steps: claim, then (if the claim passed) its effect, then maybe a
    /// resent copy of the effect (a retry after a lost reply).
    #[derive(Clone, Copy)]
    struct Attempt {
        token: u64,
        step: u8,
        claimed: bool,
    }

    /// Every interleaving of the attempts' steps; returns the most effects one fire got.
    fn worst(attempts: &[Attempt], t: &Target) -> u32 {
        let fire = FireId { job: 0, minute: 0 };
        let mut most = t.records.get(&fire).map_or(0, |r| r.effects);
        for i in 0..attempts.len() {
            let a = attempts[i];
            if a.step >= 3 || (a.step >= 1 && !a.claimed) {
                continue;
            }
            let (mut t2, mut next) = (t.clone(), attempts.to_vec());
            match a.step {
                0 => next[i].claimed = t2.claim(fire, a.token).is_ok(),
                _ => {
                    let _ = t2.effect(fire, a.token);
                }
            }
            next[i].step += 1;
            most = most.max(worst(&next, &t2));
        }
        most
    }

    fn attempts(n: u64) -> Vec<Attempt> {
        (1..=n).map(|token| Attempt { token, step: 0, claimed: false }).collect()
    }

    /// Exhaustively, over every interleaving of three attempts (tokens 1, 2, 3) with a
    /// resent effect each: the fenced target never applies a fire twice; the claim-only and
    /// blind targets can.
    #[test]
    fn only_the_fenced_target_applies_at_most_once_in_every_interleaving() {
        for (mode, bound) in [(Mode::Fenced, 1), (Mode::ClaimOnly, 2), (Mode::Blind, 2)] {
            let most = worst(&attempts(3), &Target::new(mode));
            if mode == Mode::Fenced {
                assert_eq!(most, bound, "{mode:?}");
            } else {
                assert!(most >= bound, "{mode:?}: at most {most}");
            }
        }
    }
}
