//! The actor type of this system: one enum over its three roles, so one world holds them.
//! Each role is an `Actor` of its own; `roles!` writes the dispatch. The store's data is
//! durable but its queue is not (see store.rs); clients are never crashed by a swarm.

use super::client::Client;
use super::gateway::Gateway;
use super::msg::{Msg, Obs};
use super::store::Store;

crate::roles! {
    pub enum Node: Msg, Obs {
        Client(Client),
        Gateway(Gateway),
        Store(Store),
    }
}
