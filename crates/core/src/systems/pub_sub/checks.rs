//! The checks, judged on the history the edges of the system report — what each producer
//! was told, what each consumer read, what the sink applied, what each offset store
//! accepted — in the style of Maelstrom's `kafka` workload checker. None of them looks
//! inside a broker: a lost write is found because consumers read past its offset (or read
//! another message there), not because a broker says so.

use super::msg::Obs;
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many offsets named in one violation.
const SHOW: usize = 6;

fn short(id: u64) -> String {
    format!("m{}.{}", (id >> 32).saturating_sub(1), id & 0xffff_ffff)
}

/// Reads remembered per partition behind the furthest one read: an acknowledgement that
/// arrives later than that (never, at the rates the parameters allow) is not judged.
const READ_WINDOW: u64 = 8_192;
/// Acknowledged writes waiting to be read, per partition. Past it (a workload far beyond
/// what consumers keep up with) the oldest is judged early: lost if consumers already read
/// past it, otherwise counted as not judged.
const ACK_WINDOW: usize = 20_000;

/// Every write acknowledged to a producer is read at the offset it was acknowledged at.
/// Lost: a consumer read a different message at that offset, or read past it and never
/// read it (Maelstrom's "lost write").
#[derive(Clone, Debug, Default)]
pub struct NoLostAck {
    /// Acknowledged, not yet read back.
    acked: BTreeMap<(u32, u64), u64>,
    waiting: BTreeMap<u32, usize>,
    read: BTreeMap<(u32, u64), u64>,
    max_read: BTreeMap<u32, u64>,
    confirmed: u64,
    unjudged: u64,
    /// Judged lost early (the first few named, all counted).
    lost_early: Vec<String>,
    lost_early_n: u64,
}

impl NoLostAck {
    fn read_floor(&self, p: u32) -> u64 {
        self.max_read.get(&p).map_or(0, |m| m.saturating_sub(READ_WINDOW))
    }

    fn settle(&mut self, p: u32, offset: u64) {
        if self.acked.remove(&(p, offset)).is_some() {
            *self.waiting.entry(p).or_default() -= 1;
        }
    }

    fn lost_now(&self, p: u32, offset: u64) -> bool {
        !self.read.contains_key(&(p, offset)) && self.max_read.get(&p).is_some_and(|&m| m > offset)
    }
}

impl Property<Obs> for NoLostAck {
    fn name(&self) -> &'static str {
        "no-lost-ack"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Acked { p, offset, id } => {
                match self.acked.insert((p, offset), id) {
                    Some(other) if other != id => {
                        return Some(format!(
                        "p{p}@{offset} was acknowledged for {} and later for {}: the first acknowledged write is gone",
                        short(other),
                        short(id)
                    ))
                    }
                    Some(_) => {}
                    None => *self.waiting.entry(p).or_default() += 1,
                }
                match self.read.get(&(p, offset)) {
                    Some(&r) if r == id => {
                        self.confirmed += 1;
                        self.settle(p, offset);
                    }
                    Some(&r) => {
                        return Some(format!(
                            "{} was acknowledged at p{p}@{offset}, but consumers read {} there",
                            short(id),
                            short(r)
                        ))
                    }
                    None if offset < self.read_floor(p) => {
                        self.unjudged += 1;
                        self.settle(p, offset);
                    }
                    None => {}
                }
                if self.waiting.get(&p).is_some_and(|&n| n > ACK_WINDOW) {
                    let (&(_, o), &id) = self.acked.range((p, 0)..=(p, u64::MAX)).next().expect("waiting");
                    if self.lost_now(p, o) {
                        self.lost_early_n += 1;
                        if self.lost_early.len() < SHOW {
                            self.lost_early.push(format!("{}@p{p}:{o}", short(id)));
                        }
                    } else {
                        self.unjudged += 1;
                    }
                    self.settle(p, o);
                }
            }
            Obs::Polled { p, offset, rec, .. } => {
                let m = self.max_read.entry(p).or_insert(offset);
                *m = (*m).max(offset);
                let floor = self.read_floor(p);
                let stale: Vec<(u32, u64)> = self.read.range((p, 0)..(p, floor)).map(|(k, _)| *k).collect();
                for k in stale {
                    self.read.remove(&k);
                }
                if self.read.insert((p, offset), rec.id).is_some() {
                    return None;
                }
                match self.acked.get(&(p, offset)) {
                    Some(&a) if a == rec.id => {
                        self.confirmed += 1;
                        self.settle(p, offset);
                    }
                    Some(&a) => {
                        return Some(format!(
                            "{} was acknowledged at p{p}@{offset}, but a consumer read {} there: the acknowledged write was lost",
                            short(a),
                            short(rec.id)
                        ))
                    }
                    None => {}
                }
            }
            _ => {}
        }
        None
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let mut lost = self.lost_early.clone();
        lost.extend(
            self.acked
                .iter()
                .filter(|((p, o), _)| self.lost_now(*p, *o))
                .map(|((p, o), id)| format!("{}@p{p}:{o}", short(*id))),
        );
        let n = lost.len() as u64 - self.lost_early.len() as u64 + self.lost_early_n;
        if n == 0 {
            return None;
        }
        Some(format!(
            "{n} acknowledged writes were never read though consumers read past them: {}",
            lost.iter().take(SHOW).cloned().collect::<Vec<_>>().join(", ")
        ))
    }

    fn samples(&self) -> u64 {
        self.confirmed
    }

    fn summary(&self) -> String {
        let extra =
            if self.unjudged > 0 { format!(" ({} too far behind to judge)", self.unjudged) } else { String::new() };
        format!("{} acknowledged writes read back at their offsets{extra}", self.confirmed)
    }
}

/// Each consumer reads each partition forward (offsets increase within one positioning),
/// and each producer's messages to a partition sit in the log in the order it sent them.
#[derive(Clone, Debug, Default)]
pub struct PartitionOrder {
    /// (consumer, partition) → (session, last offset read).
    last: BTreeMap<(u32, u32), (u64, u64)>,
    /// (partition, producer) → (highest offset read, its sequence number).
    producer: BTreeMap<(u32, u32), (u64, u32)>,
    n: u64,
}

impl Property<Obs> for PartitionOrder {
    fn name(&self) -> &'static str {
        "partition-order"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Polled { consumer, session, p, offset, rec } = *obs else { return None };
        self.n += 1;
        if let Some(&(s, o)) = self.last.get(&(consumer, p)) {
            if s == session && offset <= o {
                return Some(format!("consumer-{consumer} read p{p}@{offset} after p{p}@{o} without repositioning"));
            }
        }
        self.last.insert((consumer, p), (session, offset));
        let key = (p, rec.producer);
        match self.producer.get(&key) {
            Some(&(o, _)) if offset <= o => {}
            Some(&(o, seq)) if rec.seq < seq => {
                return Some(format!(
                    "producer-{} sent {} (its #{} to p{p}) before #{seq}, but the log holds it at p{p}@{offset}, after #{seq} at p{p}@{o}: a retried message landed after a later one",
                    rec.producer & 0xff,
                    short(rec.id),
                    rec.seq
                ));
            }
            _ => {
                self.producer.insert(key, (offset, rec.seq));
            }
        }
        None
    }

    fn samples(&self) -> u64 {
        self.n
    }
}

/// Every offset below a partition's final committed offset was processed: a commit never
/// covers a record whose effect never reached the sink.
#[derive(Clone, Debug, Default)]
pub struct NoGap {
    /// Per partition: every offset below the first number applied, and the applied
    /// offsets above it (a summary that stays small while processing has no holes).
    applied: BTreeMap<u32, (u64, BTreeSet<u64>)>,
    committed: BTreeMap<u32, u64>,
    judged: u64,
}

impl Property<Obs> for NoGap {
    fn name(&self) -> &'static str {
        "no-gap"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Applied { p, offset, .. } => {
                let (upto, above) = self.applied.entry(p).or_default();
                if offset >= *upto {
                    above.insert(offset);
                    while above.remove(upto) {
                        *upto += 1;
                    }
                }
            }
            Obs::Committed { p, offset, .. } => {
                let c = self.committed.entry(p).or_default();
                *c = (*c).max(offset);
            }
            _ => {}
        }
        None
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let mut bad = Vec::new();
        let none = (0, BTreeSet::new());
        for (&p, &c) in &self.committed {
            self.judged += c;
            let (upto, above) = self.applied.get(&p).unwrap_or(&none);
            if *upto >= c {
                continue;
            }
            let holes = (c - upto) - above.range(*upto..c).count() as u64;
            let first: Vec<String> =
                (*upto..c).filter(|o| !above.contains(o)).take(SHOW).map(|o| o.to_string()).collect();
            let more = holes - first.len() as u64;
            let more = if more > 0 { format!(" (+{more} more)") } else { String::new() };
            let shown = format!("{}{more}", first.join(", "));
            bad.push(format!("p{p}: committed up to {c}, but offsets {shown} were never processed"));
        }
        (!bad.is_empty()).then(|| bad.join("; "))
    }

    fn samples(&self) -> u64 {
        self.judged + self.committed.len() as u64
    }
}

/// Each acknowledged message's effect is applied exactly once: never twice, and never
/// missing once the group has committed past the offset it was acknowledged at.
#[derive(Clone, Debug, Default)]
pub struct EffectivelyOnce {
    applied: BTreeMap<u64, (u32, u64)>,
    /// Acknowledged, not yet applied.
    acked: BTreeMap<u64, (u32, u64)>,
    committed: BTreeMap<u32, u64>,
    /// Judged lost early (the first few named, all counted).
    lost_early: Vec<String>,
    lost_early_n: u64,
    n: u64,
}

impl Property<Obs> for EffectivelyOnce {
    fn name(&self) -> &'static str {
        "effectively-once"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Applied { p, offset, id } => {
                self.n += 1;
                self.acked.remove(&id);
                if let Some((p0, o0)) = self.applied.insert(id, (p, offset)) {
                    return Some(format!("{} applied twice: from p{p0}@{o0} and again from p{p}@{offset}", short(id)));
                }
            }
            Obs::Acked { p, offset, id } => {
                if !self.applied.contains_key(&id) {
                    self.acked.insert(id, (p, offset));
                }
                if self.acked.len() > ACK_WINDOW * 4 {
                    // Far past any rate the parameters allow: judge the oldest now.
                    let (id, (p, o)) = self.acked.pop_first().expect("non-empty");
                    if self.committed.get(&p).is_some_and(|&c| c > o) {
                        self.lost_early_n += 1;
                        if self.lost_early.len() < SHOW {
                            self.lost_early.push(format!("{}@p{p}:{o}", short(id)));
                        }
                    }
                }
            }
            Obs::Committed { p, offset, .. } => {
                let c = self.committed.entry(p).or_default();
                *c = (*c).max(offset);
            }
            _ => {}
        }
        None
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let mut lost = self.lost_early.clone();
        lost.extend(
            self.acked
                .iter()
                .filter(|(id, (p, o))| !self.applied.contains_key(id) && self.committed.get(p).is_some_and(|c| c > o))
                .map(|(id, (p, o))| format!("{}@p{p}:{o}", short(*id))),
        );
        let n = lost.len() as u64 - self.lost_early.len() as u64 + self.lost_early_n;
        if n == 0 {
            return None;
        }
        Some(format!(
            "{n} acknowledged messages below the committed offset never took effect: {}",
            lost.iter().take(SHOW).cloned().collect::<Vec<_>>().join(", ")
        ))
    }

    fn samples(&self) -> u64 {
        self.n
    }
}

/// A partition's committed offset never moves back.
#[derive(Clone, Debug, Default)]
pub struct MonotonicCommits {
    last: BTreeMap<u32, u64>,
    n: u64,
}

impl Property<Obs> for MonotonicCommits {
    fn name(&self) -> &'static str {
        "monotonic-commits"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Committed { p, offset, store } = *obs else { return None };
        self.n += 1;
        let before = self.last.insert(p, offset);
        match before {
            Some(b) if offset < b => Some(format!(
                "p{p}: the {store:?} store accepted offset {offset} after {b}: the group will re-read {} records",
                b - offset
            )),
            _ => None,
        }
    }

    fn samples(&self) -> u64 {
        self.n
    }
}
