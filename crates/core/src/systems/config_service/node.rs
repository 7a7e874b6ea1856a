//! The actor of the config-service world: one enum over its three roles (replica,
//! client, watcher); `roles!` writes the dispatch. Replicas and clients are boxed: they
//! are much larger than a watcher.

use super::client::Client;
use super::msg::{Msg, Obs};
use super::replica::Replica;
use super::watcher::Watcher;

crate::roles! {
    pub enum Node: Msg, Obs {
        Replica(Box<Replica>),
        Client(Box<Client>),
        Watcher(Watcher),
    }
}
