//! The two delivery checks, judged from records the checks keep themselves: what each
//! sender was told (the acknowledgement, with the sequence number the store gave its
//! message) and what each device put on screen. Neither looks at the store, the
//! gateways or the devices' own bookkeeping.
//!
//! - `delivered-exactly-once` (safety): every message acknowledged to its sender is
//!   displayed exactly once on every device of every member of its conversation by the
//!   end of the run. A second display of one (conversation, seq), or one message id
//!   showing up under two sequence numbers, fails at once; a missing display fails at the
//!   end. Devices that the fault plan leaves crashed at the end are excused.
//! - `conversation-order` (safety): each device displays each conversation's messages in
//!   sequence order with no gap — the next message it shows is always the one after the
//!   last it showed.
//!
//! Memory stays bounded by the run's length: one bit per (device, sequence number) of
//! what was shown, one bit per acknowledged sequence number, one word per message id.

use super::msg::{Item, MsgId, Obs};
use crate::check::{Property, RunEnd};
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// A growable bit set over sequence numbers.
#[derive(Clone, Default, Debug)]
pub struct Bits(Vec<u64>);

impl Bits {
    pub fn get(&self, i: u64) -> bool {
        self.0.get((i / 64) as usize).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    /// Sets bit `i`; returns whether it was set before.
    pub fn set(&mut self, i: u64) -> bool {
        let w = (i / 64) as usize;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        let before = self.0[w] & (1 << (i % 64)) != 0;
        self.0[w] |= 1 << (i % 64);
        before
    }
    /// The set bits, ascending.
    pub fn ones(&self) -> impl Iterator<Item = u64> + '_ {
        self.0
            .iter()
            .enumerate()
            .flat_map(|(w, &bits)| (0..64u64).filter(move |b| bits & (1 << b) != 0).map(move |b| w as u64 * 64 + b))
    }
}

fn name(names: &[String], id: NodeId) -> String {
    names.get(id as usize).cloned().unwrap_or_else(|| format!("#{id}"))
}

fn msg_name(names: &[String], id: MsgId) -> String {
    format!("{}'s message {}", name(names, id.device), id.n)
}

/// Every acknowledged message on every recipient device exactly once.
#[derive(Clone)]
pub struct DeliveredExactlyOnce {
    names: Vec<String>,
    conv_names: Vec<String>,
    /// Devices that must show each conversation's messages.
    recipients: Vec<Vec<NodeId>>,
    /// Devices the plan leaves crashed at the end (excused from the final count).
    excused: Vec<bool>,
    acked: Vec<Bits>,
    shown: BTreeMap<(NodeId, u32), Bits>,
    /// Per sending device, per message counter: its sequence number + 1 (0: unknown).
    msg_seq: Vec<Vec<u32>>,
    acks: u64,
    displays: u64,
    verdict: String,
}

impl DeliveredExactlyOnce {
    pub fn new(
        names: Vec<String>,
        conv_names: Vec<String>,
        recipients: Vec<Vec<NodeId>>,
        excused: Vec<bool>,
    ) -> DeliveredExactlyOnce {
        let convs = conv_names.len();
        let devices = excused.len();
        DeliveredExactlyOnce {
            names,
            conv_names,
            recipients,
            excused,
            acked: vec![Bits::default(); convs],
            shown: BTreeMap::new(),
            msg_seq: vec![Vec::new(); devices],
            acks: 0,
            displays: 0,
            verdict: String::new(),
        }
    }

    fn conv(&self, c: u32) -> String {
        self.conv_names.get(c as usize).cloned().unwrap_or_else(|| format!("c{c}"))
    }

    /// Records which sequence number a message id has; a second one is a copy.
    fn same_message(&mut self, item: &Item) -> Option<String> {
        let per = self.msg_seq.get_mut(item.id.device as usize)?;
        let n = item.id.n as usize;
        if per.len() <= n {
            per.resize(n + 1, 0);
        }
        let seq = item.seq.min(u32::MAX as u64 - 1) as u32 + 1;
        match per[n] {
            0 => {
                per[n] = seq;
                None
            }
            s if s == seq => None,
            s => Some(format!(
                "{} is in {} twice, as #{} and #{}: it was stored twice",
                msg_name(&self.names, item.id),
                self.conv(item.conv),
                s - 1,
                item.seq
            )),
        }
    }
}

impl Property<Obs> for DeliveredExactlyOnce {
    fn name(&self) -> &'static str {
        "delivered-exactly-once"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Acked { item } => {
                self.acks += 1;
                if let Some(a) = self.acked.get_mut(item.conv as usize) {
                    a.set(item.seq);
                }
                self.same_message(item)
            }
            Obs::Displayed { device, item } => {
                self.displays += 1;
                let again = self.shown.entry((*device, item.conv)).or_default().set(item.seq);
                if again {
                    return Some(format!(
                        "{} displayed {} #{} ({}) a second time",
                        name(&self.names, *device),
                        self.conv(item.conv),
                        item.seq,
                        msg_name(&self.names, item.id)
                    ));
                }
                self.same_message(item)
            }
            _ => None,
        }
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let mut missing = 0u64;
        let mut first = None;
        let mut judged = 0u64;
        let empty = Bits::default();
        for (c, acked) in self.acked.iter().enumerate() {
            for seq in acked.ones() {
                for &d in &self.recipients[c] {
                    if self.excused.get(d as usize).copied().unwrap_or(false) {
                        continue;
                    }
                    judged += 1;
                    if !self.shown.get(&(d, c as u32)).unwrap_or(&empty).get(seq) {
                        missing += 1;
                        first.get_or_insert((d, c as u32, seq));
                    }
                }
            }
        }
        if let Some((d, c, seq)) = first {
            return Some(format!(
                "{missing} of {judged} (acknowledged message, recipient device) pairs never displayed; first: {} #{} never reached {}",
                self.conv(c),
                seq,
                name(&self.names, d)
            ));
        }
        self.verdict = format!(
            "{} acknowledged messages, each displayed once on every recipient device ({judged} displays judged)",
            self.acks
        );
        None
    }
    fn samples(&self) -> u64 {
        self.acks + self.displays
    }
    fn summary(&self) -> String {
        if self.verdict.is_empty() {
            format!("{} acknowledgements, {} displays so far", self.acks, self.displays)
        } else {
            self.verdict.clone()
        }
    }
}

/// Each device shows each conversation in sequence order without a gap.
#[derive(Clone)]
pub struct ConversationOrder {
    names: Vec<String>,
    conv_names: Vec<String>,
    last: BTreeMap<(NodeId, u32), u64>,
    displays: u64,
}

impl ConversationOrder {
    pub fn new(names: Vec<String>, conv_names: Vec<String>) -> ConversationOrder {
        ConversationOrder { names, conv_names, last: BTreeMap::new(), displays: 0 }
    }
}

impl Property<Obs> for ConversationOrder {
    fn name(&self) -> &'static str {
        "conversation-order"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Displayed { device, item } = obs else { return None };
        self.displays += 1;
        let last = self.last.entry((*device, item.conv)).or_insert(0);
        let prev = *last;
        *last = item.seq;
        if item.seq == prev || item.seq == prev + 1 {
            // A repeat of the last one is a copy, which `delivered-exactly-once` judges.
            return None;
        }
        let conv = self.conv_names.get(item.conv as usize).cloned().unwrap_or_default();
        let what = if item.seq > prev {
            format!("skipping #{}..#{}", prev + 1, item.seq - 1)
        } else {
            "going backwards".to_string()
        };
        Some(format!("{} displayed {conv} #{} right after #{prev}, {what}", name(&self.names, *device), item.seq))
    }
    fn samples(&self) -> u64 {
        self.displays
    }
    fn summary(&self) -> String {
        format!("{} displays, each the next in its conversation", self.displays)
    }
}
