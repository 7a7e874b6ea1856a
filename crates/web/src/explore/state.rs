//! What the explore panel shows, as a reducer over the worker's messages and the user's
//! clicks. Kept apart from the component so the transitions (especially around a worker
//! that dies) read in one place and are tested natively.

use super::protocol::FromWorker;
use std::rc::Rc;
use yew::Reducible;

/// Restarts in a row, without one good message in between, before the panel gives up
/// restarting (a worker that cannot even load would otherwise restart forever).
pub const MAX_RESTARTS_IN_ROW: u32 = 3;

#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub seed: u64,
    pub check: String,
    pub detail: String,
    pub link: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepState {
    pub running: bool,
    pub done: u64,
    pub total: u64,
    /// The first seed of the current (or last) sweep.
    pub from: u64,
    pub hit: Option<Hit>,
    /// The last sweep ran to its end (with or without a hit).
    pub finished: bool,
    pub cancelled: bool,
    pub error: Option<String>,
    /// How many times the worker died; the component restarts it when this changes.
    pub deaths: u32,
    pub failures_in_row: u32,
    /// Why the worker was last restarted (or given up on), shown until the next sweep.
    pub notice: Option<String>,
}

pub enum Action {
    Started { from: u64, total: u64 },
    Message(FromWorker),
    Cancelled,
    WorkerDied(String),
    Failed(String),
}

impl SweepState {
    /// Whether the component should start a fresh worker after the latest death.
    pub fn should_restart(&self) -> bool {
        self.deaths > 0 && self.failures_in_row <= MAX_RESTARTS_IN_ROW
    }
}

impl Reducible for SweepState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Started { from, total } => {
                s = SweepState { running: true, from, total, deaths: s.deaths, ..SweepState::default() };
                s.failures_in_row = self.failures_in_row;
            }
            Action::Message(msg) => {
                s.failures_in_row = 0;
                match msg {
                    FromWorker::Ready => {}
                    FromWorker::Progress { done, total } => {
                        s.done = done;
                        s.total = total;
                    }
                    FromWorker::Hit { seed, check, detail, link } => s.hit = Some(Hit { seed, check, detail, link }),
                    FromWorker::Done => {
                        s.running = false;
                        s.finished = true;
                    }
                    FromWorker::Error { message } => {
                        s.running = false;
                        s.error = Some(message);
                    }
                }
            }
            Action::Cancelled => {
                s.running = false;
                s.cancelled = true;
            }
            Action::WorkerDied(why) => {
                s.running = false;
                s.deaths += 1;
                s.failures_in_row += 1;
                s.notice = Some(if s.should_restart() {
                    format!("The sweep worker stopped ({why}). A fresh worker was started; press “Find a failing seed” to sweep again.")
                } else {
                    format!("The sweep worker stopped ({why}) {} times in a row, so it was not restarted. The next sweep tries once more.", s.failures_in_row)
                });
            }
            Action::Failed(why) => {
                s.running = false;
                s.error = Some(why);
            }
        }
        Rc::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(s: Rc<SweepState>, actions: Vec<Action>) -> Rc<SweepState> {
        actions.into_iter().fold(s, |s, a| s.reduce(a))
    }

    #[test]
    fn a_sweep_runs_to_a_hit() {
        let s = apply(
            Rc::default(),
            vec![
                Action::Started { from: 1, total: 10 },
                Action::Message(FromWorker::Progress { done: 4, total: 10 }),
                Action::Message(FromWorker::Hit { seed: 4, check: "c".into(), detail: "d".into(), link: "l".into() }),
                Action::Message(FromWorker::Done),
            ],
        );
        assert!(!s.running && s.finished);
        assert_eq!(s.done, 4);
        assert_eq!(s.hit.as_ref().map(|h| h.seed), Some(4));
    }

    #[test]
    fn deaths_restart_until_too_many_in_a_row() {
        let mut s: Rc<SweepState> = Rc::default();
        for n in 1..=MAX_RESTARTS_IN_ROW {
            s = s.reduce(Action::WorkerDied("boom".into()));
            assert!(s.should_restart(), "death {n}");
        }
        s = s.reduce(Action::WorkerDied("boom".into()));
        assert!(!s.should_restart());
        assert!(s.notice.as_deref().unwrap().contains("not restarted"));
        let s = apply(s, vec![Action::Message(FromWorker::Done), Action::WorkerDied("x".into())]);
        assert!(s.should_restart());
        assert_eq!(s.deaths, MAX_RESTARTS_IN_ROW + 2);
    }
}
