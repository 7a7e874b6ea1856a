//! The actor of the distributed-transactions world: one enum over the three roles, so one
//! `World` holds them all; `roles!` writes the dispatch.

use super::client::Client;
use super::coordinator::Coordinator;
use super::msg::{Msg, Obs};
use super::participant::Participant;

crate::roles! {
    pub enum Node: Msg, Obs {
        Client(Client),
        Coordinator(Coordinator),
        Participant(Participant),
    }
}
