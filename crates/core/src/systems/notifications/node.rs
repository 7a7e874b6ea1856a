//! The actor of the notification world: one enum over the four roles.

use super::api::Api;
use super::msg::{Msg, Obs};
use super::provider::Provider;
use super::queue::Queue;
use super::worker::Worker;

crate::roles! {
    pub enum Node: Msg, Obs {
        Api(Api),
        Queue(Queue),
        Worker(Worker),
        Provider(Provider),
    }
}
