//! The controller and group coordinator (one node; in Kafka a KRaft quorum and a broker
//! chosen per group — here kept out of the fault plan so the lessons stay on the data
//! path). As controller it watches broker heartbeats, elects partition leaders — cleanly,
//! only from the ISR — and owns each partition's ISR. As coordinator it tracks consumer
//! heartbeats, starts a new generation whenever a member joins, leaves or times out,
//! assigns partitions with the configured assignor, and keeps committed offsets, refusing
//! a commit from an older generation or for a partition the member no longer owns
//! (Kafka's `ILLEGAL_GENERATION`) unless fencing is switched off.

use super::msg::{Msg, Obs, PartMeta, Store};
use crate::blocks::assignor::{self, Assignment, Subscriptions, Topics};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

const TICK: u64 = 1;
const TICK_MS: u64 = 50;
pub const TOPIC: &str = "events";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignorKind {
    Range,
    RoundRobin,
    Sticky,
}

impl AssignorKind {
    pub fn from_id(id: &str) -> Option<AssignorKind> {
        Some(match id {
            "range" => AssignorKind::Range,
            "round-robin" => AssignorKind::RoundRobin,
            "sticky" => AssignorKind::Sticky,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct ControllerCfg {
    pub brokers: Vec<NodeId>,
    /// Everyone who wants metadata: brokers, producers, consumers.
    pub listeners: Vec<NodeId>,
    pub consumers: Vec<NodeId>,
    pub replicas: Vec<Vec<u32>>,
    pub broker_session_ms: u64,
    pub group_session_ms: u64,
    pub assignor: AssignorKind,
    pub fence: bool,
}

#[derive(Clone, Debug)]
pub struct Controller {
    pub cfg: ControllerCfg,
    pub parts: Vec<PartMeta>,
    pub alive: Vec<bool>,
    seen_ms: Vec<u64>,
    /// Member (consumer index) → last heartbeat.
    pub members: BTreeMap<u32, u64>,
    pub generation: u32,
    pub assignment: BTreeMap<u32, Vec<u32>>,
    pub committed: BTreeMap<u32, u64>,
    pub rebalances: u64,
    pub refused_commits: u64,
    pub elections: u64,
    ticks: u64,
}

impl Controller {
    pub fn new(cfg: ControllerCfg) -> Controller {
        let parts =
            cfg.replicas.iter().map(|r| PartMeta { leader: Some(r[0]), epoch: 0, isr: sorted(r.clone()) }).collect();
        let n = cfg.brokers.len();
        Controller {
            cfg,
            parts,
            alive: vec![true; n],
            seen_ms: vec![0; n],
            members: BTreeMap::new(),
            generation: 0,
            assignment: BTreeMap::new(),
            committed: BTreeMap::new(),
            rebalances: 0,
            refused_commits: 0,
            elections: 0,
            ticks: 0,
        }
    }

    fn broadcast(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        for &n in &self.cfg.listeners {
            ctx.send(n, Msg::Metadata { parts: self.parts.clone() });
        }
    }

    /// A broker is gone: partitions it led get the first live ISR member as leader (or
    /// none — offline — if there is none: no unclean election); it leaves every ISR
    /// unless it was the last member.
    fn broker_failed(&mut self, b: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.alive[b as usize] = false;
        for (p, m) in self.parts.iter_mut().enumerate() {
            if m.leader == Some(b) {
                let next = self.cfg.replicas[p]
                    .iter()
                    .copied()
                    .find(|&r| r != b && self.alive[r as usize] && m.isr.contains(&r));
                m.leader = next;
                m.epoch += 1;
                self.elections += 1;
                if next.is_some() {
                    m.isr.retain(|&r| r != b);
                }
                match next {
                    Some(l) => ctx.note(format!("p{p}: broker-{l} elected leader, epoch {}", m.epoch)),
                    None => ctx.note(format!("p{p}: offline, no live in-sync replica")),
                }
            } else if m.isr.len() > 1 {
                m.isr.retain(|&r| r != b);
            }
        }
        self.broadcast(ctx);
    }

    fn broker_back(&mut self, b: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.alive[b as usize] = true;
        for (p, m) in self.parts.iter_mut().enumerate() {
            if m.leader.is_none() && m.isr.contains(&b) {
                m.leader = Some(b);
                m.epoch += 1;
                self.elections += 1;
                ctx.note(format!("p{p}: broker-{b} back as leader, epoch {}", m.epoch));
            }
        }
        self.broadcast(ctx);
    }

    fn rebalance(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.generation += 1;
        self.rebalances += 1;
        let topics: Topics = BTreeMap::from([(TOPIC.to_string(), self.parts.len() as u32)]);
        let subs: Subscriptions =
            self.members.keys().map(|&m| (member_name(m), BTreeSet::from([TOPIC.to_string()]))).collect();
        let assigned: Assignment = match self.cfg.assignor {
            AssignorKind::Range => assignor::range(&topics, &subs),
            AssignorKind::RoundRobin => assignor::round_robin(&topics, &subs),
            AssignorKind::Sticky => {
                let previous: Assignment = self
                    .assignment
                    .iter()
                    .map(|(&m, ps)| {
                        (member_name(m), ps.iter().map(|&p| assignor::TopicPartition::new(TOPIC, p)).collect())
                    })
                    .collect();
                assignor::sticky(&topics, &subs, &previous)
            }
        };
        self.assignment = self
            .members
            .keys()
            .map(|&m| {
                let ps = assigned.get(&member_name(m)).map(|v| v.iter().map(|tp| tp.partition).collect());
                (m, ps.unwrap_or_default())
            })
            .collect();
        ctx.note(format!("generation {}: {} members", self.generation, self.members.len()));
        for (&m, ps) in &self.assignment {
            ctx.send(
                self.cfg.consumers[m as usize],
                Msg::Assign { generation: self.generation, partitions: ps.clone() },
            );
        }
    }

    fn tick(&mut self, now_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.ticks += 1;
        for b in 0..self.alive.len() {
            if self.alive[b] && now_ms.saturating_sub(self.seen_ms[b]) > self.cfg.broker_session_ms {
                ctx.note(format!("broker-{b} missed its session"));
                self.broker_failed(b as u32, ctx);
            }
        }
        let expired: Vec<u32> = self
            .members
            .iter()
            .filter(|(_, &t)| now_ms.saturating_sub(t) > self.cfg.group_session_ms)
            .map(|(&m, _)| m)
            .collect();
        for m in &expired {
            self.members.remove(m);
        }
        if !expired.is_empty() {
            self.rebalance(ctx);
        }
        if self.ticks.is_multiple_of(2) {
            self.broadcast(ctx);
        }
        ctx.set_timer(SimDuration::from_ms(TICK_MS), TICK);
    }
}

pub fn member_name(m: u32) -> String {
    format!("consumer-{m}")
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort();
    v
}

impl Actor for Controller {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.broadcast(ctx);
        ctx.set_timer(SimDuration::from_ms(TICK_MS), TICK);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now_ms = ctx.now().0 / 1_000;
        match msg {
            Msg::BrokerHeartbeat { broker } => {
                self.seen_ms[broker as usize] = now_ms;
                if !self.alive[broker as usize] {
                    self.broker_back(broker, ctx);
                }
            }
            Msg::Register { broker } => {
                self.seen_ms[broker as usize] = now_ms;
                if self.alive[broker as usize] && now_ms > 0 {
                    self.broker_failed(broker, ctx);
                }
                self.broker_back(broker, ctx);
            }
            Msg::AlterIsr { p, epoch, isr } => {
                let leader_idx = self.cfg.brokers.iter().position(|&n| n == from).map(|i| i as u32);
                let m = &mut self.parts[p as usize];
                if m.leader == leader_idx && m.epoch == epoch {
                    let alive = &self.alive;
                    let mut isr: Vec<u32> = isr.into_iter().filter(|&r| alive[r as usize]).collect();
                    if let Some(l) = leader_idx.filter(|l| !isr.contains(l)) {
                        isr.push(l);
                    }
                    m.isr = sorted(isr);
                    self.broadcast(ctx);
                }
            }
            Msg::Join { member } => {
                self.members.insert(member, now_ms);
                self.rebalance(ctx);
            }
            Msg::GroupHeartbeat { member } => {
                if self.members.insert(member, now_ms).is_none() {
                    self.rebalance(ctx);
                } else {
                    let partitions = self.assignment.get(&member).cloned().unwrap_or_default();
                    ctx.send(from, Msg::Assign { generation: self.generation, partitions });
                }
            }
            Msg::OffsetFetch { p, req } => {
                let offset = self.committed.get(&p).copied().unwrap_or(0);
                ctx.send(from, Msg::OffsetIs { p, req, offset });
            }
            Msg::Commit { member, generation, p, offset } => {
                let owns = self.assignment.get(&member).is_some_and(|ps| ps.contains(&p));
                if self.cfg.fence && (generation != self.generation || !owns) {
                    self.refused_commits += 1;
                    return;
                }
                self.committed.insert(p, offset);
                ctx.observe(Obs::Committed { p, offset, store: Store::Coordinator });
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == TICK {
            let now_ms = ctx.now().0 / 1_000;
            self.tick(now_ms, ctx);
        }
    }

    fn describe(&self) -> String {
        format!("gen {} · {} members", self.generation, self.members.len())
    }
}
