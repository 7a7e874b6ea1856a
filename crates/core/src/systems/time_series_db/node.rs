//! The actor of the time-series world: one enum over its roles, in the direction a write
//! flows (scraper, database, disk); `roles!` writes the dispatch.

use super::db::Db;
use super::disk::Disk;
use super::msg::{Msg, Obs};
use super::scraper::Scraper;

crate::roles! {
    pub enum Node: Msg, Obs {
        Scraper(Box<Scraper>),
        Db(Box<Db>),
        Disk(Disk),
    }
}
