//! The actor of the event-driven world: one enum over its roles; `roles!` writes the
//! dispatch.

use super::bus::Bus;
use super::msg::{Msg, Obs};
use super::registry::Registry;
use super::relay::Relay;
use super::service::Service;

crate::roles! {
    pub enum Node: Msg, Obs {
        Service(Box<Service>),
        Bus(Bus),
        Relay(Relay),
        Registry(Registry),
    }
}
