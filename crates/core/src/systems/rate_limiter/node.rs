//! The actor type of this system: one enum over its three roles, so one world holds them.

use super::client::Client;
use super::gateway::Gateway;
use super::msg::{Msg, Obs};
use super::store::Store;
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;

#[derive(Clone, Debug)]
pub enum Node {
    Client(Client),
    Gateway(Gateway),
    Store(Store),
}

impl Actor for Node {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self {
            Node::Client(c) => c.start(ctx),
            Node::Gateway(g) => g.start(ctx),
            Node::Store(_) => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self {
            Node::Client(c) => c.on_message(msg, ctx),
            Node::Gateway(g) => g.on_message(from, msg, ctx),
            Node::Store(s) => s.on_message(from, msg, ctx),
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match self {
            Node::Client(c) => c.on_timer(tag, ctx),
            Node::Gateway(g) => g.on_timer(tag, ctx),
            Node::Store(s) => s.on_timer(tag, ctx),
        }
    }

    fn on_crash(&mut self) {
        // The store's data is durable but its queue is not (see store.rs); clients are
        // never crashed by a swarm.
        match self {
            Node::Gateway(g) => g.crash(),
            Node::Store(s) => s.crash(),
            Node::Client(_) => {}
        }
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Node::Gateway(g) = self {
            g.restart(ctx);
        }
    }

    fn describe(&self) -> String {
        match self {
            Node::Client(c) => format!(
                "k{}: {} ok / {} limited / {} busy / {} unavail / {} lost",
                c.key, c.tally[0], c.tally[1], c.tally[4], c.tally[2], c.tally[3]
            ),
            Node::Gateway(g) => format!(
                "{} allowed, {} limited, {} busy, {} 503, {} fail-open; {} waiting",
                g.decided[0],
                g.decided[1],
                g.decided[4],
                g.decided[2],
                g.decided[3],
                g.pending()
            ),
            Node::Store(s) => format!("{} commands, {} queued, {} refused", s.commands, s.depth(), s.shed),
        }
    }
}
