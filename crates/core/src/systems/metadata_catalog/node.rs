//! The actor of the metadata-catalog world: one enum over its roles, in the direction
//! requests flow (writers, users and the admin call the catalog; the catalog queries the
//! search index). `roles!` writes the dispatch.

use super::admin::Admin;
use super::catalog::Catalog;
use super::index::Index;
use super::msg::{Msg, Obs};
use super::user::User;
use super::writer::Writer;

crate::roles! {
    pub enum Node: Msg, Obs {
        Writer(Box<Writer>),
        User(Box<User>),
        Admin(Admin),
        Catalog(Box<Catalog>),
        Index(Box<Index>),
    }
}
