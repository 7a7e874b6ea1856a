//! A transcoder: takes a job from the queue, holds its lease (renewing it every third of
//! the lease), transcodes the chunk to every rung of the ladder (`transcode_ms`), writes
//! the renditions to the origin store, and reports the job done. Everything it holds is
//! memory: a crash loses the job in hand, and only the queue's lease brings it back.
//!
//! A rendition's digest is a function of the chunk and rung alone (the encoder is
//! deterministic), so a job run twice writes the same bytes twice.

use super::msg::{Chunk, Content, Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;

const POLL_MS: u64 = 200;
const TIMEOUT_MS: u64 = 1_000;

const POLL: u64 = 1;
const WORK_DONE: u64 = 2;
const RENEW: u64 = 3;
const PUT_TIMEOUT: u64 = 4;
const TAKE_TIMEOUT: u64 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    Idle,
    Asking,
    Transcoding { job: u64, epoch: u64, chunk: Chunk },
    Storing { job: u64, epoch: u64, chunk: Chunk },
}

#[derive(Clone, Debug)]
pub struct Transcoder {
    pub queue: NodeId,
    pub origin: NodeId,
    pub rungs: usize,
    pub transcode_ms: u64,
    pub lease_ms: u64,
    pub work: Work,
    /// Bumped whenever the work changes, so timers of an earlier job do nothing.
    generation: u64,
    pub finished: u64,
}

impl Transcoder {
    pub fn new(queue: NodeId, origin: NodeId, rungs: usize, transcode_ms: u64, lease_ms: u64) -> Transcoder {
        Transcoder { queue, origin, rungs, transcode_ms, lease_ms, work: Work::Idle, generation: 0, finished: 0 }
    }

    fn set(&mut self, work: Work) {
        self.work = work;
        self.generation += 1;
    }

    fn timer(&self, kind: u64, after_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(after_ms), self.generation << 3 | kind);
    }

    fn ask(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.set(Work::Asking);
        ctx.send(self.queue, Msg::Take);
        self.timer(TAKE_TIMEOUT, TIMEOUT_MS, ctx);
    }

    fn put(&self, job: u64, chunk: Chunk, ctx: &mut Ctx<'_, Msg, Obs>) {
        let digests = (0..self.rungs)
            .map(|r| Content { video: chunk.video, version: chunk.version, seg: chunk.chunk, rung: r as u8 }.digest())
            .collect();
        ctx.send(self.origin, Msg::Put { job, chunk, digests });
        self.timer(PUT_TIMEOUT, TIMEOUT_MS, ctx);
    }
}

impl Actor for Transcoder {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.ask(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match (msg, self.work) {
            (Msg::NoJob, Work::Asking) => {
                self.set(Work::Idle);
                self.timer(POLL, POLL_MS, ctx);
            }
            (Msg::Job { job, epoch, chunk }, Work::Asking) => {
                self.set(Work::Transcoding { job, epoch, chunk });
                self.timer(WORK_DONE, self.transcode_ms, ctx);
                self.timer(RENEW, self.lease_ms / 3, ctx);
            }
            (Msg::Lost { job }, Work::Transcoding { job: j, .. } | Work::Storing { job: j, .. }) if job == j => {
                ctx.metrics.add("transcoder.leases_lost", 1);
                self.ask(ctx);
            }
            (Msg::PutAck { job }, Work::Storing { job: j, epoch, .. }) if job == j => {
                ctx.send(self.queue, Msg::Done { job, epoch });
                self.finished += 1;
                ctx.metrics.add("transcoder.jobs", 1);
                self.ask(ctx);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, t: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if t >> 3 != self.generation {
            return;
        }
        match (t & 7, self.work) {
            (POLL, Work::Idle) | (TAKE_TIMEOUT, Work::Asking) => self.ask(ctx),
            (WORK_DONE, Work::Transcoding { job, epoch, chunk }) => {
                self.set(Work::Storing { job, epoch, chunk });
                self.put(job, chunk, ctx);
                self.timer(RENEW, self.lease_ms / 3, ctx);
            }
            (RENEW, Work::Transcoding { job, epoch, .. } | Work::Storing { job, epoch, .. }) => {
                ctx.send(self.queue, Msg::Renew { job, epoch });
                self.timer(RENEW, self.lease_ms / 3, ctx);
            }
            (PUT_TIMEOUT, Work::Storing { job, chunk, .. }) => self.put(job, chunk, ctx),
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.set(Work::Idle);
    }

    fn describe(&self) -> String {
        match self.work {
            Work::Transcoding { job, chunk, .. } => format!("#{job} {chunk}"),
            Work::Storing { job, .. } => format!("#{job} storing"),
            _ => format!("idle, {} done", self.finished),
        }
    }
}
