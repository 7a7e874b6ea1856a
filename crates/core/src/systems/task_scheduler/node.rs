//! The actor of the task-scheduler world: one enum over its four roles. The coordinator
//! and the sink keep what they call durable across a crash; a scheduler keeps nothing.

use super::coord::Coordinator;
use super::msg::{Msg, Obs};
use super::scheduler::Scheduler;
use super::sink::Sink;
use super::worker::Worker;

crate::roles! {
    pub enum Node: Msg, Obs {
        Scheduler(Box<Scheduler>),
        Coordinator(Coordinator),
        Worker(Worker),
        Sink(Sink),
    }
}
