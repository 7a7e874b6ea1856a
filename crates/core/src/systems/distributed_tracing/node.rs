//! The actor of the tracing world: one enum over its four roles, declared in the direction
//! requests and spans flow (users, services, collector, storage).

use super::client::Client;
use super::collector::Collector;
use super::msg::{Msg, Obs};
use super::service::Service;
use super::storage::Storage;

crate::roles! {
    pub enum Node: Msg, Obs {
        Client(Client),
        Service(Box<Service>),
        Collector(Box<Collector>),
        Storage(Storage),
    }
}
