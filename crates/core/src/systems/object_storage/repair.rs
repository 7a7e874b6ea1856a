//! Failure detection and repair, the front end's background half. Every storage node
//! heartbeats; a node silent for longer than the detection timeout is declared dead, and
//! every key with a replica or shard on it gets a repair job. A job picks a replacement
//! (the next live node clockwise on the ring that does not already hold the key), copies
//! every acknowledged version to it — a replica from any live holder, or, for erasure
//! coding, a shard rebuilt from k others — and only then swaps it into the placement, so
//! the placement never names a node that lacks an acknowledged version. Copies are paced
//! by the repair rate (versions per second), the knob that sets the window of reduced
//! redundancy. A node heard from again is alive: its jobs are dropped and the front end's
//! pending writes catch it up.

use super::frontend::{Frontend, Job, Op, RebuildDemo, REBUILD_TIMEOUT};
use super::msg::{Key, Msg, Obs, Version};
use crate::sim::node::Ctx;
use crate::sim::time::SimDuration;
use crate::sim::NodeId;

impl Frontend {
    pub(super) fn heartbeat(&mut self, from: NodeId, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.last_seen.insert(from, ctx.now());
        if self.dead.remove(&from) {
            self.event(ctx, format!("n{from} heard from again: alive"));
        }
    }

    pub(super) fn tick(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(self.cfg.tick_ms), super::frontend::TICK);
        self.detect(ctx);
        self.complete_pending(ctx);
        self.repair(ctx);
    }

    fn detect(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        let timeout = SimDuration::from_ms(self.cfg.dead_after_ms);
        let silent: Vec<NodeId> = self
            .cfg
            .storage
            .iter()
            .copied()
            .filter(|s| !self.dead.contains(s) && self.last_seen.get(s).is_some_and(|&t| now.since(t) > timeout))
            .collect();
        for s in silent {
            self.dead.insert(s);
            let mut jobs = 0;
            for (&key, km) in &self.meta {
                for (slot, &node) in km.placement.iter().enumerate() {
                    if node == s {
                        self.jobs.entry((key, slot as u8)).or_default();
                        jobs += 1;
                    }
                }
            }
            self.event(
                ctx,
                format!("n{s} silent > {} ms: declared dead, {jobs} slots to repair", self.cfg.dead_after_ms),
            );
        }
    }

    /// The replacement for a slot of `key`: the next live node on the ring that neither is
    /// in the placement nor is already the target of another of the key's repairs (a node
    /// holds one slot of a key, or two lost shards would become one).
    fn replacement(&self, key: Key) -> Option<NodeId> {
        let placement = &self.meta.get(&key)?.placement;
        let taken: Vec<NodeId> = self.jobs.range((key, 0)..=(key, u8::MAX)).filter_map(|(_, j)| j.target).collect();
        self.walk(key).into_iter().find(|n| !placement.contains(n) && !taken.contains(n))
    }

    fn repair(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let per_tick = self.cfg.repair_per_s * self.cfg.tick_ms;
        self.budget = (self.budget + per_tick).min(per_tick.max(1_000) * 10);
        let jobs: Vec<(Key, u8)> = self.jobs.keys().copied().collect();
        for (key, slot) in jobs {
            let Some(km) = self.meta.get(&key) else { continue };
            let node = km.placement[slot as usize];
            if !self.dead.contains(&node) {
                self.jobs.remove(&(key, slot));
                continue;
            }
            let target = match self.jobs[&(key, slot)].target {
                Some(t) if !self.dead.contains(&t) && !km.placement.contains(&t) => t,
                _ => match self.replacement(key) {
                    Some(t) => t,
                    None => continue,
                },
            };
            self.jobs.insert((key, slot), Job { target: Some(target) });
            let km = &self.meta[&key];
            let missing: Vec<Version> = km
                .versions
                .iter()
                .filter(|(_, vm)| vm.acked && !vm.holders.contains(&self.hkey(target, slot)))
                .map(|(&v, _)| v)
                .collect();
            if missing.is_empty() {
                self.meta.get_mut(&key).expect("key present").placement[slot as usize] = target;
                self.jobs.remove(&(key, slot));
                self.repaired += 1;
                self.event(ctx, format!("k{key} slot {slot}: n{node} → n{target}, redundancy restored"));
                continue;
            }
            for v in missing {
                if self.budget < 1_000 {
                    return;
                }
                if self.copy(key, v, slot, target, ctx) {
                    self.budget -= 1_000;
                }
            }
        }
    }

    /// Starts copying (key, v) slot `slot` to `target`; false when no live source exists yet.
    fn copy(&mut self, key: Key, v: Version, slot: u8, target: NodeId, ctx: &mut Ctx<'_, Msg, Obs>) -> bool {
        let km = &self.meta[&key];
        let vm = &km.versions[&v];
        if self.is_rs() {
            if self.rebuilding.contains(&(key, v, slot)) {
                return false;
            }
            let sources: Vec<NodeId> = vm
                .holders
                .iter()
                .filter(|&&(n, s)| s != slot && !self.dead.contains(&n) && n != target)
                .map(|&(n, _)| n)
                .collect();
            if sources.len() < self.cfg.k {
                return false;
            }
            let shards = vec![None; self.cfg.n];
            let op = self.new_op(
                Op::Rebuild { key, version: v, slot, target, shards },
                REBUILD_TIMEOUT,
                self.cfg.read_timeout_ms,
                ctx,
            );
            self.rebuilding.insert((key, v, slot));
            for n in sources {
                ctx.send(n, Msg::Fetch { op, key, version: Some(v) });
            }
            true
        } else {
            let Some(&(from, _)) = vm.holders.iter().find(|&&(n, _)| !self.dead.contains(&n) && n != target) else {
                return false;
            };
            ctx.send(from, Msg::CopyTo { key, version: v, slot, to: target });
            true
        }
    }

    /// k shards of (key, version) arrived: decode the missing one and store it on `target`.
    pub(super) fn rebuilt(
        &mut self,
        key: Key,
        version: Version,
        slot: u8,
        target: NodeId,
        mut shards: Vec<Option<Vec<u8>>>,
        ctx: &mut Ctx<'_, Msg, Obs>,
    ) {
        self.rebuilding.remove(&(key, version, slot));
        shards[slot as usize] = None;
        let fetched = shards.clone();
        let Some(rs) = &self.rs else { return };
        if rs.reconstruct(&mut shards).is_err() {
            return;
        }
        let data = shards[slot as usize].clone().unwrap_or_default();
        if self.demo.is_none() {
            let lost = self.meta.get(&key).map_or(target, |k| k.placement[slot as usize]);
            self.demo = Some(RebuildDemo { key, version, slot, lost, target, fetched, rebuilt: data.clone() });
        }
        ctx.send(target, Msg::Store { key, version, slot, data, forward: Vec::new() });
    }
}
