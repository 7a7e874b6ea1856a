//! The actor of the video-streaming world: one enum over its roles, declared in the
//! direction a viewer's request flows (players, edges, shield, origin) and then back up the
//! upload pipeline (transcoders, queue, uploader); `roles!` writes the dispatch.

use super::cdn::Cache;
use super::msg::{Msg, Obs};
use super::origin::Origin;
use super::player::Player;
use super::queue::Queue;
use super::transcoder::Transcoder;
use super::uploader::Uploader;

crate::roles! {
    pub enum Node: Msg, Obs {
        Player(Box<Player>),
        Edge(Box<Cache>),
        Shield(Box<Cache>),
        Origin(Box<Origin>),
        Transcoder(Transcoder),
        Queue(Box<Queue>),
        Uploader(Box<Uploader>),
    }
}
