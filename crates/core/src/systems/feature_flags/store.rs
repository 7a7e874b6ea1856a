//! The flag store: the source of truth. Every change an operator makes is committed under
//! the next global version, written to the audit log (who, what, when on the store's
//! clock, which version) and — with streaming — pushed at once to every subscribed SDK.
//! Changes carry an id and are retried by the admin until acknowledged; the store applies
//! each id once, so a retried kill is not two audit entries.
//!
//! Flags, version, audit log and the last applied change id are on disk (a restart keeps
//! them); the subscriber list is in memory and rebuilt as SDKs sync again.

use super::flags::{initial_flags, initial_segments, FlagConfig, Segment};
use super::msg::{Msg, Obs, Op, Version};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use std::collections::{BTreeSet, VecDeque};

/// Audit entries kept for the view (the count of all of them is kept too).
pub const AUDIT_KEPT: usize = 64;

#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub version: Version,
    /// The store's own clock when it committed (what a real audit log records).
    pub at: SimTime,
    pub actor: String,
    pub flag: &'static str,
    pub what: String,
}

#[derive(Clone, Debug)]
pub struct Store {
    /// Push every commit to subscribers (streaming) or wait to be polled.
    pub push: bool,
    pub flags: Vec<FlagConfig>,
    pub segments: Vec<Segment>,
    pub version: Version,
    pub audit: VecDeque<AuditEntry>,
    pub audited: u64,
    last_change: u64,
    /// The initial flags have been committed (and observed) once.
    created: bool,
    pub subscribers: BTreeSet<NodeId>,
    pub syncs: u64,
    pub polls: u64,
    pub pushes: u64,
}

impl Store {
    pub fn new(push: bool) -> Store {
        Store {
            push,
            flags: initial_flags(),
            segments: initial_segments(),
            version: 0,
            audit: VecDeque::new(),
            audited: 0,
            last_change: 0,
            created: false,
            subscribers: BTreeSet::new(),
            syncs: 0,
            polls: 0,
            pushes: 0,
        }
    }

    fn record(&mut self, at: SimTime, actor: &str, flag: usize, what: String) {
        self.audited += 1;
        self.audit.push_back(AuditEntry {
            version: self.version,
            at,
            actor: actor.to_string(),
            flag: self.flags[flag].key,
            what,
        });
        if self.audit.len() > AUDIT_KEPT {
            self.audit.pop_front();
        }
    }

    fn state(&self, nonce: u64, have: Version) -> Msg {
        let flags = (have != self.version).then(|| self.flags.clone());
        Msg::State { nonce, version: self.version, flags }
    }

    fn change(&mut self, from: NodeId, id: u64, flag: u8, op: Op, ctx: &mut Ctx<'_, Msg, Obs>) {
        let f = flag as usize;
        if id > self.last_change && f < self.flags.len() {
            self.last_change = id;
            self.version += 1;
            let config = op.apply(&self.flags[f]);
            self.flags[f] = config.clone();
            self.record(ctx.local_time(), "admin", f, op.label());
            ctx.note(format!("v{} {}: {}", self.version, config.key, op.label()));
            ctx.observe(Obs::Committed { version: self.version, flag, config: config.clone(), change: Some(op) });
            if self.push {
                for &s in &self.subscribers {
                    self.pushes += 1;
                    ctx.send(s, Msg::Patch { version: self.version, flag, config: config.clone() });
                }
            }
        }
        // A retry of a change already applied is acknowledged again, not re-applied.
        ctx.send(from, Msg::Ack { id, version: self.version });
    }
}

impl Actor for Store {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.created {
            return;
        }
        self.created = true;
        for f in 0..self.flags.len() {
            self.version += 1;
            let config = self.flags[f].clone();
            self.record(ctx.local_time(), "setup", f, "create".into());
            ctx.observe(Obs::Committed { version: self.version, flag: f as u8, config, change: None });
        }
    }

    /// Subscriptions are connections: gone with the process.
    fn on_crash(&mut self) {
        self.subscribers.clear();
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Sync { nonce, have } => {
                self.syncs += 1;
                self.subscribers.insert(from);
                ctx.send(from, self.state(nonce, have));
            }
            Msg::Poll { have } => {
                self.polls += 1;
                ctx.send(from, self.state(0, have));
            }
            Msg::Change { id, flag, op } => self.change(from, id, flag, op, ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("v{} · {} audit entries · {} subscribed", self.version, self.audited, self.subscribers.len())
    }
}
