//! The actor of the distributed-lock world: one enum over the four roles (worker, single
//! lock server or Redlock instance, consensus replica, storage), so one `World` holds them
//! all and the kernel stays generic.

use super::msg::{Msg, Obs};
use super::raft::Replica;
use super::server::LockServer;
use super::storage::Storage;
use super::worker::Worker;
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;

#[derive(Clone, Debug)]
pub enum Node {
    Worker(Worker),
    Server(LockServer),
    Replica(Replica),
    Storage(Storage),
}

impl Actor for Node {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self {
            Node::Worker(w) => w.on_start(ctx),
            Node::Replica(r) => r.on_start(ctx),
            Node::Server(_) | Node::Storage(_) => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self {
            Node::Worker(w) => w.on_message(from, msg, ctx),
            Node::Server(s) => s.on_message(from, msg, ctx),
            Node::Replica(r) => r.on_message(from, msg, ctx),
            Node::Storage(s) => s.on_message(from, msg, ctx),
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self {
            Node::Worker(w) => w.on_timer(tag, ctx),
            Node::Replica(r) => r.on_timer(tag, ctx),
            Node::Server(_) | Node::Storage(_) => {}
        }
    }

    fn on_crash(&mut self) {
        match self {
            Node::Worker(w) => w.on_crash(),
            Node::Server(s) => s.on_crash(),
            Node::Replica(r) => r.on_crash(),
            // The database is durable.
            Node::Storage(_) => {}
        }
    }

    fn describe(&self) -> String {
        match self {
            Node::Worker(w) => w.describe(),
            Node::Server(s) => s.describe(),
            Node::Replica(r) => r.describe(),
            Node::Storage(s) => s.describe(),
        }
    }
}
