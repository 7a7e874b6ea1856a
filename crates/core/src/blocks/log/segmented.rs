//! One replica's copy of one partition: a segmented, append-only log.
//!
//! Records get consecutive offsets. The log is a list of segments; the last one (the
//! active segment) takes appends and rolls — a new segment starts at the log end — when
//! the next record would push it past `segment_max_bytes` or it already holds
//! `segment_max_records` (Kafka's `segment.bytes` and the index filling up). Retention
//! deletes whole segments from the head, never the active one, and only segments wholly
//! below a bound the caller gives (Kafka deletes only below the high watermark): by age,
//! a segment whose newest record is older than `retention_ms`; by size, a head segment
//! whose removal still leaves at least `retention_bytes` (Kafka's
//! `UnifiedLog.deleteRetentionMsBreachedSegments` and `deleteRetentionSizeBreachedSegments`,
//! time first, then size). Deleting moves the log-start offset; reading below it, or
//! beyond the log end, is `OffsetOutOfRange`, the error a Kafka fetch returns.
//!
//! A leader hands out each offset once. A follower may lose a suffix it copied from a
//! deposed leader (`truncate_to`) and take different records at those offsets from the
//! new one: that is the divergence replication must repair, and the records carry the
//! leader epoch that wrote them so it can be found.

use std::collections::VecDeque;

pub type Offset = u64;

/// One record as stored: where it sits, who wrote it, when, and how big it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<V> {
    pub offset: Offset,
    /// The leader epoch of the leader that appended it (KIP-101).
    pub epoch: u32,
    /// Append time, in the caller's milliseconds; retention by age reads it.
    pub time_ms: u64,
    /// Bytes it counts for, in segment rolling and retention by size.
    pub size: u64,
    pub value: V,
}

/// How segments roll and what retention keeps. `None` disables that retention rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub segment_max_bytes: u64,
    pub segment_max_records: u64,
    pub retention_bytes: Option<u64>,
    pub retention_ms: Option<u64>,
}

impl Default for LogConfig {
    /// Kafka's defaults scaled to a simulation: roll every 1 MiB, keep everything.
    fn default() -> Self {
        LogConfig {
            segment_max_bytes: 1 << 20,
            segment_max_records: 1 << 16,
            retention_bytes: None,
            retention_ms: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogError {
    /// The offset is below the log start (deleted by retention or never here) or beyond
    /// the log end.
    OffsetOutOfRange { requested: Offset, log_start: Offset, log_end: Offset },
    /// A copied record must land exactly at the log end.
    NotAtLogEnd { offset: Offset, log_end: Offset },
}

#[derive(Clone, Debug)]
struct Segment<V> {
    base: Offset,
    records: Vec<Record<V>>,
    bytes: u64,
    /// The newest record's time (what retention by age reads); `None` when empty.
    newest_ms: Option<u64>,
}

impl<V> Segment<V> {
    fn empty(base: Offset) -> Segment<V> {
        Segment { base, records: Vec::new(), bytes: 0, newest_ms: None }
    }

    fn next_offset(&self) -> Offset {
        self.base + self.records.len() as u64
    }
}

/// A partition's log on one replica. Always holds at least one (active) segment.
#[derive(Clone, Debug)]
pub struct Log<V> {
    config: LogConfig,
    segments: VecDeque<Segment<V>>,
    bytes: u64,
}

impl<V> Log<V> {
    pub fn new(config: LogConfig) -> Log<V> {
        Log::starting_at(config, 0)
    }

    /// An empty log whose first record will get `start`.
    pub fn starting_at(config: LogConfig, start: Offset) -> Log<V> {
        assert!(config.segment_max_bytes >= 1 && config.segment_max_records >= 1);
        Log { config, segments: VecDeque::from([Segment::empty(start)]), bytes: 0 }
    }

    pub fn config(&self) -> LogConfig {
        self.config
    }

    /// The first offset still held.
    pub fn log_start(&self) -> Offset {
        self.segments[0].base
    }

    /// The offset the next record will get (one past the last).
    pub fn log_end(&self) -> Offset {
        self.active().next_offset()
    }

    pub fn len(&self) -> u64 {
        self.log_end() - self.log_start()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held over all segments.
    pub fn size_bytes(&self) -> u64 {
        self.bytes
    }

    /// Base offsets of the segments, oldest first (the last is the active segment).
    pub fn segment_bases(&self) -> Vec<Offset> {
        self.segments.iter().map(|s| s.base).collect()
    }

    fn active(&self) -> &Segment<V> {
        self.segments.back().expect("a log always has an active segment")
    }

    /// A leader's append: the record gets the log end as its offset.
    pub fn append(&mut self, value: V, size: u64, epoch: u32, now_ms: u64) -> Offset {
        let offset = self.log_end();
        self.push(Record { offset, epoch, time_ms: now_ms, size, value });
        offset
    }

    /// A follower's append of a record copied from the leader, offset and all.
    pub fn append_replicated(&mut self, record: Record<V>) -> Result<(), LogError> {
        let log_end = self.log_end();
        if record.offset != log_end {
            return Err(LogError::NotAtLogEnd { offset: record.offset, log_end });
        }
        self.push(record);
        Ok(())
    }

    fn push(&mut self, record: Record<V>) {
        let active = self.active();
        let full = active.records.len() as u64 >= self.config.segment_max_records
            || active.bytes + record.size > self.config.segment_max_bytes;
        if full && !active.records.is_empty() {
            let base = active.next_offset();
            self.segments.push_back(Segment::empty(base));
        }
        let active = self.segments.back_mut().expect("active segment");
        active.bytes += record.size;
        active.newest_ms = active.newest_ms.max(Some(record.time_ms));
        self.bytes += record.size;
        active.records.push(record);
    }

    /// The record at `offset`, if the log holds it.
    pub fn get(&self, offset: Offset) -> Option<&Record<V>> {
        if offset < self.log_start() || offset >= self.log_end() {
            return None;
        }
        let i = self.segments.partition_point(|s| s.base <= offset) - 1;
        let seg = &self.segments[i];
        seg.records.get((offset - seg.base) as usize)
    }

    /// Checks that `from` is a valid fetch position: within `[log_start, log_end]`.
    pub fn check_offset(&self, from: Offset) -> Result<(), LogError> {
        if from < self.log_start() || from > self.log_end() {
            return Err(LogError::OffsetOutOfRange {
                requested: from,
                log_start: self.log_start(),
                log_end: self.log_end(),
            });
        }
        Ok(())
    }

    /// Up to `max` records from `from` onwards, stopping before offset `upto` (pass the
    /// high watermark for a consumer, the log end for a follower). Reading at the log
    /// end gives nothing; below the log start or past the end is an error.
    pub fn read(&self, from: Offset, upto: Offset, max: usize) -> Result<Vec<Record<V>>, LogError>
    where
        V: Clone,
    {
        self.check_offset(from)?;
        let stop = upto.min(self.log_end());
        let mut out = Vec::new();
        let mut next = from;
        while next < stop && out.len() < max {
            let i = self.segments.partition_point(|s| s.base <= next) - 1;
            let seg = &self.segments[i];
            let skip = (next - seg.base) as usize;
            let want = ((stop - next) as usize).min(max - out.len());
            let take = seg.records.len().saturating_sub(skip).min(want);
            out.extend(seg.records[skip..skip + take].iter().cloned());
            next += take as u64;
            if take == 0 {
                break;
            }
        }
        Ok(out)
    }

    /// Removes every record at `offset` or beyond (a follower discarding what a deposed
    /// leader gave it). At or below the log start the log empties and restarts at
    /// `offset` (Kafka's `truncateFullyAndStartAt`). Returns how many records went.
    pub fn truncate_to(&mut self, offset: Offset) -> u64 {
        let before = self.len();
        if offset >= self.log_end() {
            return 0;
        }
        if offset <= self.log_start() {
            self.reset_to(offset);
            return before;
        }
        while self.active().base >= offset {
            let gone = self.segments.pop_back().expect("segment");
            self.bytes -= gone.bytes;
        }
        let active = self.segments.back_mut().expect("active segment");
        let keep = (offset - active.base) as usize;
        let dropped: u64 = active.records[keep..].iter().map(|r| r.size).sum();
        active.records.truncate(keep);
        active.newest_ms = active.records.iter().map(|r| r.time_ms).max();
        active.bytes -= dropped;
        self.bytes -= dropped;
        before - self.len()
    }

    /// Drops everything; the next record gets `offset` (a follower too far behind the
    /// leader's log start).
    pub fn reset_to(&mut self, offset: Offset) {
        self.segments = VecDeque::from([Segment::empty(offset)]);
        self.bytes = 0;
    }

    /// Deletes head segments retention no longer keeps, considering only segments wholly
    /// below `upto` and never the active one. Returns how many segments went.
    pub fn apply_retention(&mut self, now_ms: u64, upto: Offset) -> usize {
        let mut deleted = 0;
        if let Some(limit) = self.config.retention_ms {
            while self.head_deletable(upto)
                && self.segments[0].newest_ms.is_some_and(|t| now_ms.saturating_sub(t) > limit)
            {
                self.delete_head();
                deleted += 1;
            }
        }
        if let Some(limit) = self.config.retention_bytes {
            while self.head_deletable(upto) && self.bytes - self.segments[0].bytes >= limit {
                self.delete_head();
                deleted += 1;
            }
        }
        deleted
    }

    fn head_deletable(&self, upto: Offset) -> bool {
        self.segments.len() > 1 && self.segments[0].next_offset() <= upto
    }

    fn delete_head(&mut self) {
        let gone = self.segments.pop_front().expect("head segment");
        self.bytes -= gone.bytes;
    }
}
