//! The transcoding job queue. One job per uploaded chunk (all rungs of it); transcoders
//! take jobs under a lease (`blocks::lease`: a per-job lease with growing epochs), renew it
//! while they work, and report the job done once every rendition is in the store. A
//! transcoder that crashes stops renewing; its lease runs out and the job goes to the next
//! transcoder that asks — at-least-once, which is safe because a rendition is a pure
//! function of its chunk (a second write stores the same bytes).
//!
//! The naive queue (`ack-on-take`) deletes a job the moment it hands it out, as a queue
//! that auto-acknowledges on delivery does: a crash mid-transcode loses the job for good.
//!
//! When every job of a version is done, the queue asks the origin to publish it, and asks
//! again until the origin answers. The job table and publish state are durable; the live
//! leases are memory (after a queue crash every unfinished job can be taken again).

use super::msg::{Chunk, Msg, Obs, VideoId};
use crate::blocks::lease::{Grant, LeaseTable};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Jobs not yet done the queue holds; uploads past it are refused (`Busy`).
pub const MAX_OPEN: usize = 20_000;
/// Lines of recent history kept for the view.
pub const HISTORY: usize = 24;
const PUBLISH_RETRY_MS: u64 = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Leased { to: NodeId },
    Done,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub chunk: Chunk,
    pub state: JobState,
    pub lease: LeaseTable,
    pub attempts: u32,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct VersionRec {
    pub chunks: u32,
    pub done: u32,
    pub published: bool,
    /// The origin refused it at least once (a rendition was missing); asked again anyway.
    pub refused: bool,
}

#[derive(Clone, Debug)]
pub struct Queue {
    pub origin: NodeId,
    pub ack_on_take: bool,
    pub lease_ms: u64,
    pub jobs: BTreeMap<u64, Job>,
    /// Jobs not done, in arrival order (what `Take` scans).
    pub open: BTreeSet<u64>,
    pub by_chunk: BTreeMap<Chunk, u64>,
    pub versions: BTreeMap<(VideoId, u32), VersionRec>,
    pub history: VecDeque<(f64, String)>,
    pub expired: u64,
    next_job: u64,
}

impl Queue {
    pub fn new(origin: NodeId, ack_on_take: bool, lease_ms: u64) -> Queue {
        Queue {
            origin,
            ack_on_take,
            lease_ms,
            jobs: BTreeMap::new(),
            open: BTreeSet::new(),
            by_chunk: BTreeMap::new(),
            versions: BTreeMap::new(),
            history: VecDeque::new(),
            expired: 0,
            next_job: 0,
        }
    }

    fn log(&mut self, at: SimTime, text: String) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back((at.as_ms(), text));
    }

    /// Jobs waiting for a transcoder (queued, or leased with the lease run out) at `now`.
    pub fn backlog(&self, now: SimTime) -> usize {
        self.open.iter().filter(|id| self.jobs[id].lease.live(now).is_none()).count()
    }

    fn take(&mut self, from: NodeId, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.local_time();
        let Some(id) = self.open.iter().copied().find(|id| self.jobs[id].lease.live(now).is_none()) else {
            return ctx.send(from, Msg::NoJob);
        };
        let job = self.jobs.get_mut(&id).expect("open jobs exist");
        let Grant::Fresh(epoch) = job.lease.acquire(from, false, now) else { return ctx.send(from, Msg::NoJob) };
        if job.attempts > 0 {
            self.expired += 1;
        }
        job.attempts += 1;
        job.state = JobState::Leased { to: from };
        let chunk = job.chunk;
        let attempt = job.attempts;
        ctx.send(from, Msg::Job { job: id, epoch, chunk });
        self.log(ctx.now(), format!("#{id} {chunk} → node {from} (try {attempt})"));
        if self.ack_on_take {
            self.finish(id, ctx);
        }
    }

    fn finish(&mut self, id: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(job) = self.jobs.get_mut(&id) else { return };
        if job.state == JobState::Done {
            return;
        }
        job.state = JobState::Done;
        job.lease.forget();
        self.open.remove(&id);
        let c = job.chunk;
        let rec = self.versions.entry((c.video, c.version)).or_default();
        rec.done += 1;
        if rec.done == rec.chunks && !rec.published {
            self.publish(c.video, c.version, ctx);
        }
    }

    fn publish(&mut self, video: VideoId, version: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(rec) = self.versions.get(&(video, version)) else { return };
        ctx.send(self.origin, Msg::Publish { video, version, chunks: rec.chunks });
    }
}

impl Actor for Queue {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(PUBLISH_RETRY_MS), 1);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Upload { chunk, chunks } => {
                if self.by_chunk.contains_key(&chunk) {
                    return ctx.send(from, Msg::Accepted { chunk });
                }
                if self.open.len() >= MAX_OPEN {
                    return ctx.send(from, Msg::Busy { chunk });
                }
                let id = self.next_job;
                self.next_job += 1;
                let lease = LeaseTable::new(self.lease_ms);
                self.jobs.insert(id, Job { chunk, state: JobState::Queued, lease, attempts: 0 });
                self.open.insert(id);
                self.by_chunk.insert(chunk, id);
                self.versions.entry((chunk.video, chunk.version)).or_default().chunks = chunks;
                ctx.send(from, Msg::Accepted { chunk });
            }
            Msg::Take => self.take(from, ctx),
            Msg::Renew { job, epoch } => {
                let now = ctx.local_time();
                let held =
                    self.jobs.get(&job).is_some_and(|j| j.state != JobState::Done && j.lease.holds(from, epoch, now));
                if held {
                    if let Some(j) = self.jobs.get_mut(&job) {
                        j.lease.acquire(from, true, now);
                    }
                } else if !self.ack_on_take {
                    ctx.send(from, Msg::Lost { job });
                }
            }
            Msg::Done { job, .. } => {
                if self.jobs.get(&job).is_some_and(|j| j.state != JobState::Done) {
                    self.log(ctx.now(), format!("#{job} done"));
                }
                self.finish(job, ctx);
            }
            Msg::PublishAck { video, version, ok } => {
                if let Some(rec) = self.versions.get_mut(&(video, version)) {
                    if ok {
                        rec.published = true;
                    } else if !rec.refused {
                        rec.refused = true;
                        self.log(ctx.now(), format!("v{video}.{version} publish refused: renditions missing"));
                    }
                }
            }
            _ => {}
        }
    }

    /// Every second: ask again to publish each finished version the origin has not
    /// answered for.
    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let due: Vec<(VideoId, u32, u32)> = self
            .versions
            .iter()
            .filter(|(_, r)| r.chunks > 0 && r.done == r.chunks && !r.published)
            .map(|(&(v, ver), r)| (v, ver, r.chunks))
            .collect();
        for (video, version, chunks) in due {
            ctx.send(self.origin, Msg::Publish { video, version, chunks });
        }
        ctx.set_timer(SimDuration::from_ms(PUBLISH_RETRY_MS), 1);
    }

    fn on_crash(&mut self) {
        for j in self.jobs.values_mut() {
            j.lease.forget();
        }
    }

    fn describe(&self) -> String {
        format!("{} open jobs, {} total", self.open.len(), self.jobs.len())
    }
}
