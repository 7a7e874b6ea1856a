//! The actor of the cron-scheduler world: one enum over its four roles. The coordinator
//! and the target keep what they call durable across a crash (their `on_crash` drops only
//! memory); schedulers keep their own progress under the leaderless designs.

use super::coord::Coordinator;
use super::msg::{Msg, Obs};
use super::scheduler::Scheduler;
use super::target::Target;
use super::worker::Worker;

crate::roles! {
    pub enum Node: Msg, Obs {
        Scheduler(Scheduler),
        Coordinator(Coordinator),
        Worker(Worker),
        Target(Target),
    }
}
