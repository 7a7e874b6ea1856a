//! The protected resource: a storage node holding one counter that workers read, increment
//! and write back while they believe they hold the lock. With fencing on, it remembers the
//! highest token it has seen on any access and refuses anything older (Kleppmann, "How to
//! do distributed locking", 2016); without fencing it trusts every caller, as most stores
//! do. Its state is durable: a crash loses only messages in flight.

use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;

/// Rows kept for the storage view.
const LOG_ROWS: usize = 40;

/// One access, for the view.
#[derive(Clone, Debug)]
pub struct AccessRow {
    pub at_ms: f64,
    pub worker: NodeId,
    pub token: u64,
    pub write: bool,
    pub accepted: bool,
    pub value: u64,
}

#[derive(Clone, Debug)]
pub struct Storage {
    /// Whether tokens are checked.
    pub fenced: bool,
    pub value: u64,
    /// Highest token seen on an accepted access.
    pub max_token: u64,
    /// Token of the last accepted write.
    pub last_write_token: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub log: Vec<AccessRow>,
}

impl Storage {
    pub fn new(fenced: bool) -> Storage {
        Storage { fenced, value: 0, max_token: 0, last_write_token: 0, accepted: 0, rejected: 0, log: Vec::new() }
    }

    /// The fencing rule: reads need a token at least the highest seen; writes also need one
    /// above the last written, so two writes never share a token.
    pub fn admits(&self, token: u64, write: bool) -> bool {
        !self.fenced || (token >= self.max_token && (!write || token > self.last_write_token))
    }
}

impl Actor for Storage {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let (lease, token, write, value) = match msg {
            Msg::Read { lease, token } => (lease, token, false, 0),
            Msg::Write { lease, token, value } => (lease, token, true, value),
            _ => return,
        };
        let accepted = self.admits(token, write);
        if accepted {
            self.accepted += 1;
            self.max_token = self.max_token.max(token);
            if write {
                self.value = value;
                self.last_write_token = token;
            }
        } else {
            self.rejected += 1;
        }
        let seen = if write || !accepted { value } else { self.value };
        ctx.observe(Obs::Access { lease, token, write, accepted, value: seen });
        if write || !accepted {
            self.log.push(AccessRow { at_ms: ctx.now().as_ms(), worker: lease.worker, token, write, accepted, value });
            if self.log.len() > LOG_ROWS {
                self.log.remove(0);
            }
        }
        let reply = match (accepted, write) {
            (false, _) => Msg::Rejected { lease, max_token: self.max_token },
            (true, false) => Msg::ReadOk { lease, value: self.value },
            (true, true) => Msg::WriteOk { lease },
        };
        ctx.send(from, reply);
    }

    fn describe(&self) -> String {
        if self.fenced {
            format!("value {} · max token {}", self.value, self.max_token)
        } else {
            format!("value {} · no fencing", self.value)
        }
    }
}
