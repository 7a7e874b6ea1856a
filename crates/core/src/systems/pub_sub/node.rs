//! The actor of the pub-sub world: one enum over its five roles. Brokers keep their
//! replica logs and high-watermark checkpoints across a crash (disk); producers and
//! consumers lose everything but their configuration.

use super::broker::Broker;
use super::consumer::Consumer;
use super::controller::Controller;
use super::msg::{Msg, Obs};
use super::producer::Producer;
use super::sink::Sink;

crate::roles! {
    pub enum Node: Msg, Obs {
        Producer(Producer),
        Broker(Box<Broker>),
        Controller(Box<Controller>),
        Consumer(Consumer),
        Sink(Sink),
    }
}
