//! The origin: the object store holding every rendition, and the manifest API. Its
//! records are the truth the checks judge by: every version it published (with when),
//! every rendition it stored, every byte it served.
//!
//! A manifest names the version current when it is served. A segment URL with a version
//! is answered with that version's bytes (old versions stay in the store); a URL without
//! one is answered with whatever is current. A new version is published only when every
//! chunk of it is stored in every rung — the origin refuses a manifest with holes. With
//! purge-based invalidation, publishing also calls the CDN's purge API, which reaches each
//! cache after its own propagation delay (uniform in `[0, purge_delay_ms]`), as real purge
//! fan-outs do.

use super::msg::{Chunk, Content, Msg, Obs, Url, VideoId};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub struct OriginCfg {
    /// Videos `0..videos` are in the catalog at version 1 before the run.
    pub videos: u32,
    pub video_segs: u32,
    /// kbit of one segment in each rung.
    pub rung_kbits: Vec<u64>,
    pub purge: bool,
    pub purge_delay_ms: u64,
    /// Every cache the purge API reaches (shield and edges).
    pub caches: Vec<NodeId>,
}

#[derive(Clone, Debug)]
pub struct Origin {
    pub cfg: OriginCfg,
    /// Durable: the current version of each video and its segment count.
    pub current: BTreeMap<VideoId, (u32, u32)>,
    /// Durable: renditions stored during the run (the catalog's version 1 is implied).
    pub stored: BTreeMap<Chunk, Vec<u64>>,
    /// Durable: (video, version) → segment count of every published version.
    pub versions: BTreeSet<(VideoId, u32, u32)>,
    /// Purges waiting for their propagation delay (volatile), by timer tag.
    purges: BTreeMap<u64, (NodeId, VideoId)>,
    next_tag: u64,
    pub served_kbits: u64,
    pub served: u64,
    /// How many times each content was sent (for the views and tests; bounded by the
    /// catalog's renditions).
    pub serves: BTreeMap<Content, u32>,
    pub refused: u64,
}

impl Origin {
    pub fn new(cfg: OriginCfg) -> Origin {
        let current = (0..cfg.videos).map(|v| (v, (1, cfg.video_segs))).collect();
        let versions = (0..cfg.videos).map(|v| (v, 1, cfg.video_segs)).collect();
        Origin {
            cfg,
            current,
            stored: BTreeMap::new(),
            versions,
            purges: BTreeMap::new(),
            next_tag: 0,
            served_kbits: 0,
            served: 0,
            serves: BTreeMap::new(),
            refused: 0,
        }
    }

    /// The bytes behind a URL, if the store has them: which content, its digest, its size.
    pub fn resolve(&self, url: Url) -> Option<(Content, u64, u64)> {
        let version = match url.version {
            Some(v) => v,
            None => self.current.get(&url.video)?.0,
        };
        let rung = usize::from(url.rung);
        let kbits = *self.cfg.rung_kbits.get(rung)?;
        let content = Content { video: url.video, version, seg: url.seg, rung: url.rung };
        if version == 1 && url.video < self.cfg.videos {
            return (url.seg < self.cfg.video_segs).then_some((content, content.digest(), kbits));
        }
        let digest = *self.stored.get(&Chunk { video: url.video, version, chunk: url.seg })?.get(rung)?;
        Some((content, digest, kbits))
    }

    fn complete(&self, video: VideoId, version: u32, chunks: u32) -> bool {
        let rungs = self.cfg.rung_kbits.len();
        (0..chunks).all(|c| self.stored.get(&Chunk { video, version, chunk: c }).is_some_and(|d| d.len() == rungs))
    }
}

impl Actor for Origin {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        for v in 0..self.cfg.videos {
            ctx.observe(Obs::Published { video: v, version: 1 });
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::GetManifest { req, video } => {
                if let Some(&(version, segs)) = self.current.get(&video) {
                    let served_us = ctx.now().micros();
                    ctx.send(from, Msg::Manifest { req, video, version, segs, served_us });
                }
            }
            Msg::Fetch { url } => match self.resolve(url) {
                Some((content, digest, kbits)) => {
                    self.served += 1;
                    self.served_kbits += kbits;
                    *self.serves.entry(content).or_insert(0) += 1;
                    ctx.observe(Obs::OriginServed { content, kbits });
                    ctx.send(from, Msg::Object { url, digest, kbits });
                }
                None => ctx.send(from, Msg::NotFound { url }),
            },
            Msg::Put { job, chunk, digests } if digests.len() == self.cfg.rung_kbits.len() => {
                if !self.stored.contains_key(&chunk) {
                    for (rung, &digest) in digests.iter().enumerate() {
                        ctx.observe(Obs::Stored { chunk, rung: rung as u8, digest });
                    }
                }
                self.stored.insert(chunk, digests);
                ctx.send(from, Msg::PutAck { job });
            }
            Msg::Publish { video, version, chunks } => {
                let ok = self.complete(video, version, chunks);
                let newer = self.current.get(&video).is_none_or(|&(v, _)| v < version);
                if ok && newer {
                    self.current.insert(video, (version, chunks));
                    self.versions.insert((video, version, chunks));
                    ctx.observe(Obs::Published { video, version });
                    ctx.note(format!("v{video} version {version} published"));
                    if self.cfg.purge {
                        for &cache in &self.cfg.caches {
                            let delay = ctx.rng.between(0, self.cfg.purge_delay_ms);
                            self.next_tag += 1;
                            self.purges.insert(self.next_tag, (cache, video));
                            ctx.set_timer(SimDuration::from_ms(delay), self.next_tag);
                        }
                    }
                }
                if !ok {
                    self.refused += 1;
                    ctx.note(format!("v{video} version {version} not published: a rendition is missing"));
                }
                ctx.send(from, Msg::PublishAck { video, version, ok: ok || !newer });
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some((cache, video)) = self.purges.remove(&tag) {
            ctx.send(cache, Msg::Purge { video });
        }
    }

    /// Purges not yet sent are lost with the process; the store is disk.
    fn on_crash(&mut self) {
        self.purges.clear();
    }

    fn on_restart(&mut self, _ctx: &mut Ctx<'_, Msg, Obs>) {}

    fn describe(&self) -> String {
        format!("{} renditions stored, {} objects served", self.stored.len(), self.served)
    }
}
