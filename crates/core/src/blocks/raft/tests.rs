//! The block under a hand-rolled deterministic network: N replicas exchanging messages
//! with random delays (so they reorder), loss, duplication, crashes and partitions, all
//! drawn from one seed. After every delivered message or fired timer the four invariants
//! of Figure 3 are checked over all replicas; after the faults heal, a leader must be
//! elected and a new command must commit. Planted bugs show the checks can fail.

use super::*;
use crate::sim::time::SimTime;
use crate::sim::{NodeId, Prng};
use std::collections::BTreeMap;

type Node = Raft<u64, Vec<u64>>;

/// A delivery or a timer, due at some time (µs).
#[derive(Clone, Debug)]
enum Event {
    Deliver { from: NodeId, to: NodeId, msg: RaftMsg<u64, Vec<u64>> },
    Timer { node: NodeId, tag: u64, life: u64 },
}

/// The cluster and its network.
struct Sim {
    nodes: Vec<Node>,
    /// The state machine of each node: the commands it applied, in order (its snapshot).
    machines: Vec<Vec<u64>>,
    up: Vec<bool>,
    /// Incarnation of each node: timers of a previous life never fire.
    life: Vec<u64>,
    /// Partition side of each node; messages cross only within a side.
    side: Vec<u8>,
    loss: f64,
    queue: BTreeMap<(u64, u64), Event>,
    seq: u64,
    now: u64,
    rng: Prng,
    node_rngs: Vec<Prng>,
    inv: RaftInvariants<u64>,
    /// Compact once this many applied entries sit in the log.
    compact_every: u64,
    installs_to: Vec<u64>,
}

impl Sim {
    /// `voters` bootstrap nodes plus `spare` nodes that start outside the configuration.
    fn new(seed: u64, voters: u32, spare: u32, cfg: RaftConfig) -> Sim {
        let n = voters + spare;
        let boot: Vec<NodeId> = (0..voters).collect();
        let rng = Prng::new(seed);
        let mut sim = Sim {
            nodes: (0..n).map(|i| Raft::new(i, if i < voters { boot.clone() } else { Vec::new() }, cfg)).collect(),
            machines: vec![Vec::new(); n as usize],
            up: vec![true; n as usize],
            life: vec![0; n as usize],
            side: vec![0; n as usize],
            loss: 0.0,
            queue: BTreeMap::new(),
            seq: 0,
            now: 0,
            node_rngs: (0..n).map(|i| rng.fork_n("node", i as u64)).collect(),
            rng: rng.fork("net"),
            inv: RaftInvariants::new(),
            compact_every: 16,
            installs_to: vec![0; n as usize],
        };
        for i in 0..n {
            sim.input(i, |r, io| r.start(io));
        }
        sim
    }

    fn at(&mut self, due: u64, e: Event) {
        self.seq += 1;
        self.queue.insert((due, self.seq), e);
    }

    /// Feeds one input to node `i` and carries out its effects.
    fn input(&mut self, i: NodeId, f: impl FnOnce(&mut Node, &mut Io<'_>)) {
        let k = i as usize;
        let mut io = Io { now: SimTime(self.now), rng: &mut self.node_rngs[k] };
        f(&mut self.nodes[k], &mut io);
        for e in self.nodes[k].take_effects() {
            match e {
                Effect::Send { to, msg } => {
                    if self.side[k] != self.side[to as usize] || self.rng.chance(self.loss) {
                        continue;
                    }
                    let copies = if self.rng.chance(0.02) { 2 } else { 1 };
                    for _ in 0..copies {
                        let due = self.now + self.rng.between(500, 15_000);
                        self.at(due, Event::Deliver { from: i, to, msg: msg.clone() });
                    }
                }
                Effect::Timer { after, tag } => {
                    let life = self.life[k];
                    self.at(self.now + after.0, Event::Timer { node: i, tag, life });
                }
                Effect::Apply { index, entry } => {
                    if let Err(b) = self.inv.applied(i, index, &entry) {
                        panic!("{b}");
                    }
                    assert_eq!(self.machines[k].len() as u64 + 1, index, "node {i} applied out of order");
                    self.machines[k].push(match entry.payload {
                        Payload::Cmd(c) => c,
                        _ => 0,
                    });
                }
                Effect::Restore { snapshot } => {
                    assert_eq!(snapshot.state.len() as u64, snapshot.index);
                    self.machines[k] = snapshot.state;
                }
                Effect::Note(_) => {}
            }
        }
        let node = &mut self.nodes[k];
        if node.applied >= node.log.start() + self.compact_every {
            let state = self.machines[k].clone();
            assert!(node.compact(node.applied, state));
        }
    }

    /// Runs one event; false if none is left. Checks the invariants after it.
    fn step(&mut self) -> Result<bool, Breach> {
        let Some(((due, _), e)) = self.queue.pop_first() else { return Ok(false) };
        self.now = due;
        match e {
            Event::Deliver { from, to, msg } => {
                if self.up[to as usize] && self.side[from as usize] == self.side[to as usize] {
                    if matches!(msg, RaftMsg::Install { .. }) {
                        self.installs_to[to as usize] += 1;
                    }
                    self.input(to, |r, io| r.on_message(from, msg, io));
                }
            }
            Event::Timer { node, tag, life } => {
                if self.up[node as usize] && self.life[node as usize] == life {
                    self.input(node, |r, io| r.on_timer(tag, io));
                }
            }
        }
        let nodes: Vec<&Node> = self.nodes.iter().collect();
        self.inv.check(&nodes)?;
        Ok(true)
    }

    fn run_until(&mut self, until_ms: u64) -> Result<(), Breach> {
        while self.queue.first_key_value().is_some_and(|((t, _), _)| *t <= until_ms * 1_000) {
            self.step()?;
        }
        self.now = self.now.max(until_ms * 1_000);
        Ok(())
    }

    fn crash(&mut self, i: usize) {
        if self.up[i] {
            self.up[i] = false;
            self.life[i] += 1;
            self.nodes[i].crash();
            self.machines[i].clear();
        }
    }

    fn restart(&mut self, i: usize) {
        if !self.up[i] {
            self.up[i] = true;
            self.input(i as NodeId, |r, io| r.start(io));
        }
    }

    fn heal(&mut self) {
        self.side.iter_mut().for_each(|s| *s = 0);
        self.loss = 0.0;
        for i in 0..self.nodes.len() {
            self.restart(i);
        }
    }

    /// The live leader of the highest term, if any.
    fn leader(&self) -> Option<NodeId> {
        (0..self.nodes.len())
            .filter(|&i| self.up[i] && self.nodes[i].is_leader())
            .max_by_key(|&i| self.nodes[i].term)
            .map(|i| i as NodeId)
    }

    /// Offers `cmd` to a random live node (only a leader takes it).
    fn propose(&mut self, cmd: u64) -> Option<u64> {
        let i = self.rng.below(self.nodes.len() as u64) as NodeId;
        let target = if self.rng.chance(0.7) { self.leader().unwrap_or(i) } else { i };
        if !self.up[target as usize] {
            return None;
        }
        let mut index = None;
        self.input(target, |r, _| index = r.propose(cmd).ok());
        index
    }

    /// One random fault or repair.
    fn chaos(&mut self) {
        let n = self.nodes.len();
        let k = self.rng.below(n as u64) as usize;
        match self.rng.below(10) {
            0 | 1 => self.crash(k),
            2 | 3 => self.restart(k),
            4 => {
                for s in self.side.iter_mut() {
                    *s = self.rng.below(2) as u8;
                }
            }
            5 => self.side.iter_mut().for_each(|s| *s = 0),
            6 => self.loss = [0.0, 0.05, 0.2][self.rng.below(3) as usize],
            _ => {
                // Crash the leader, the fault Figure 8 is made of.
                if let Some(l) = self.leader() {
                    self.crash(l as usize);
                }
            }
        }
    }

    /// After healing: within `within_ms` a leader exists and a fresh command is applied
    /// by a majority of the configuration.
    fn assert_live(&mut self, within_ms: u64, cmd: u64) -> Result<(), Breach> {
        self.heal();
        let deadline = self.now / 1_000 + within_ms;
        let mut proposed: Option<(NodeId, u64)> = None;
        while self.now / 1_000 < deadline {
            let t = self.now / 1_000 + 20;
            self.run_until(t)?;
            if proposed.is_none_or(|(l, _)| !self.nodes[l as usize].is_leader()) {
                if let Some(l) = self.leader() {
                    let mut at = None;
                    self.input(l, |r, _| at = r.propose(cmd).ok());
                    proposed = at.map(|i| (l, i));
                }
            }
            let members = self.nodes[0].members();
            let holding = self.machines.iter().filter(|m| m.contains(&cmd)).count();
            if proposed.is_some() && holding > members.len() / 2 {
                return Ok(());
            }
        }
        panic!("no leader committed a command within {within_ms} ms of healing (leader {:?})", self.leader());
    }
}

/// The command proposed after healing; no other run proposes it.
const LIVE: u64 = u64::MAX;

/// Chaos for `chaos_ms`, then heal and demand progress; every step checked.
fn chaos_run(seed: u64, n: u32, cfg: RaftConfig, chaos_ms: u64) -> Result<Sim, Breach> {
    let mut sim = Sim::new(seed, n, 0, cfg);
    let mut cmd = 1_000;
    while sim.now / 1_000 < chaos_ms {
        let t = sim.now / 1_000 + sim.rng.between(5, 60);
        sim.run_until(t)?;
        cmd += 1;
        sim.propose(cmd);
        if sim.rng.chance(0.25) {
            sim.chaos();
        }
    }
    sim.assert_live(3_000, LIVE)?;
    Ok(sim)
}

#[test]
fn figure_3_invariants_hold_under_loss_reordering_crashes_and_partitions() {
    let mut leaders = 0;
    let mut applied = 0;
    for seed in 0..120 {
        let n = 3 + 2 * (seed % 2) as u32;
        let sim = chaos_run(seed, n, RaftConfig::default(), 6_000).unwrap_or_else(|b| panic!("seed {seed}: {b}"));
        leaders += sim.inv.terms_with_leader();
        applied += sim.inv.applied_indices();
        // Every state machine is a prefix of the applied history (brute-force twin: the
        // commands themselves, in order).
        let longest = sim.machines.iter().max_by_key(|m| m.len()).unwrap();
        for m in &sim.machines {
            assert_eq!(m[..], longest[..m.len()], "seed {seed}: state machines diverge");
        }
    }
    // The runs really exercised elections and commits.
    assert!(leaders > 400 && applied > 3_000, "{leaders} leaders, {applied} applied");
}

#[test]
fn a_double_vote_is_caught_as_two_leaders_in_one_term() {
    let cfg = RaftConfig { pre_vote: false, ..RaftConfig::default() };
    let run = |seed: u64, bug: Bug| -> Result<(), Breach> {
        let mut sim = Sim::new(seed, 5, 0, cfg);
        sim.nodes.iter_mut().for_each(|r| r.bug = bug);
        let mut cmd = 0;
        while sim.now < 4_000_000 {
            let t = sim.now / 1_000 + 30;
            sim.run_until(t)?;
            cmd += 1;
            sim.propose(cmd);
            if sim.rng.chance(0.3) {
                sim.chaos();
            }
        }
        Ok(())
    };
    let caught: Vec<(u64, Breach)> =
        (0..40).filter_map(|seed| run(seed, Bug::DoubleVote).err().map(|b| (seed, b))).collect();
    assert!(caught.len() >= 3, "only {} of 40 seeds caught two leaders in a term", caught.len());
    for (seed, b) in caught {
        assert_eq!(b.invariant, Invariant::ElectionSafety, "seed {seed}: {b}");
        // "nodes A and B both led term T": two different nodes.
        let words: Vec<&str> = b.detail.split(' ').collect();
        assert_ne!(words[1], words[3], "{b}");
        // The same seed with one vote per term is clean.
        run(seed, Bug::None).unwrap_or_else(|b| panic!("seed {seed} without the bug: {b}"));
    }
}

/// A network the test drives by hand: messages wait in a mailbox until the test delivers
/// or drops them, and timers fire only when the test says so.
struct Manual {
    nodes: Vec<Node>,
    rngs: Vec<Prng>,
    up: Vec<bool>,
    mail: Vec<(NodeId, NodeId, RaftMsg<u64, Vec<u64>>)>,
    inv: RaftInvariants<u64>,
}

impl Manual {
    fn new(n: u32, cfg: RaftConfig, bug: Bug) -> Manual {
        let boot: Vec<NodeId> = (0..n).collect();
        let mut m = Manual {
            nodes: (0..n).map(|i| Raft::new(i, boot.clone(), cfg)).collect(),
            rngs: (0..n).map(|i| Prng::new(i as u64)).collect(),
            up: vec![true; n as usize],
            mail: Vec::new(),
            inv: RaftInvariants::new(),
        };
        for r in &mut m.nodes {
            r.bug = bug;
        }
        m
    }

    fn input(&mut self, i: NodeId, f: impl FnOnce(&mut Node, &mut Io<'_>)) -> Result<(), Breach> {
        let mut io = Io { now: SimTime(0), rng: &mut self.rngs[i as usize] };
        f(&mut self.nodes[i as usize], &mut io);
        for e in self.nodes[i as usize].take_effects() {
            match e {
                Effect::Send { to, msg } => self.mail.push((i, to, msg)),
                Effect::Apply { index, entry } => self.inv.applied(i, index, &entry)?,
                _ => {}
            }
        }
        let nodes: Vec<&Node> = self.nodes.iter().collect();
        self.inv.check(&nodes)
    }

    /// Node `i`'s election timer fires.
    fn timeout(&mut self, i: NodeId) -> Result<(), Breach> {
        let tag = (self.nodes[i as usize].timer_seq << 4) | super::node::TAG_ELECTION;
        self.input(i, |r, io| r.on_timer(tag, io))
    }

    /// Leader `i`'s heartbeat timer fires.
    fn heartbeat(&mut self, i: NodeId) -> Result<(), Breach> {
        let tag = (self.nodes[i as usize].timer_seq << 4) | super::node::TAG_HEARTBEAT;
        self.input(i, |r, io| r.on_timer(tag, io))
    }

    /// Delivers every message `keep` accepts (and those they cause), to live nodes; drops
    /// the rest.
    fn deliver(&mut self, keep: impl Fn(NodeId, NodeId, &RaftMsg<u64, Vec<u64>>) -> bool) -> Result<(), Breach> {
        while !self.mail.is_empty() {
            let (from, to, msg) = self.mail.remove(0);
            if self.up[to as usize] && keep(from, to, &msg) {
                self.input(to, |r, io| r.on_message(from, msg, io))?;
            }
        }
        Ok(())
    }

    fn crash(&mut self, i: NodeId) {
        self.up[i as usize] = false;
        self.nodes[i as usize].crash();
    }

    fn restart(&mut self, i: NodeId) -> Result<(), Breach> {
        self.up[i as usize] = true;
        self.input(i, |r, io| r.start(io))
    }

    /// Times `i` out until it leads, with only votes flowing among `among`.
    fn elect(&mut self, i: NodeId, among: &[NodeId]) -> Result<(), Breach> {
        for _ in 0..5 {
            self.timeout(i)?;
            self.deliver(|f, t, m| {
                among.contains(&f)
                    && among.contains(&t)
                    && matches!(m, RaftMsg::Vote { .. } | RaftMsg::VoteReply { .. })
            })?;
            if self.nodes[i as usize].is_leader() {
                return Ok(());
            }
        }
        panic!("node {i} was not elected");
    }
}

/// Figure 8 of the paper, played step by step on five nodes (0..4 are S1..S5), with one
/// entry per AppendEntries so the test can let an old entry through and hold back the new
/// leader's no-op. Returns the first breach, and node 0's commit index at the moment
/// the old-term entry sat on a majority.
fn figure_8(bug: Bug) -> (Result<(), Breach>, u64) {
    let cfg = RaftConfig { pre_vote: false, max_batch: 1, ..RaftConfig::default() };
    let mut m = Manual::new(5, cfg, bug);
    let mut at_majority = 0;
    let mut script = || -> Result<(), Breach> {
        // Term 1: S1 leads, its no-op reaches everyone; command 7 reaches only S2.
        m.elect(0, &[0, 1, 2, 3, 4])?;
        m.heartbeat(0)?;
        m.deliver(|_, _, _| true)?;
        m.input(0, |r, _| assert!(r.propose(7).is_ok()))?;
        m.deliver(|f, t, _| f <= 1 && t <= 1)?;
        m.crash(0);
        // Term 2: S5 wins with S3 and S4; its no-op (index 2, term 2) goes nowhere.
        m.elect(4, &[2, 3, 4])?;
        m.mail.clear();
        m.crash(4);
        // Term 3 or later: S1 is back and wins with S2, S3, S4 (its log ends in term 1,
        // as theirs do, and is longer). It sends command 7 (term 1) to S3 and S4, but
        // its own no-op of the new term only ever arrives where it is refused: the first
        // copy to S3 and S4 (their logs are too short), none to S2.
        m.restart(0)?;
        m.elect(0, &[0, 1, 2, 3])?;
        let term = m.nodes[0].term;
        m.heartbeat(0)?;
        let refused = std::cell::RefCell::new(Vec::new());
        m.deliver(|_, to, msg| match msg {
            RaftMsg::Append { entries, .. } if entries.iter().any(|e| e.term == term) => {
                to >= 2 && !refused.borrow().contains(&to) && {
                    refused.borrow_mut().push(to);
                    true
                }
            }
            _ => true,
        })?;
        assert!((2..=3).all(|n| m.nodes[n].log.term_at(2) == Some(1)), "command 7 is on S1, S2, S3, S4");
        at_majority = m.nodes[0].commit;
        // S1 crashes; S5 (log ending in term 2) wins with S2, S3, S4 and overwrites index 2.
        m.crash(0);
        m.restart(4)?;
        m.elect(4, &[1, 2, 3, 4])?;
        m.heartbeat(4)?;
        m.deliver(|_, _, _| true)?;
        Ok(())
    };
    let r = script();
    (r, at_majority)
}

#[test]
fn committing_an_old_term_entry_by_counting_replicas_is_caught() {
    // With the planted bug, S1 counts replicas of its term-1 entry and commits it; S5
    // then leads a later term without it: Leader Completeness breaks at S5's election.
    let (r, commit) = figure_8(Bug::CommitOldTerm);
    assert_eq!(commit, 2, "the buggy leader committed the old-term entry");
    let b = r.expect_err("the checks missed the overwritten commit");
    assert_eq!(b.invariant, Invariant::LeaderCompleteness, "{b}");
    assert!(b.detail.contains("leader 4") && b.detail.contains("index 2"), "{b}");
    // The real rule waits for an own-term entry: the restarted S1 commits nothing (not
    // even index 1, which it cannot tell is committed), and S5 overwriting index 2 breaks
    // nothing.
    let (r, commit) = figure_8(Bug::None);
    assert_eq!(commit, 0);
    r.unwrap();
}

#[test]
fn pre_vote_keeps_a_rejoining_node_from_deposing_the_leader() {
    for pre_vote in [true, false] {
        let cfg = RaftConfig { pre_vote, ..RaftConfig::default() };
        let mut sim = Sim::new(11, 3, 0, cfg);
        sim.run_until(1_000).unwrap();
        let leader = sim.leader().expect("a leader");
        let term = sim.nodes[leader as usize].term;
        let outsider = (leader as usize + 1) % 3;
        sim.side[outsider] = 1;
        sim.run_until(3_000).unwrap();
        let outsider_term = sim.nodes[outsider].term;
        sim.side[outsider] = 0;
        sim.run_until(4_000).unwrap();
        if pre_vote {
            // Isolated, it kept asking for pre-votes without raising its term; back, it
            // follows the same leader in the same term.
            assert_eq!(outsider_term, term);
            assert_eq!((sim.leader(), sim.nodes[leader as usize].term), (Some(leader), term));
        } else {
            // Without pre-vote it bumped its term at every timeout and its return
            // forced the leader to step down.
            assert!(outsider_term > term + 3, "{outsider_term} vs {term}");
            assert!(sim.nodes[leader as usize].term > term);
        }
    }
}

#[test]
fn a_lagging_follower_catches_up_from_a_snapshot() {
    let mut sim = Sim::new(5, 3, 0, RaftConfig::default());
    sim.run_until(800).unwrap();
    let leader = sim.leader().expect("a leader") as usize;
    let lagger = (leader + 1) % 3;
    sim.crash(lagger);
    let mut accepted = 0;
    for c in 1..=200 {
        let t = sim.now / 1_000 + 5;
        sim.run_until(t).unwrap();
        sim.input(leader as NodeId, |r, _| accepted += r.propose(c).is_ok() as usize);
    }
    assert_eq!(accepted, 200, "the leader kept its place");
    sim.run_until(sim.now / 1_000 + 200).unwrap();
    let l = &sim.nodes[leader];
    assert!(l.log.start() > sim.nodes[lagger].log.last_index(), "the leader compacted past the lagger's log");
    sim.restart(lagger);
    sim.run_until(sim.now / 1_000 + 500).unwrap();
    assert!(sim.installs_to[lagger] >= 1, "no InstallSnapshot reached the lagger");
    assert_eq!(sim.nodes[lagger].applied, sim.nodes[leader].commit);
    assert_eq!(sim.machines[lagger], sim.machines[leader]);
    assert_eq!(sim.machines[leader].iter().filter(|&&c| c > 0).count(), 200);
}

#[test]
fn membership_from_three_to_four_to_three_keeps_safety() {
    for seed in 0..20 {
        let mut sim = Sim::new(seed, 3, 1, RaftConfig::default());
        let mut stage = 0;
        let mut cmd = 0;
        while sim.now < 6_000_000 && stage < 2 {
            let t = sim.now / 1_000 + 20;
            sim.run_until(t).unwrap_or_else(|b| panic!("seed {seed}: {b}"));
            cmd += 1;
            sim.propose(cmd);
            if sim.rng.chance(0.05) {
                sim.chaos();
            } else if sim.rng.chance(0.2) {
                sim.heal();
            }
            let Some(l) = sim.leader() else { continue };
            let target: Vec<NodeId> = if stage == 0 { vec![0, 1, 2, 3] } else { vec![1, 2, 3] };
            let members = sim.nodes[l as usize].members();
            let committed = sim.nodes[l as usize].members_at(sim.nodes[l as usize].commit);
            if committed == target {
                stage += 1;
            } else if members != target {
                sim.input(l, |r, _| {
                    let _ = r.change_members(target.clone());
                });
            }
        }
        assert_eq!(stage, 2, "seed {seed}: the changes did not complete");
        sim.assert_live(3_000, LIVE).unwrap_or_else(|b| panic!("seed {seed}: {b}"));
        let t = sim.now / 1_000 + 500;
        sim.run_until(t).unwrap_or_else(|b| panic!("seed {seed}: {b}"));
        // The removed node 0 no longer leads or counts; node 3, added with an empty log,
        // now holds the same history as the other members.
        let l = sim.leader().unwrap() as usize;
        assert!(l != 0, "seed {seed}");
        assert_eq!(sim.nodes[l].members(), vec![1, 2, 3], "seed {seed}");
        for m in 1..=3 {
            assert!(sim.machines[m].contains(&LIVE), "seed {seed}: node {m} lacks the last command");
            let k = sim.machines[m].len().min(sim.machines[l].len());
            assert_eq!(sim.machines[m][..k], sim.machines[l][..k], "seed {seed}");
        }
    }
}

#[test]
fn change_members_refuses_two_at_once_and_overlapping_changes() {
    let mut sim = Sim::new(2, 3, 2, RaftConfig::default());
    sim.run_until(1_000).unwrap();
    let l = sim.leader().unwrap();
    let r = &mut sim.nodes[l as usize];
    assert!(r.change_members(vec![0, 1, 2, 3, 4]).is_err(), "two servers at once");
    assert!(r.change_members(vec![0, 1, 2, 3]).is_ok());
    assert_eq!(r.members(), vec![0, 1, 2, 3], "effective when appended");
    assert!(r.change_members(vec![0, 1, 2, 3, 4]).is_err(), "the first is not committed yet");
}
