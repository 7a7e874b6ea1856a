//! A storage node: a disk of replicas and shards keyed by (key, version), every version
//! kept (a versioned bucket), and a heartbeat to the front end's failure detector. The
//! disk survives a crash (a restart finds it again); a node that never restarts is a
//! machine whose disks are gone. In the lazy-replication design a primary also keeps an
//! in-memory outbox of copies it still owes its peers, flushed every replication lag —
//! and lost with the process.

use super::msg::{digest, Key, Msg, Obs, Version};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::BTreeMap;

const HEARTBEAT: u64 = 1;
const FLUSH: u64 = 2;

#[derive(Clone, Debug)]
pub struct StorageCfg {
    pub frontend: NodeId,
    pub heartbeat_ms: u64,
    pub lag_ms: u64,
}

/// One copy a lazy primary still owes a peer.
#[derive(Clone, Debug)]
pub struct Owed {
    pub to: NodeId,
    pub key: Key,
    pub version: Version,
    pub slot: u8,
}

#[derive(Clone, Debug)]
pub struct Storage {
    pub cfg: StorageCfg,
    /// The disk: (key, version) → (slot, bytes).
    pub disk: BTreeMap<(Key, Version), (u8, Vec<u8>)>,
    /// Volatile: copies owed to peers (lazy replication).
    pub outbox: Vec<Owed>,
    pub bytes: u64,
}

impl Storage {
    pub fn new(cfg: StorageCfg) -> Storage {
        Storage { cfg, disk: BTreeMap::new(), outbox: Vec::new(), bytes: 0 }
    }

    /// The newest version of `key` on this disk.
    pub fn newest(&self, key: Key) -> Option<(Version, &(u8, Vec<u8>))> {
        self.disk.range((key, 0)..=(key, Version::MAX)).next_back().map(|(&(_, v), e)| (v, e))
    }

    fn write(&mut self, key: Key, version: Version, slot: u8, data: Vec<u8>, ctx: &mut Ctx<'_, Msg, Obs>) {
        let d = digest(&data);
        if self.disk.get(&(key, version)).is_none_or(|(s, b)| *s != slot || digest(b) != d) {
            self.bytes += data.len() as u64;
            self.disk.insert((key, version), (slot, data));
            ctx.observe(Obs::Stored { node: ctx.me(), key, version, slot, digest: d });
        }
        ctx.send(self.cfg.frontend, Msg::Stored { key, version, slot });
    }
}

impl Actor for Storage {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.send(self.cfg.frontend, Msg::Heartbeat);
        ctx.set_timer(SimDuration::from_ms(self.cfg.heartbeat_ms), HEARTBEAT);
        ctx.set_timer(SimDuration::from_ms(self.cfg.lag_ms), FLUSH);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Store { key, version, slot, data, forward } => {
                for to in forward {
                    self.outbox.push(Owed { to, key, version, slot });
                }
                self.write(key, version, slot, data, ctx);
            }
            Msg::Fetch { op, key, version } => {
                let found = match version {
                    Some(v) => self.disk.get(&(key, v)).map(|(s, b)| (v, *s, b.clone())),
                    None => self.newest(key).map(|(v, (s, b))| (v, *s, b.clone())),
                };
                ctx.send(from, Msg::FetchReply { op, key, found });
            }
            Msg::CopyTo { key, version, slot, to } => {
                if let Some((_, b)) = self.disk.get(&(key, version)) {
                    ctx.send(to, Msg::Store { key, version, slot, data: b.clone(), forward: Vec::new() });
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag {
            HEARTBEAT => {
                ctx.send(self.cfg.frontend, Msg::Heartbeat);
                ctx.set_timer(SimDuration::from_ms(self.cfg.heartbeat_ms), HEARTBEAT);
            }
            FLUSH => {
                for o in std::mem::take(&mut self.outbox) {
                    // Lazy replication: the primary's copy, whatever is on disk now.
                    if let Some((_, b)) = self.disk.get(&(o.key, o.version)) {
                        let data = b.clone();
                        ctx.send(
                            o.to,
                            Msg::Store { key: o.key, version: o.version, slot: o.slot, data, forward: Vec::new() },
                        );
                    }
                }
                ctx.set_timer(SimDuration::from_ms(self.cfg.lag_ms), FLUSH);
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.outbox.clear();
    }

    fn describe(&self) -> String {
        format!("{} objects", self.disk.len())
    }
}
