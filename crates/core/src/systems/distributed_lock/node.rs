//! The actor of the distributed-lock world: one enum over the four roles (worker, single
//! lock server or Redlock instance, consensus replica, storage), so one `World` holds them
//! all and the kernel stays generic. Each role is an `Actor` of its own; `roles!` writes
//! the dispatch. The storage keeps the default `on_crash` (it is durable).

use super::msg::{Msg, Obs};
use super::raft::Replica;
use super::server::LockServer;
use super::storage::Storage;
use super::worker::Worker;

crate::roles! {
    pub enum Node: Msg, Obs {
        Worker(Worker),
        Server(LockServer),
        Replica(Replica),
        Storage(Storage),
    }
}
