//! The actor of the payment-gateway world: one enum over its four roles, declared in the
//! direction a payment flows (merchants, gateway, card network, ledger); `roles!` writes
//! the dispatch. The gateway is boxed: it is much larger than the others.

use super::gateway::Gateway;
use super::ledger::Ledger;
use super::merchant::Merchant;
use super::msg::{Msg, Obs};
use super::network::Network;

crate::roles! {
    pub enum Node: Msg, Obs {
        Merchant(Box<Merchant>),
        Gateway(Box<Gateway>),
        Network(Network),
        Ledger(Ledger),
    }
}
