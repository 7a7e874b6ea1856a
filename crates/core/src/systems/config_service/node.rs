//! The actor of the config-service world: one enum over its three roles (replica,
//! client, watcher); `roles!` writes the dispatch.

use super::client::Client;
use super::msg::{Msg, Obs};
use super::replica::Replica;
use super::watcher::Watcher;

crate::roles! {
    pub enum Node: Msg, Obs {
        Replica(Replica),
        Client(Client),
        Watcher(Watcher),
    }
}
