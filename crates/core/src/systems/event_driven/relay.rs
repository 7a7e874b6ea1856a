//! The outbox relay (a Debezium / Kafka Connect source task in miniature): it polls each
//! service's outbox for rows after its cursor, appends them to the bus (one batch per
//! service in flight, resent until acknowledged), and only every `flush_ms` tells each
//! service which rows it may delete — its source offset, flushed periodically as Kafka
//! Connect's `offset.flush.interval.ms` does. The cursor lives in memory: after a crash
//! the relay starts again from the oldest row still in an outbox and publishes again
//! whatever it had published since the last flush. At-least-once, never lost.

use super::msg::{Event, Msg, Obs};
use super::service::RETRY_MS;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

const POLL: u64 = 1;
const FLUSH: u64 = 2;

#[derive(Clone, Debug, Default)]
struct Source {
    node: NodeId,
    /// Rows up to here are on the bus (volatile).
    cursor: Option<u64>,
    /// The delete last sent.
    flushed: Option<u64>,
    polled: Option<SimTime>,
    in_flight: Option<(u64, u64, Vec<Event>, SimTime)>,
}

#[derive(Clone, Debug)]
pub struct Relay {
    pub bus: NodeId,
    pub poll_ms: u64,
    pub flush_ms: u64,
    sources: Vec<Source>,
    batch: u64,
    pub published: u64,
}

impl Relay {
    pub fn new(bus: NodeId, services: &[NodeId], poll_ms: u64, flush_ms: u64) -> Relay {
        let sources = services.iter().map(|&node| Source { node, ..Source::default() }).collect();
        Relay { bus, poll_ms, flush_ms, sources, batch: 0, published: 0 }
    }
}

impl Actor for Relay {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(self.poll_ms), POLL);
        ctx.set_timer(SimDuration::from_ms(self.flush_ms), FLUSH);
    }

    fn on_crash(&mut self) {
        for s in &mut self.sources {
            *s = Source { node: s.node, ..Source::default() };
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let retry = SimDuration::from_ms(RETRY_MS);
        match tag {
            POLL => {
                for s in &mut self.sources {
                    match &mut s.in_flight {
                        Some((batch, _, records, sent)) => {
                            if ctx.now().since(*sent) >= retry {
                                *sent = ctx.now();
                                ctx.send(self.bus, Msg::Produce { batch: *batch, records: records.clone() });
                            }
                        }
                        None => {
                            if s.polled.is_none_or(|t| ctx.now().since(t) >= retry) {
                                s.polled = Some(ctx.now());
                                ctx.send(s.node, Msg::OutboxPoll { after: s.cursor });
                            }
                        }
                    }
                }
                ctx.set_timer(SimDuration::from_ms(self.poll_ms), POLL);
            }
            FLUSH => {
                for s in &mut self.sources {
                    if let Some(c) = s.cursor.filter(|&c| s.flushed != Some(c)) {
                        s.flushed = Some(c);
                        ctx.send(s.node, Msg::OutboxDelete { upto: c });
                    }
                }
                ctx.set_timer(SimDuration::from_ms(self.flush_ms), FLUSH);
            }
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::OutboxRows { rows } => {
                let Some(s) = self.sources.iter_mut().find(|s| s.node == from) else { return };
                s.polled = None;
                let fresh: Vec<(u64, Event)> =
                    rows.into_iter().filter(|(id, _)| s.cursor.is_none_or(|c| *id > c)).collect();
                if s.in_flight.is_some() || fresh.is_empty() {
                    return;
                }
                let last = fresh.iter().map(|r| r.0).max().unwrap_or(0);
                let records: Vec<Event> = fresh.into_iter().map(|r| r.1).collect();
                self.batch += 1;
                ctx.send(self.bus, Msg::Produce { batch: self.batch, records: records.clone() });
                s.in_flight = Some((self.batch, last, records, ctx.now()));
            }
            Msg::Produced { batch } => {
                for s in &mut self.sources {
                    if let Some((b, last, records, _)) = &s.in_flight {
                        if *b == batch {
                            self.published += records.len() as u64;
                            ctx.metrics.add("relayed", records.len() as u64);
                            s.cursor = Some(*last);
                            s.in_flight = None;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} relayed", self.published)
    }
}
