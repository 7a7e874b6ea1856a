//! The actor of the geo-search world: one enum over its roles, in the direction requests
//! flow — riders' apps and drivers' phones on the left, the router, the index shards.

use super::client::Client;
use super::fleet::Fleet;
use super::msg::{Msg, Obs};
use super::router::Router;
use super::shard::Shard;

crate::roles! {
    pub enum Node: Msg, Obs {
        Client(Client),
        Fleet(Box<Fleet>),
        Router(Box<Router>),
        Shard(Box<Shard>),
    }
}
