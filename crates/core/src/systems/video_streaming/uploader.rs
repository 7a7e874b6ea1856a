//! The uploader: creators' uploads arrive as an open-loop workload; each new video's source
//! is cut into chunks (one per segment), stored, and one transcoding job per chunk is
//! handed to the queue, re-sent (backoff with full jitter) until the queue acknowledges
//! it. At `update_at_ms` the owner of video 0 re-uploads it: a second version whose
//! every chunk goes through the same pipeline. Its pending uploads are durable.

use super::msg::{Chunk, Msg, Obs, VideoId};
use crate::blocks::backoff::Backoff;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Chunks of a new upload (short videos: 2–8 segments).
pub const UPLOAD_CHUNKS: (u64, u64) = (2, 8);
const TIMEOUT_MS: u64 = 1_000;

const ARRIVAL: u64 = 1;
const UPDATE: u64 = 2;
const TIMEOUT: u64 = 3;
const RESEND: u64 = 0;

#[derive(Clone, Debug)]
pub struct Uploader {
    pub queue: NodeId,
    pub workload: WorkloadSpec,
    pub update_at: Option<SimTime>,
    pub video_segs: u32,
    backoff: Backoff,
    next_video: VideoId,
    /// Durable: chunks not yet acknowledged, by upload id: (chunk, chunk count, tries).
    pub pending: BTreeMap<u64, (Chunk, u32, u32)>,
    by_chunk: BTreeMap<Chunk, u64>,
    next_id: u64,
    pub accepted: u64,
}

impl Uploader {
    pub fn new(
        queue: NodeId,
        workload: WorkloadSpec,
        update_at: Option<SimTime>,
        videos: u32,
        video_segs: u32,
    ) -> Self {
        Uploader {
            queue,
            workload,
            update_at,
            video_segs,
            backoff: Backoff::from_ms(100, 2_000),
            next_video: videos,
            pending: BTreeMap::new(),
            by_chunk: BTreeMap::new(),
            next_id: 0,
            accepted: 0,
        }
    }

    fn schedule_arrival(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(at) = self.workload.next_arrival(ctx.now(), 1, ctx.rng) {
            ctx.set_timer(at.since(ctx.now()), ARRIVAL);
        }
    }

    fn upload(&mut self, video: VideoId, version: u32, chunks: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        for c in 0..chunks {
            let chunk = Chunk { video, version, chunk: c };
            self.next_id += 1;
            let id = self.next_id;
            self.pending.insert(id, (chunk, chunks, 0));
            self.by_chunk.insert(chunk, id);
            self.send(id, ctx);
        }
    }

    fn send(&self, id: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(&(chunk, chunks, _)) = self.pending.get(&id) else { return };
        ctx.send(self.queue, Msg::Upload { chunk, chunks });
        ctx.set_timer(SimDuration::from_ms(TIMEOUT_MS), id << 2 | TIMEOUT);
    }

    fn retry_later(&mut self, id: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.pending.get_mut(&id) else { return };
        let wait = self.backoff.full_jitter(p.2, ctx.rng);
        p.2 += 1;
        ctx.set_timer(wait, id << 2 | RESEND);
    }
}

impl Actor for Uploader {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.schedule_arrival(ctx);
        if let Some(at) = self.update_at.filter(|&at| at >= ctx.now()) {
            ctx.set_timer(at.since(ctx.now()), UPDATE);
        }
        let ids: Vec<u64> = self.pending.keys().copied().collect();
        for id in ids {
            self.send(id, ctx);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Accepted { chunk } => {
                if let Some(id) = self.by_chunk.remove(&chunk) {
                    self.pending.remove(&id);
                    self.accepted += 1;
                    ctx.observe(Obs::Uploaded { chunk });
                }
            }
            // A full queue: the timeout retries it later, with backoff.
            Msg::Busy { .. } => ctx.metrics.add("uploader.busy", 1),
            _ => {}
        }
    }

    fn on_timer(&mut self, t: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match t & 3 {
            ARRIVAL => {
                let chunks = ctx.rng.between(UPLOAD_CHUNKS.0, UPLOAD_CHUNKS.1) as u32;
                let video = self.next_video;
                self.next_video += 1;
                self.upload(video, 1, chunks, ctx);
                self.schedule_arrival(ctx);
            }
            UPDATE => {
                ctx.note("video 0 re-uploaded: version 2");
                self.upload(0, 2, self.video_segs, ctx);
            }
            TIMEOUT => self.retry_later(t >> 2, ctx),
            RESEND => self.send(t >> 2, ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} chunks queued, {} pending", self.accepted, self.pending.len())
    }
}
