//! The actor of the object-storage world: one enum over its roles in the direction a
//! request flows (client, front end with the metadata service, storage nodes).

use super::client::Client;
use super::frontend::Frontend;
use super::msg::{Msg, Obs};
use super::storage::Storage;

crate::roles! {
    pub enum Node: Msg, Obs {
        Client(Box<Client>),
        Frontend(Box<Frontend>),
        Storage(Box<Storage>),
    }
}
