//! The actor of the feature-flag world: one enum over its roles, declared in the
//! direction requests flow — users call app servers (the SDKs), which follow the store,
//! which the admin changes. `roles!` writes the dispatch.

use super::admin::Admin;
use super::msg::{Msg, Obs};
use super::sdk::Sdk;
use super::store::Store;
use super::users::Users;

crate::roles! {
    pub enum Node: Msg, Obs {
        Users(Users),
        Sdk(Box<Sdk>),
        Store(Box<Store>),
        Admin(Admin),
    }
}
