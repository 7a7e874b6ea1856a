//! Messages and observations of the video-streaming model. Three conversations: players
//! with the CDN (a manifest from the origin's manifest API, segments from an edge, which
//! fills misses from the origin shield or, without one, from the origin), the upload
//! pipeline (uploader → job queue → transcoders → origin store) and the origin's purges.
//!
//! What the checks need travels as observations reported where the fact arises: the origin
//! reports every byte it served, every rendition it stored and every version it published
//! (its own history); the uploader reports each chunk the queue accepted; a player reports
//! each segment when its last byte arrives, with the digest of the bytes it got. A check
//! rebuilds its verdict from those records, never from a field the design computed for
//! itself.

use crate::sim::node::Message;
use crate::sim::rng::mix64;

/// A video's id in the catalog.
pub type VideoId = u32;

/// A segment's address on the CDN. With versioned URLs the version is part of the path
/// (`/v/3/v2/seg7/1080p.m4s`), so a new version is a new object; with purge the path has
/// no version (`/v/3/seg7/1080p.m4s`) and the origin answers with whatever is current.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Url {
    pub video: VideoId,
    pub version: Option<u32>,
    pub seg: u32,
    pub rung: u8,
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.version {
            Some(v) => write!(f, "/v{}/ver{v}/s{}/r{}", self.video, self.seg, self.rung),
            None => write!(f, "/v{}/s{}/r{}", self.video, self.seg, self.rung),
        }
    }
}

/// The bytes of one rendition: which content they are (what a content hash names).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Content {
    pub video: VideoId,
    pub version: u32,
    pub seg: u32,
    pub rung: u8,
}

impl Content {
    /// The digest a transcoder stamps on this rendition: a stand-in for a hash of its
    /// bytes (two versions of one segment never share it).
    pub fn digest(&self) -> u64 {
        let a = mix64(u64::from(self.video) << 32 | u64::from(self.version));
        mix64(a ^ (u64::from(self.seg) << 8 | u64::from(self.rung)))
    }
}

/// One transcoding job: a source chunk of one version of a video, to every rung.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Chunk {
    pub video: VideoId,
    pub version: u32,
    pub chunk: u32,
}

impl std::fmt::Display for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{} chunk {}", self.video, self.version, self.chunk)
    }
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Player → origin's manifest API.
    GetManifest { req: u64, video: VideoId },
    /// Origin → player: the version current when it was served, and when that was.
    Manifest { req: u64, video: VideoId, version: u32, segs: u32, served_us: u64 },
    /// Player → edge.
    GetSegment { req: u64, url: Url },
    /// Edge → player: the first byte of a segment (the transfer then runs on the player's
    /// access link). `digest` names the bytes.
    Segment { req: u64, url: Url, digest: u64, kbits: u64 },
    /// Edge → shield, shield → origin (or edge → origin without a shield).
    Fetch { url: Url },
    /// The object behind a URL.
    Object { url: Url, digest: u64, kbits: u64 },
    /// Nothing stored under that URL.
    NotFound { url: Url },
    /// Origin's purge API → a cache: drop every object of this video.
    Purge { video: VideoId },
    /// Uploader → queue: one source chunk is in the object store; transcode it.
    Upload { chunk: Chunk, chunks: u32 },
    /// Queue → uploader: the job is durably queued.
    Accepted { chunk: Chunk },
    /// Queue → uploader: the queue is full; try later.
    Busy { chunk: Chunk },
    /// Transcoder → queue: give me work.
    Take,
    /// Queue → transcoder: a job under a lease (`epoch` fences a holder that lost it).
    Job { job: u64, epoch: u64, chunk: Chunk },
    /// Queue → transcoder: nothing to do.
    NoJob,
    /// Transcoder → queue: still working on `job`.
    Renew { job: u64, epoch: u64 },
    /// Queue → transcoder: that lease is gone (expired and re-leased, or done).
    Lost { job: u64 },
    /// Transcoder → queue: every rung of the job is stored.
    Done { job: u64, epoch: u64 },
    /// Transcoder → origin: the renditions of one chunk, one digest per rung.
    Put { job: u64, chunk: Chunk, digests: Vec<u64> },
    /// Origin → transcoder.
    PutAck { job: u64 },
    /// Queue → origin: every chunk of this version is transcoded; switch the manifest.
    Publish { video: VideoId, version: u32, chunks: u32 },
    /// Origin → queue: published (or refused: a rendition is missing).
    PublishAck { video: VideoId, version: u32, ok: bool },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::GetManifest { video, .. } => format!("manifest? v{video}"),
            Msg::Manifest { video, version, .. } => format!("manifest v{video} ver{version}"),
            Msg::GetSegment { url, .. } => format!("GET {url}"),
            Msg::Segment { url, kbits, .. } => format!("{url} {kbits} kbit"),
            Msg::Fetch { url } => format!("fetch {url}"),
            Msg::Object { url, kbits, .. } => format!("object {url} {kbits} kbit"),
            Msg::NotFound { url } => format!("404 {url}"),
            Msg::Purge { video } => format!("purge v{video}"),
            Msg::Upload { chunk, .. } => format!("upload {chunk}"),
            Msg::Accepted { chunk } => format!("queued {chunk}"),
            Msg::Busy { chunk } => format!("busy {chunk}"),
            Msg::Take => "take".into(),
            Msg::Job { job, epoch, chunk } => format!("job #{job} e{epoch} {chunk}"),
            Msg::NoJob => "no job".into(),
            Msg::Renew { job, .. } => format!("renew #{job}"),
            Msg::Lost { job } => format!("lease lost #{job}"),
            Msg::Done { job, .. } => format!("done #{job}"),
            Msg::Put { chunk, digests, .. } => format!("put {chunk} × {} rungs", digests.len()),
            Msg::PutAck { job } => format!("stored #{job}"),
            Msg::Publish { video, version, .. } => format!("publish v{video} ver{version}"),
            Msg::PublishAck { video, version, ok } => {
                format!("publish v{video} ver{version} {}", if *ok { "ok" } else { "refused" })
            }
        }
    }
}

/// What nodes report to the checks (times are the kernel's true time of the report).
#[derive(Clone, Debug)]
pub enum Obs {
    /// The origin made `version` the current version of `video` (its version history).
    Published { video: VideoId, version: u32 },
    /// The origin sent an object's bytes (to the shield, or to an edge without one).
    OriginServed { content: Content, kbits: u64 },
    /// The origin stored a rendition of a chunk.
    Stored { chunk: Chunk, rung: u8, digest: u64 },
    /// The queue accepted a chunk for transcoding (the uploader's record).
    Uploaded { chunk: Chunk },
    /// A player asked for a segment (it is now waiting for it).
    Requested { player: u32 },
    /// A player's session started (a manifest arrived): playback begins with its first
    /// segment.
    SessionStart { player: u32, video: VideoId },
    /// The last byte of a segment reached a player. `manifest_*` is what its manifest said
    /// (version, and the origin's time of serving it); `digest` names the bytes it got.
    SegmentIn { player: u32, url: Url, seg_ms: u64, manifest_version: u32, manifest_us: u64, digest: u64, kbits: u64 },
}
