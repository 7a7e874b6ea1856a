//! The fan-out queue: one lane pair per user partition (transactional lane drained before
//! the marketing lane), long polls from workers, and — when acknowledgements are on — a
//! visibility timeout after which an unacknowledged task is handed out again (SQS-style
//! redelivery). A publish expands a campaign into batch tasks per partition at once; the
//! tasks are small (a user range), so even 10^6 users make only `users / batch` of them.
//!
//! A worker that is still retrying extends its task's deadline (SQS's
//! ChangeMessageVisibility), so a slow provider does not make the whole batch be redone.
//!
//! Lanes, in-flight tasks and the set of known campaigns are durable (a broker's log);
//! the parked polls are connections and die with a crash.

use super::msg::{Msg, Obs, Task};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Per (campaign, partition): how its batches fared, for the views.
#[derive(Clone, Copy, Debug, Default)]
pub struct PartStats {
    pub total: u32,
    /// Handed out at least once.
    pub started: u32,
    /// Acknowledged (or, without acks, handed out: the queue forgets it then).
    pub done: u32,
    pub redelivered: u32,
}

#[derive(Clone, Debug)]
struct InFlight {
    task: Task,
    delivery: u32,
    deadline: SimTime,
}

#[derive(Clone, Debug)]
pub struct Queue {
    pub acks: bool,
    ack_timeout: SimDuration,
    pub partitions: u32,
    part_size: u32,
    batch: u32,
    workers: Vec<NodeId>,
    /// `lanes[p][0]` transactional, `lanes[p][1]` marketing.
    lanes: Vec<[VecDeque<(Task, u32)>; 2]>,
    inflight: BTreeMap<u64, InFlight>,
    waiting: VecDeque<NodeId>,
    known: BTreeSet<u32>,
    pub stats: BTreeMap<(u32, u32), PartStats>,
    /// Batches handed to each worker, per (campaign, partition, worker).
    pub handed: BTreeMap<(u32, u32, NodeId), u32>,
}

impl Queue {
    pub fn new(
        acks: bool,
        ack_timeout_ms: u64,
        users: u32,
        partitions: u32,
        batch: u32,
        workers: Vec<NodeId>,
    ) -> Queue {
        let part_size = users.div_ceil(partitions).max(1);
        Queue {
            acks,
            ack_timeout: SimDuration::from_ms(ack_timeout_ms),
            partitions,
            part_size,
            batch: batch.max(1),
            workers,
            lanes: (0..partitions).map(|_| [VecDeque::new(), VecDeque::new()]).collect(),
            inflight: BTreeMap::new(),
            waiting: VecDeque::new(),
            known: BTreeSet::new(),
            stats: BTreeMap::new(),
            handed: BTreeMap::new(),
        }
    }

    /// Tasks waiting (not in flight) per partition.
    pub fn pending(&self, p: u32) -> usize {
        self.lanes.get(p as usize).map_or(0, |l| l[0].len() + l[1].len())
    }

    pub fn in_flight(&self, p: u32) -> usize {
        self.inflight.values().filter(|f| f.task.partition == p).count()
    }

    fn expand(&mut self, c: super::prefs::Campaign) {
        let lane = usize::from(!c.txn);
        let end = c.first + c.count;
        let mut user = c.first;
        let mut n = 0u64;
        while user < end {
            let p = (user / self.part_size).min(self.partitions - 1);
            let part_end = if p == self.partitions - 1 { end } else { ((p + 1) * self.part_size).min(end) };
            let count = self.batch.min(part_end - user);
            let task = Task { id: (u64::from(c.id) << 32) | n, campaign: c, partition: p, first: user, count };
            self.lanes[p as usize][lane].push_back((task, 0));
            self.stats.entry((c.id, p)).or_default().total += 1;
            user += count;
            n += 1;
        }
    }

    /// The next task for `worker`: transactional before marketing, its own partitions
    /// (p mod workers) before stealing from others.
    fn take_for(&mut self, worker: NodeId) -> Option<(Task, u32)> {
        let w = self.workers.iter().position(|&x| x == worker).unwrap_or(0) as u32;
        let nw = self.workers.len().max(1) as u32;
        for lane in 0..2 {
            for own in [true, false] {
                for p in 0..self.partitions {
                    if (p % nw == w) == own {
                        if let Some(t) = self.lanes[p as usize][lane].pop_front() {
                            return Some(t);
                        }
                    }
                }
            }
        }
        None
    }

    fn serve(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        while let Some(&worker) = self.waiting.front() {
            let Some((task, delivery)) = self.take_for(worker) else { return };
            self.waiting.pop_front();
            let delivery = delivery + 1;
            let st = self.stats.entry((task.campaign.id, task.partition)).or_default();
            if delivery == 1 {
                st.started += 1;
            } else {
                st.redelivered += 1;
            }
            if self.acks {
                let deadline = ctx.now() + self.ack_timeout;
                self.inflight.insert(task.id, InFlight { task, delivery, deadline });
                ctx.set_timer(self.ack_timeout, task.id);
            } else {
                st.done += 1;
            }
            *self.handed.entry((task.campaign.id, task.partition, worker)).or_default() += 1;
            ctx.send(worker, Msg::Deliver { task, delivery });
        }
    }
}

impl Actor for Queue {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Publish { campaign } => {
                if self.known.insert(campaign.id) {
                    self.expand(campaign);
                }
                ctx.send(from, Msg::PublishOk { campaign: campaign.id });
                self.serve(ctx);
            }
            Msg::Pull => {
                if !self.waiting.contains(&from) {
                    self.waiting.push_back(from);
                }
                self.serve(ctx);
            }
            Msg::Touch { task } => {
                if let Some(f) = self.inflight.get_mut(&task) {
                    f.deadline = ctx.now() + self.ack_timeout;
                    ctx.set_timer(self.ack_timeout, task);
                }
            }
            Msg::Ack { task } => {
                if let Some(f) = self.inflight.remove(&task) {
                    self.stats.entry((f.task.campaign.id, f.task.partition)).or_default().done += 1;
                }
            }
            _ => {}
        }
    }

    /// A visibility timeout: the task goes back to the front of its lane.
    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let due = self.inflight.get(&tag).is_some_and(|f| f.deadline <= ctx.now());
        if due {
            if let Some(f) = self.inflight.remove(&tag) {
                let lane = usize::from(!f.task.campaign.txn);
                self.lanes[f.task.partition as usize][lane].push_front((f.task, f.delivery));
                self.serve(ctx);
            }
        }
    }

    fn on_crash(&mut self) {
        self.waiting.clear();
    }

    /// Timers die with the process; in-flight deadlines are durable, so re-arm them.
    fn on_restart(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        for (&id, f) in &self.inflight {
            ctx.set_timer(SimDuration(f.deadline.0.saturating_sub(ctx.now().0)), id);
        }
    }
}
