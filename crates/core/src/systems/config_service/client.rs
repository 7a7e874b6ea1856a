//! A client: the SDK side of the config service. It runs one call at a time on the
//! configuration keys — mostly gets, some puts, and compare-and-set from the last value it
//! read — and
//! keeps a session with an ephemeral key (`sess/<client>`) alive by keepalives.
//!
//! Writes go to the leader it believes in, following `NotLeader` hints. Reads go to the
//! leader too, except under any-replica, where each client reads from its "home" replica
//! (the nearest one, in a real deployment). A call unanswered within the timeout is
//! abandoned: the client cannot know whether it took effect, and records it so.
//!
//! Every call is reported to the checks as it starts and ends, in true simulated time
//! (`Obs::Invoke` / `Complete` / `Abandon`): that history, not any server's state, is what
//! `linearizable` judges. The client also keeps its last calls for the timeline view.

use super::msg::{Answer, Call, Msg, Obs, Reply, Request, EPHEMERAL};
use super::Strategy;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

const TAG_NEXT: u64 = 1;
const TAG_TIMEOUT: u64 = 2;
const TAG_RETRY: u64 = 3;
const TAG_SESSION: u64 = 4;
const RETRY_MS: u64 = 15;
/// Calls kept for the timeline view.
pub const KEPT_CALLS: usize = 160;

#[derive(Clone, Debug)]
pub struct ClientCfg {
    pub strategy: Strategy,
    pub replicas: Vec<NodeId>,
    /// The replica this client reads from under any-replica.
    pub home: usize,
    pub keys: u32,
    pub timeout_ms: u64,
    pub session_ttl_ms: u64,
    pub workload: WorkloadSpec,
}

/// One call as the timeline shows it (true times, µs).
#[derive(Clone, Debug)]
pub struct CallRecord {
    pub op: u64,
    pub key: u32,
    pub call_us: u64,
    pub return_us: Option<u64>,
    pub text: String,
    /// "ok", or "unknown" for an abandoned call, "" while open.
    pub outcome: &'static str,
}

#[derive(Clone, Debug)]
struct Open {
    op: u64,
    req: u64,
    key: u32,
    call: Call,
    /// Replica index this attempt went to.
    to: usize,
}

/// Where the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStep {
    Opening,
    Registering,
    Live,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub cfg: ClientCfg,
    /// Index of the replica believed to lead.
    pub target: usize,
    /// Where session requests go (kept apart so keepalive retries do not move calls).
    session_target: usize,
    ops: u64,
    reqs: u64,
    /// Timer epoch of the open call.
    epoch: u64,
    open: Option<Open>,
    last_read: BTreeMap<u32, u64>,
    pub session: u64,
    pub step: SessionStep,
    session_req: u64,
    pub calls: VecDeque<CallRecord>,
    pub completed: u64,
    pub abandoned: u64,
}

impl Client {
    pub fn new(cfg: ClientCfg) -> Client {
        Client {
            target: cfg.home,
            session_target: cfg.home,
            cfg,
            ops: 0,
            reqs: 0,
            epoch: 0,
            open: None,
            last_read: BTreeMap::new(),
            session: 0,
            step: SessionStep::Opening,
            session_req: 0,
            calls: VecDeque::new(),
            completed: 0,
            abandoned: 0,
        }
    }

    fn next_req(&mut self) -> u64 {
        self.reqs += 1;
        self.reqs
    }

    fn timer(&self, ctx: &mut Ctx<'_, Msg, Obs>, after_ms: u64, kind: u64) {
        ctx.set_timer(SimDuration::from_ms(after_ms), (self.epoch << 4) | kind);
    }

    /// A fresh value no other write uses: this client's id above, a counter below.
    fn fresh_value(&mut self, me: NodeId) -> u64 {
        self.ops += 1;
        (u64::from(me) + 1) * 1_000_000 + self.ops
    }

    fn schedule_next(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.epoch += 1;
        let think = self.cfg.workload.think_ms.max(1);
        self.timer(ctx, think, TAG_NEXT);
    }

    fn begin(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.cfg.workload.active(ctx.now()) {
            return;
        }
        let me = ctx.me();
        let key = ctx.rng.below(u64::from(self.cfg.keys.max(1))) as u32;
        let roll = ctx.rng.below(100);
        let call = match (roll, self.last_read.get(&key)) {
            // Configuration is read far more than written: 80 % gets.
            (0..=79, _) => Call::Get,
            (92..=99, Some(&from)) => Call::Cas { from, to: self.fresh_value(me) },
            _ => Call::Put(self.fresh_value(me)),
        };
        let op = self.ops + 1;
        self.ops += 1;
        ctx.observe(Obs::Invoke { client: me, op, key, call });
        let text = match call {
            Call::Get => format!("get k{key}"),
            Call::Put(v) => format!("put k{key}={v}"),
            Call::Cas { from, to } => format!("cas k{key} {from}→{to}"),
        };
        self.calls.push_back(CallRecord { op, key, call_us: ctx.now().0, return_us: None, text, outcome: "" });
        while self.calls.len() > KEPT_CALLS {
            self.calls.pop_front();
        }
        let req = self.next_req();
        let to = self.destination(call);
        self.open = Some(Open { op, req, key, call, to });
        self.epoch += 1;
        self.timer(ctx, self.cfg.timeout_ms, TAG_TIMEOUT);
        self.send_open(ctx);
    }

    fn destination(&self, call: Call) -> usize {
        if call == Call::Get && self.cfg.strategy == Strategy::AnyReplica {
            self.cfg.home
        } else {
            self.target
        }
    }

    fn send_open(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(o) = &self.open else { return };
        let op = match o.call {
            Call::Get => Request::Get { key: o.key },
            Call::Put(value) => Request::Put { key: o.key, value, session: None },
            Call::Cas { from, to } => Request::Cas { key: o.key, from, to },
        };
        ctx.send(self.cfg.replicas[o.to], Msg::Req { req: o.req, op });
    }

    fn finish(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, answer: Option<Answer>) {
        let Some(o) = self.open.take() else { return };
        let me = ctx.me();
        let now = ctx.now().0;
        match answer {
            Some(a) => {
                self.completed += 1;
                ctx.observe(Obs::Complete { client: me, op: o.op, answer: a });
                match a {
                    Answer::Value(Some(v)) => {
                        self.last_read.insert(o.key, v);
                    }
                    Answer::Swapped(false) | Answer::Value(None) => {
                        self.last_read.remove(&o.key);
                    }
                    _ => {}
                }
            }
            None => {
                self.abandoned += 1;
                ctx.observe(Obs::Abandon { client: me, op: o.op });
            }
        }
        if let Some(rec) = self.calls.iter_mut().rev().find(|c| c.op == o.op) {
            rec.return_us = answer.map(|_| now);
            rec.outcome = if answer.is_some() { "ok" } else { "unknown" };
            if let Some(a) = answer {
                rec.text.push_str(&match a {
                    Answer::Value(Some(v)) => format!(" → {v}"),
                    Answer::Value(None) => " → nil".to_string(),
                    Answer::Written => " ok".to_string(),
                    Answer::Swapped(ok) => if ok { " ok" } else { " failed" }.to_string(),
                });
            }
        }
        self.schedule_next(ctx);
    }

    fn follow(&mut self, hint: Option<NodeId>) {
        self.target = self.next_target(self.target, hint);
    }

    /// The replica a hint names, or the one after `current`.
    fn next_target(&self, current: usize, hint: Option<NodeId>) -> usize {
        match hint.and_then(|h| self.cfg.replicas.iter().position(|&r| r == h)) {
            Some(i) => i,
            None => (current + 1) % self.cfg.replicas.len(),
        }
    }

    fn on_reply(&mut self, req: u64, reply: Reply, ctx: &mut Ctx<'_, Msg, Obs>) {
        if req == self.session_req {
            return self.on_session_reply(reply, ctx);
        }
        let Some(o) = self.open.clone().filter(|o| o.req == req) else { return };
        let answer = match (o.call, reply) {
            (Call::Get, Reply::Value { value, .. }) => Answer::Value(value),
            (Call::Put(_), Reply::Written { .. }) => Answer::Written,
            (Call::Cas { .. }, Reply::Swapped { ok, .. }) => Answer::Swapped(ok),
            (_, Reply::NotLeader { hint }) => {
                // Not taken: try the leader it names (or the next replica) shortly.
                self.follow(hint);
                if let Some(open) = &mut self.open {
                    open.to = self.target;
                    open.req = self.reqs + 1;
                }
                self.reqs += 1;
                self.timer(ctx, RETRY_MS, TAG_RETRY);
                return;
            }
            _ => return,
        };
        self.finish(ctx, Some(answer));
    }

    fn session_request(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let op = match self.step {
            SessionStep::Opening => Request::Open { session: self.session },
            SessionStep::Registering => {
                let value = self.fresh_value(ctx.me());
                Request::Put { key: EPHEMERAL + ctx.me(), value, session: Some(self.session) }
            }
            SessionStep::Live => Request::KeepAlive { session: self.session },
        };
        self.session_req = self.next_req();
        ctx.send(self.cfg.replicas[self.session_target], Msg::Req { req: self.session_req, op });
    }

    fn on_session_reply(&mut self, reply: Reply, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.session_req = 0;
        match reply {
            Reply::Opened => self.step = SessionStep::Registering,
            Reply::Written { .. } if self.step == SessionStep::Registering => self.step = SessionStep::Live,
            Reply::NoSession => {
                self.session = ctx.rng.next_u64();
                self.step = SessionStep::Opening;
            }
            Reply::NotLeader { hint } => {
                self.session_target = self.next_target(self.session_target, hint);
                return;
            }
            _ => return,
        }
        if self.step != SessionStep::Live {
            self.session_request(ctx);
        }
    }
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.session = ctx.rng.next_u64();
        self.step = SessionStep::Opening;
        self.session_request(ctx);
        ctx.set_timer(SimDuration::from_ms(self.cfg.session_ttl_ms / 3), TAG_SESSION);
        self.schedule_next(ctx);
    }

    /// Memory is gone: the open call will never be answered (the checks count it as
    /// abandoned when it never completes), and the session lapses unless renewed.
    fn on_crash(&mut self) {
        self.open = None;
        self.session_req = 0;
        self.epoch += 1;
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == TAG_SESSION {
            ctx.set_timer(SimDuration::from_ms(self.cfg.session_ttl_ms / 3), TAG_SESSION);
            if self.cfg.workload.active(ctx.now()) {
                if self.session_req != 0 {
                    // The last session request went unanswered: ask another replica.
                    self.session_target = self.next_target(self.session_target, None);
                }
                self.session_request(ctx);
            }
            return;
        }
        if tag >> 4 != self.epoch {
            return;
        }
        match tag & 0xf {
            TAG_NEXT => self.begin(ctx),
            TAG_TIMEOUT => {
                self.follow(None);
                self.finish(ctx, None);
            }
            TAG_RETRY => self.send_open(ctx),
            _ => {}
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Resp { req, reply } = msg {
            self.on_reply(req, reply, ctx);
        }
    }

    fn describe(&self) -> String {
        let session = match self.step {
            SessionStep::Live => "session live",
            SessionStep::Opening => "opening session",
            SessionStep::Registering => "registering",
        };
        format!("{} calls · {session}", self.completed)
    }
}
