//! The actor of the checkout world: one enum over its five roles, declared in the direction
//! an order flows (buyers, order service, warehouse, card network, ledger). The order
//! service is boxed: it is much larger than the others.

use super::buyers::Buyers;
use super::inventory::Warehouse;
use super::ledger::Ledger;
use super::msg::{Msg, Obs};
use super::network::Network;
use super::orders::Orders;

crate::roles! {
    pub enum Node: Msg, Obs {
        Buyers(Box<Buyers>),
        Orders(Box<Orders>),
        Warehouse(Box<Warehouse>),
        Network(Network),
        Ledger(Ledger),
    }
}
