//! The checks, each judged against its own record of the run:
//!
//! - `no-loss-no-dup`: the devices' own record of every reading they made and let go of
//!   (acknowledged; or, with no buffer, sent and forgotten), against every row the store
//!   wrote. Nothing here asks the gateway, broker or writer what they did.
//! - `memory-bound`: each gateway's queue, rebuilt from the history of what entered and
//!   left it, against the declared memory budget — whatever rule the gateway's admission
//!   enforces (or does not).
//! - `forged-rejected`: every row the store wrote, against the numbers each real device
//!   actually produced; a row its device never made came from someone without its key.

use super::msg::{LetGo, Obs};
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

const ACKED: u8 = 1;
const SENT: u8 = 2;
const OVERFLOWED: u8 = 4;
/// Let go in the last moments of the run: the writer may not have polled it yet.
const LATE: u8 = 8;
const STORED_SHIFT: u8 = 4;

/// Every reading a device let go of as delivered is in the store exactly once; no
/// reading is stored twice.
#[derive(Clone, Debug)]
pub struct NoLossNoDup {
    /// Per device, one status byte per reading number.
    recs: Vec<Vec<u8>>,
    late_from: SimTime,
    let_go: u64,
    stored: u64,
    overflowed: u64,
}

impl NoLossNoDup {
    /// `late_from`: readings let go from then on are not judged missing (the run ends
    /// before the writer could poll them).
    pub fn new(devices: u32, late_from: SimTime) -> NoLossNoDup {
        NoLossNoDup { recs: vec![Vec::new(); devices as usize], late_from, let_go: 0, stored: 0, overflowed: 0 }
    }

    fn slot(&mut self, device: u32, seq: u32) -> Option<&mut u8> {
        self.recs.get_mut(device as usize)?.get_mut(seq as usize)
    }
}

impl Property<Obs> for NoLossNoDup {
    fn name(&self) -> &'static str {
        "no-loss-no-dup"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Generated { device, seq } => {
                if let Some(v) = self.recs.get_mut(device as usize) {
                    if v.len() <= seq as usize {
                        v.resize(seq as usize + 1, 0);
                    }
                }
            }
            Obs::Delivered { device, seq, how } => {
                let late = at >= self.late_from;
                if let Some(s) = self.slot(device, seq) {
                    *s |= if how == LetGo::Acked { ACKED } else { SENT };
                    if late {
                        *s |= LATE;
                    }
                    self.let_go += 1;
                }
            }
            Obs::Overflowed { device, seq } => {
                if let Some(s) = self.slot(device, seq) {
                    *s |= OVERFLOWED;
                    self.overflowed += 1;
                }
            }
            Obs::Stored { device, seq, .. } => {
                let s = self.slot(device, seq)?;
                let copies = (*s >> STORED_SHIFT).saturating_add(1).min(3);
                *s = (*s & 0x0f) | (copies << STORED_SHIFT);
                self.stored += 1;
                if copies == 2 {
                    return Some(format!(
                        "device {device}'s reading #{seq} was written to the store twice: a re-sent copy got past deduplication"
                    ));
                }
            }
            _ => {}
        }
        None
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let mut lost = 0u64;
        let mut first = None;
        for (device, v) in self.recs.iter().enumerate() {
            for (seq, &s) in v.iter().enumerate() {
                if s & (ACKED | SENT) != 0 && s & LATE == 0 && s >> STORED_SHIFT == 0 {
                    lost += 1;
                    if first.is_none() {
                        first = Some((device, seq, s & ACKED != 0));
                    }
                }
            }
        }
        let (device, seq, acked) = first?;
        let how = if acked { "was acknowledged" } else { "was sent (no buffer: then forgotten)" };
        Some(format!(
            "{lost} delivered reading(s) never reached the store; the first: device {device}'s reading #{seq} {how}, yet no row holds it"
        ))
    }

    fn samples(&self) -> u64 {
        self.let_go + self.stored
    }

    fn summary(&self) -> String {
        format!(
            "{} readings let go as delivered, {} rows written, none lost or doubled ({} discarded by full device buffers)",
            self.let_go, self.stored, self.overflowed
        )
    }
}

/// No gateway's queued readings ever exceed the declared memory budget.
#[derive(Clone, Debug)]
pub struct MemoryBound {
    budget: u64,
    held: BTreeMap<u32, u64>,
    peak: u64,
    events: u64,
    reported: bool,
}

impl MemoryBound {
    pub fn new(budget_bytes: u64) -> MemoryBound {
        MemoryBound { budget: budget_bytes, held: BTreeMap::new(), peak: 0, events: 0, reported: false }
    }
}

impl Property<Obs> for MemoryBound {
    fn name(&self) -> &'static str {
        "memory-bound"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::GatewayStarted { gateway } => {
                self.held.insert(gateway, 0);
            }
            Obs::Queue { gateway, added, removed } => {
                self.events += 1;
                let h = self.held.entry(gateway).or_insert(0);
                *h = (*h + added).saturating_sub(removed);
                let h = *h;
                self.peak = self.peak.max(h);
                if h > self.budget && !self.reported {
                    self.reported = true;
                    return Some(format!(
                        "gateway-{gateway} holds {:.1} KB of queued readings, over its {:.1} KB budget",
                        h as f64 / 1_024.0,
                        self.budget as f64 / 1_024.0
                    ));
                }
            }
            _ => {}
        }
        None
    }

    fn samples(&self) -> u64 {
        self.events
    }

    fn summary(&self) -> String {
        format!(
            "deepest gateway queue {:.1} KB of a {:.1} KB budget ({} queue changes)",
            self.peak as f64 / 1_024.0,
            self.budget as f64 / 1_024.0,
            self.events
        )
    }
}

/// The store holds no reading its device did not make.
#[derive(Clone, Debug)]
pub struct ForgedRejected {
    /// Per device, how many readings it has made (numbers `0..made`).
    made: Vec<u32>,
    forged: u64,
    judged: u64,
}

impl ForgedRejected {
    pub fn new(devices: u32) -> ForgedRejected {
        ForgedRejected { made: vec![0; devices as usize], forged: 0, judged: 0 }
    }
}

impl Property<Obs> for ForgedRejected {
    fn name(&self) -> &'static str {
        "forged-rejected"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Generated { device, seq } => {
                if let Some(m) = self.made.get_mut(device as usize) {
                    *m = (*m).max(seq + 1);
                }
            }
            Obs::Forged { .. } => self.forged += 1,
            Obs::Stored { device, seq, value } => {
                self.judged += 1;
                let made = self.made.get(device as usize).copied().unwrap_or(0);
                if seq >= made {
                    return Some(format!(
                        "the store holds reading #{seq} (value {value}) for device {device}, which has made only {made}: a forged reading was accepted"
                    ));
                }
            }
            _ => {}
        }
        None
    }

    fn samples(&self) -> u64 {
        self.forged + self.judged
    }

    fn summary(&self) -> String {
        format!("{} forged readings sent, {} stored rows all from their devices", self.forged, self.judged)
    }
}
