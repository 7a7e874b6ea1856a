//! The three properties of a config store, each judged from a record the check builds
//! itself, never from the rule a replica enforces:
//!
//! - `linearizable` (safety): the clients' history — each call's true call and return
//!   time and the answer the client saw — must have a linearization on a register per key
//!   (`blocks::lincheck`, Wing & Gong's search with Lowe's memo, per-key splitting as in
//!   porcupine). The servers' state plays no part. A call the client abandoned may have
//!   taken effect at any time after its call, or never. The history is judged every 500
//!   completed calls (a prefix that fails already proves the whole run fails) and at the
//!   end, each search capped by a step budget (a budget run out is reported, not counted
//!   as a failure). Only the first [`MAX_OPS`] calls are recorded, which keeps a run's
//!   memory bounded; the summary says how many more there were. On failure the detail
//!   names the shortest failing window: the calls that contradict each other.
//! - `no-lost-commit` (safety): every write acknowledged to a client (the client's ack
//!   record: the put or the successful compare-and-set it saw answered) must be in the
//!   committed history — applied by some replica — by the end of the run; and no two
//!   replicas may apply different changes at the same revision (a committed revision
//!   overwritten).
//! - `watch-order` (safety): the check keeps the committed changes (what replicas apply, the
//!   first time any does) and, per watcher, the last revision it saw. Each event a watcher
//!   accepts must be the next committed change of its prefix after that revision: an
//!   earlier one is out of order, a later one means it missed what is in between, and a
//!   change not in the committed log is invented. A watcher told that its revision was
//!   compacted knowingly skips to the revision it re-read the prefix at (a resync).
//! - `sdk-cache` (safety): after every batch a watcher's SDK cache claims to hold its
//!   prefix as of some revision. The check replays the committed changes (again what
//!   replicas apply, the first time any does) up to that revision on its own copy of the
//!   keys and compares: a key missing, extra, or holding another value is a cache that
//!   serves configuration that never existed at the revision it claims. Unlike
//!   `watch-order` it also judges what a resync rebuilt.

use super::msg::{key_name, Answer, Call, Obs, Prefix};
use crate::blocks::lincheck::{check_within, shortest_failing_window, window_ops, Verdict};
use crate::blocks::lincheck::{Op, Register, RegisterInput, RegisterOutput};
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Calls recorded for `linearizable`.
pub const MAX_OPS: usize = 5_000;
/// Completed calls between two judgements of the history so far.
const JUDGE_EVERY: u64 = 500;
/// Step budget of one judgement (a few steps per call suffice for a register).
const MAX_STEPS: u64 = 4_000_000;
/// Step budget of each search the shortest-window hunt makes.
const WINDOW_STEPS: u64 = 100_000;
/// Committed values `no-lost-commit` remembers (an ack comes right after its commit).
const VALUES_KEPT: usize = 200_000;
/// Revisions whose contents `no-lost-commit` compares across replicas.
const REVS_KEPT: usize = 8_192;
/// Committed changes `watch-order` keeps beyond the slowest watcher.
const CHANGES_KEPT: usize = 100_000;

fn name(names: &[String], id: NodeId) -> String {
    names.get(id as usize).cloned().unwrap_or_else(|| format!("#{id}"))
}

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1_000.0)
}

type History = Vec<Op<RegisterInput, RegisterOutput>>;

#[derive(Clone)]
pub struct Linearizable {
    names: Vec<String>,
    history: History,
    open: BTreeMap<(NodeId, u64), usize>,
    unrecorded: u64,
    since_judged: u64,
    completed: u64,
    gave_up: Option<String>,
    failed: bool,
}

impl Linearizable {
    pub fn new(names: Vec<String>) -> Linearizable {
        Linearizable {
            names,
            history: Vec::new(),
            open: BTreeMap::new(),
            unrecorded: 0,
            since_judged: 0,
            completed: 0,
            gave_up: None,
            failed: false,
        }
    }

    /// Judges the history so far; the failure detail if it has no linearization.
    fn judge(&mut self) -> Option<String> {
        self.since_judged = 0;
        if self.failed || self.history.is_empty() {
            return None;
        }
        let report = match check_within(&Register, &self.history, MAX_STEPS) {
            Ok(r) => r,
            Err(e) => return Some(format!("malformed history: {e}")),
        };
        match report.verdict {
            Verdict::Linearizable => None,
            Verdict::GaveUp { key } => {
                self.gave_up = Some(key);
                None
            }
            Verdict::NotLinearizable { key } => {
                self.failed = true;
                Some(self.explain(&key))
            }
        }
    }

    fn explain(&self, key: &str) -> String {
        let Ok(Some(w)) = shortest_failing_window(&Register, &self.history, WINDOW_STEPS) else {
            return format!("no linearization of {key} (the shortest failing window was not found within budget)");
        };
        let ops: Vec<String> = window_ops(&Register, &self.history, &w)
            .into_iter()
            .filter(|o| o.exact)
            .map(|o| {
                let ret = o.ret.map_or("…".to_string(), ms);
                format!("{} {} [{}–{}]", name(&self.names, o.client as NodeId), o.text, ms(o.call), ret)
            })
            .collect();
        format_window(&w.key, w.from, w.to, &ops)
    }
}

/// The failure detail: "shortest failing window on KEY from A to B ms: op; op; …". The
/// views read the key and the span back with [`parse_window`].
pub fn format_window(key: &str, from_us: u64, to_us: u64, ops: &[String]) -> String {
    format!("shortest failing window on {key} from {} to {} ms: {}", ms(from_us), ms(to_us), ops.join("; "))
}

/// The key and the span (ms) of a failure detail written by [`format_window`].
pub fn parse_window(detail: &str) -> Option<(String, f64, f64)> {
    let rest = detail.strip_prefix("shortest failing window on ")?;
    let (key, rest) = rest.split_once(" from ")?;
    let (from, rest) = rest.split_once(" to ")?;
    let (to, _) = rest.split_once(" ms:")?;
    Some((key.to_string(), from.parse().ok()?, to.parse().ok()?))
}

impl Property<Obs> for Linearizable {
    fn name(&self) -> &'static str {
        "linearizable"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Invoke { client, op, key, call } => {
                if self.history.len() >= MAX_OPS {
                    self.unrecorded += 1;
                    return None;
                }
                let input = match call {
                    Call::Get => RegisterInput::Read,
                    Call::Put(v) => RegisterInput::Write(v),
                    Call::Cas { from, to } => RegisterInput::Cas { from, to },
                };
                self.open.insert((client, op), self.history.len());
                self.history.push(Op {
                    client: u64::from(client),
                    key: key_name(key),
                    call_us: at.0,
                    return_us: None,
                    input,
                    output: None,
                });
                None
            }
            Obs::Complete { client, op, answer } => {
                let i = self.open.remove(&(client, op))?;
                let h = &mut self.history[i];
                h.return_us = Some(at.0);
                h.output = Some(match answer {
                    Answer::Value(v) => RegisterOutput::Value(v),
                    Answer::Written => RegisterOutput::Written,
                    Answer::Swapped(ok) => RegisterOutput::Swapped(ok),
                });
                self.completed += 1;
                self.since_judged += 1;
                if self.since_judged >= JUDGE_EVERY {
                    return self.judge();
                }
                None
            }
            Obs::Abandon { client, op } => {
                // Stays in the history with no return: it may have happened, or not.
                self.open.remove(&(client, op));
                None
            }
            _ => None,
        }
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        self.judge()
    }

    fn samples(&self) -> u64 {
        self.completed
    }

    fn summary(&self) -> String {
        let keys: BTreeSet<&str> = self.history.iter().map(|o| o.key.as_str()).collect();
        let mut s = format!(
            "{} calls on {} keys have a linearization ({} answered)",
            self.history.len(),
            keys.len(),
            self.completed
        );
        if self.unrecorded > 0 {
            s.push_str(&format!("; the first {MAX_OPS} calls were recorded, {} later ones not", self.unrecorded));
        }
        if let Some(k) = &self.gave_up {
            s.push_str(&format!("; the search on {k} ran out of steps once (no verdict there)"));
        }
        s
    }
}

#[derive(Clone)]
pub struct NoLostCommit {
    names: Vec<String>,
    writes: BTreeMap<(NodeId, u64), (u32, u64)>,
    committed: BTreeSet<u64>,
    committed_order: VecDeque<u64>,
    revs: BTreeMap<u64, (NodeId, u32, Option<u64>)>,
    pending: BTreeMap<u64, (NodeId, u32, SimTime)>,
    acks: u64,
}

impl NoLostCommit {
    pub fn new(names: Vec<String>) -> NoLostCommit {
        NoLostCommit {
            names,
            writes: BTreeMap::new(),
            committed: BTreeSet::new(),
            committed_order: VecDeque::new(),
            revs: BTreeMap::new(),
            pending: BTreeMap::new(),
            acks: 0,
        }
    }
}

fn value_text(v: Option<u64>) -> String {
    v.map_or("(deleted)".to_string(), |v| v.to_string())
}

impl Property<Obs> for NoLostCommit {
    fn name(&self) -> &'static str {
        "no-lost-commit"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Invoke { client, op, key, call } => {
                let value = match call {
                    Call::Put(v) => v,
                    Call::Cas { to, .. } => to,
                    Call::Get => return None,
                };
                self.writes.insert((client, op), (key, value));
            }
            Obs::Complete { client, op, answer } => {
                let (key, value) = self.writes.remove(&(client, op))?;
                if matches!(answer, Answer::Written | Answer::Swapped(true)) {
                    self.acks += 1;
                    if !self.committed.contains(&value) {
                        self.pending.insert(value, (client, key, at));
                    }
                }
            }
            Obs::Abandon { client, op } => {
                self.writes.remove(&(client, op));
            }
            Obs::Applied { replica, rev, key, value } => {
                if let Some(&(first, k, v)) = self.revs.get(&rev) {
                    if (k, v) != (key, value) {
                        return Some(format!(
                            "revision {rev} is {}={} on {} but {}={} on {}: a committed revision was overwritten",
                            key_name(k),
                            value_text(v),
                            name(&self.names, first),
                            key_name(key),
                            value_text(value),
                            name(&self.names, replica)
                        ));
                    }
                } else {
                    self.revs.insert(rev, (replica, key, value));
                    if self.revs.len() > REVS_KEPT {
                        self.revs.pop_first();
                    }
                }
                if let Some(v) = value {
                    self.pending.remove(&v);
                    if self.committed.insert(v) {
                        self.committed_order.push_back(v);
                        if self.committed_order.len() > VALUES_KEPT {
                            if let Some(old) = self.committed_order.pop_front() {
                                self.committed.remove(&old);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        None
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let (&value, &(client, key, at)) = self.pending.iter().min_by_key(|(_, (_, _, at))| *at)?;
        Some(format!(
            "{}'s write {}={value} was acknowledged at {} ms but no replica ever committed it ({} acknowledged writes lost)",
            name(&self.names, client),
            key_name(key),
            ms(at.0),
            self.pending.len()
        ))
    }

    fn samples(&self) -> u64 {
        self.acks
    }

    fn summary(&self) -> String {
        format!("{} acknowledged writes, every one committed; replicas agree on every revision", self.acks)
    }
}

#[derive(Clone)]
pub struct WatchOrder {
    names: Vec<String>,
    committed: BTreeMap<u64, (u32, Option<u64>)>,
    last: BTreeMap<NodeId, u64>,
    events: u64,
    resyncs: u64,
}

impl WatchOrder {
    pub fn new(names: Vec<String>, watchers: &[NodeId]) -> WatchOrder {
        WatchOrder {
            names,
            committed: BTreeMap::new(),
            last: watchers.iter().map(|&w| (w, 0)).collect(),
            events: 0,
            resyncs: 0,
        }
    }

    /// Forgets changes every watcher is past (and, as a backstop, the oldest beyond
    /// `CHANGES_KEPT`).
    fn prune(&mut self) {
        let slowest = self.last.values().copied().min().unwrap_or(0);
        while self.committed.first_key_value().is_some_and(|(&r, _)| r <= slowest)
            || self.committed.len() > CHANGES_KEPT
        {
            self.committed.pop_first();
        }
    }
}

impl Property<Obs> for WatchOrder {
    fn name(&self) -> &'static str {
        "watch-order"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Applied { rev, key, value, .. } => {
                if rev > self.last.values().copied().min().unwrap_or(0) {
                    self.committed.entry(rev).or_insert((key, value));
                }
                if self.committed.len() > CHANGES_KEPT {
                    self.prune();
                }
                None
            }
            Obs::Resynced { watcher, from } => {
                self.resyncs += 1;
                let last = self.last.entry(watcher).or_insert(0);
                *last = (*last).max(from);
                self.prune();
                None
            }
            Obs::Watched { watcher, prefix, rev, key, value } => {
                self.events += 1;
                let who = name(&self.names, watcher);
                let last = self.last.get(&watcher).copied().unwrap_or(0);
                let bad =
                    self.judge(prefix, last, rev, key, value).map(|why| format!("{who} ({}): {why}", prefix.name()));
                self.last.insert(watcher, rev.max(last));
                self.prune();
                bad
            }
            _ => None,
        }
    }

    fn samples(&self) -> u64 {
        self.events
    }

    fn summary(&self) -> String {
        let mut s = format!("{} watch events, each the next committed change of its prefix", self.events);
        if self.resyncs > 0 {
            s.push_str(&format!(" ({} resyncs after compaction)", self.resyncs));
        }
        s
    }
}

impl WatchOrder {
    fn judge(&self, prefix: Prefix, last: u64, rev: u64, key: u32, value: Option<u64>) -> Option<String> {
        if rev <= last {
            return Some(format!("revision {rev} arrived after revision {last}: out of order"));
        }
        match self.committed.get(&rev) {
            Some(&(k, v)) if (k, v) == (key, value) => {}
            Some(&(k, v)) => {
                return Some(format!(
                    "revision {rev} shown as {}={} but committed as {}={}",
                    key_name(key),
                    value_text(value),
                    key_name(k),
                    value_text(v)
                ))
            }
            None => return Some(format!("revision {rev} ({}) was never committed", key_name(key))),
        }
        let missed: Vec<u64> =
            self.committed.range(last + 1..rev).filter(|(_, (k, _))| prefix.holds(*k)).map(|(&r, _)| r).collect();
        let (&first, more) = missed.split_first()?;
        let (k, v) = self.committed[&first];
        Some(format!(
            "jumped from revision {last} to {rev}, missing revision {first} ({}={}){}",
            key_name(k),
            value_text(v),
            if more.is_empty() { String::new() } else { format!(" and {} more", more.len()) }
        ))
    }
}

/// The committed state as one watcher's cache should see it: key → (value, revision that
/// set it), as of `rev`.
#[derive(Clone, Default)]
struct Replay {
    rev: u64,
    keys: BTreeMap<u32, (u64, u64)>,
}

impl Replay {
    fn apply(&mut self, rev: u64, key: u32, value: Option<u64>) {
        match value {
            Some(v) => self.keys.insert(key, (v, rev)),
            None => self.keys.remove(&key),
        };
        self.rev = rev;
    }
}

#[derive(Clone)]
pub struct SdkCache {
    names: Vec<String>,
    committed: BTreeMap<u64, (u32, Option<u64>)>,
    replays: BTreeMap<NodeId, Replay>,
    judged: u64,
    /// Cache reports older than what the check could still replay to (see `prune`).
    skipped: u64,
}

impl SdkCache {
    pub fn new(names: Vec<String>, watchers: &[NodeId]) -> SdkCache {
        let replays = watchers.iter().map(|&w| (w, Replay::default())).collect();
        SdkCache { names, committed: BTreeMap::new(), replays, judged: 0, skipped: 0 }
    }

    /// Forgets changes every replay is past; beyond `CHANGES_KEPT`, moves the slowest
    /// replays forward first (their next report, if older, is then skipped, not judged).
    fn prune(&mut self) {
        while self.committed.len() > CHANGES_KEPT {
            let Some((rev, (key, value))) = self.committed.pop_first() else { break };
            for r in self.replays.values_mut().filter(|r| r.rev < rev) {
                r.apply(rev, key, value);
            }
        }
        let slowest = self.replays.values().map(|r| r.rev).min().unwrap_or(0);
        while self.committed.first_key_value().is_some_and(|(&r, _)| r <= slowest) {
            self.committed.pop_first();
        }
    }

    fn judge(&mut self, watcher: NodeId, prefix: Prefix, rev: u64, items: &[(u32, u64)]) -> Option<String> {
        let replay = self.replays.entry(watcher).or_default();
        if rev < replay.rev {
            self.skipped += 1;
            return None;
        }
        for (&r, &(key, value)) in self.committed.range(replay.rev + 1..=rev) {
            replay.apply(r, key, value);
        }
        replay.rev = rev;
        self.judged += 1;
        let truth: BTreeMap<u32, (u64, u64)> =
            replay.keys.iter().filter(|(k, _)| prefix.holds(**k)).map(|(&k, &v)| (k, v)).collect();
        let cached: BTreeMap<u32, u64> = items.iter().copied().collect();
        let who = name(&self.names, watcher);
        for (&key, &(value, set_at)) in &truth {
            match cached.get(&key) {
                Some(&v) if v == value => {}
                Some(&v) => {
                    return Some(format!(
                    "{who}'s cache at r{rev} holds {}={v}, but the committed value then was {value} (set at r{set_at})",
                    key_name(key)
                ))
                }
                None => {
                    return Some(format!(
                        "{who}'s cache at r{rev} lacks {}, committed as {value} at r{set_at}",
                        key_name(key)
                    ))
                }
            }
        }
        let extra = cached.keys().find(|k| !truth.contains_key(k))?;
        Some(format!(
            "{who}'s cache at r{rev} holds {}, which no committed revision up to r{rev} leaves set",
            key_name(*extra)
        ))
    }
}

impl Property<Obs> for SdkCache {
    fn name(&self) -> &'static str {
        "sdk-cache"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Applied { rev, key, value, .. } => {
                let slowest = self.replays.values().map(|r| r.rev).min().unwrap_or(0);
                if *rev > slowest {
                    self.committed.entry(*rev).or_insert((*key, *value));
                }
                if self.committed.len() > CHANGES_KEPT {
                    self.prune();
                }
                None
            }
            Obs::Cached { watcher, prefix, rev, items } => {
                let bad = self.judge(*watcher, *prefix, *rev, items);
                self.prune();
                bad
            }
            _ => None,
        }
    }

    fn samples(&self) -> u64 {
        self.judged
    }

    fn summary(&self) -> String {
        let mut s =
            format!("{} cache states, each equal to the committed keys at the revision it claimed", self.judged);
        if self.skipped > 0 {
            s.push_str(&format!(" ({} older than the kept history, not judged)", self.skipped));
        }
        s
    }
}
