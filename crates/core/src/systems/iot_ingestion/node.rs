//! The actor of the IoT ingestion world: one enum over its roles, declared in the order
//! readings flow (devices and the attacker, gateways, broker, writer), so the topology
//! draws them left to right. The broker and writer keep the default `on_crash`: their
//! state is on disk.

use super::attacker::Attacker;
use super::broker::Broker;
use super::fleet::Fleet;
use super::gateway::Gateway;
use super::msg::{Msg, Obs};
use super::writer::Writer;

crate::roles! {
    pub enum Node: Msg, Obs {
        Fleet(Box<Fleet>),
        Attacker(Attacker),
        Gateway(Box<Gateway>),
        Broker(Box<Broker>),
        Writer(Box<Writer>),
    }
}
