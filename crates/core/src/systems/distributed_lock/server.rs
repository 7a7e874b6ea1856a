//! A single lock server, Redis-style: `SET key value NX PX ttl` to acquire, and one of
//! three release/grant policies — blind `DEL` (anyone deletes whatever lock is there),
//! value-checked delete (the compare-and-delete Lua script from the Redis docs), or
//! fencing (a counter, persisted before every grant, hands out increasing tokens). The
//! same server with value-checked delete is one instance of Redlock (Sanfilippo, "Distributed
//! locks with Redis", redis.io). Expiry is judged on the server's own clock, so a clock
//! jump on the server ends a lease early.

use super::msg::{Lease, Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerMode {
    BlindDelete,
    CheckedDelete,
    Fencing { durable: bool },
}

/// The key as stored: who holds it, its token, and when it expires on the server's clock.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    pub lease: Lease,
    pub token: u64,
    pub expires_local: SimTime,
}

#[derive(Clone, Debug)]
pub struct LockServer {
    pub mode: ServerMode,
    /// In memory only: a crash frees the lock.
    pub key: Option<Key>,
    /// The fencing counter; survives a crash only when `durable`.
    pub counter: u64,
    pub grants: u64,
    pub blind_deletes_of_others: u64,
    /// One of Redlock's instances: its yes is one vote, not a grant (the client decides
    /// once it has a majority), so it does not report grants to the checks.
    pub redlock_instance: bool,
}

impl LockServer {
    pub fn new(mode: ServerMode, redlock_instance: bool) -> LockServer {
        LockServer { mode, key: None, counter: 0, grants: 0, blind_deletes_of_others: 0, redlock_instance }
    }

    fn live_key(&self, now_local: SimTime) -> Option<Key> {
        self.key.filter(|k| now_local < k.expires_local)
    }
}

impl Actor for LockServer {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let local = ctx.local_time();
        match msg {
            Msg::Acquire { lease, ttl_ms } => match self.live_key(local) {
                Some(k) if k.lease == lease => {
                    ctx.send(from, Msg::Granted { lease, token: k.token });
                }
                Some(_) => ctx.send(from, Msg::Busy { lease }),
                None => {
                    let token = match self.mode {
                        ServerMode::Fencing { .. } => {
                            // The increment is on disk before the grant leaves (when durable).
                            self.counter += 1;
                            self.counter
                        }
                        _ => 0,
                    };
                    self.grants += 1;
                    let expires_local = local + SimDuration::from_ms(ttl_ms);
                    self.key = Some(Key { lease, token, expires_local });
                    if !self.redlock_instance {
                        ctx.observe(Obs::Grant { lease, token });
                    }
                    ctx.send(from, Msg::Granted { lease, token });
                }
            },
            Msg::Release { lease } => match self.mode {
                ServerMode::BlindDelete => {
                    if let Some(k) = self.live_key(local).filter(|k| k.lease != lease) {
                        self.blind_deletes_of_others += 1;
                        // Workers are the first nodes, so a worker's id is its number.
                        ctx.note(format!("worker-{} deleted worker-{}'s live lock", lease.worker, k.lease.worker));
                    }
                    self.key = None;
                }
                _ => {
                    if self.key.is_some_and(|k| k.lease == lease) {
                        self.key = None;
                    }
                }
            },
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.key = None;
        if self.mode == (ServerMode::Fencing { durable: false }) {
            self.counter = 0;
        }
    }

    /// The stored key (possibly already expired on the server's clock).
    fn describe(&self) -> String {
        match self.key {
            Some(k) if k.token > 0 => format!("key #{} token {} until {}", k.lease.worker, k.token, k.expires_local),
            Some(k) => format!("key #{} until {}", k.lease.worker, k.expires_local),
            None => "free".into(),
        }
    }
}
