//! Faults as data. A scenario carries a list of timed faults; the kernel applies each at its
//! instant, exactly as a click in the playground would. Nodes are named, not numbered, so
//! a link stays readable; a name may also be a role (`"shard"`), meaning every node of it.

use super::time::SimTime;
use serde::{Deserialize, Serialize};

/// One thing that goes wrong.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The process dies: volatile state is lost, messages to it are dropped.
    Crash { node: String },
    /// A crashed node comes back (empty memory, durable state kept).
    Restart { node: String },
    /// The process stops running (GC pause, VM migration) and later resumes as if nothing
    /// happened; messages and timers wait for it.
    Pause { node: String, for_ms: u64 },
    /// The node's clock jumps by `offset_ms` and runs `drift_ppm` parts per million fast
    /// (negative: slow). Timers the node sets run on this clock.
    Skew {
        node: String,
        #[serde(default)]
        offset_ms: i64,
        #[serde(default)]
        drift_ppm: i64,
    },
    /// Messages from side `a` to side `b` are dropped (and back, unless `one_way`).
    Partition {
        a: Vec<String>,
        b: Vec<String>,
        #[serde(default)]
        one_way: bool,
    },
    /// Removes every partition.
    Heal,
    /// Messages from `from` to `to` take `extra_ms` longer (a congested or throttled link).
    Clog { from: String, to: String, extra_ms: u64 },
    /// Removes the clog between `from` and `to`.
    Unclog { from: String, to: String },
    /// Sets the network-wide probability of losing a message.
    Loss { rate: f64 },
}

/// A fault and the virtual millisecond it happens at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedFault {
    pub at_ms: u64,
    #[serde(flatten)]
    pub fault: Fault,
}

impl Fault {
    /// Every node name the fault mentions, for validation.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Fault::Crash { node } | Fault::Restart { node } | Fault::Pause { node, .. } | Fault::Skew { node, .. } => {
                vec![node]
            }
            Fault::Partition { a, b, .. } => a.iter().chain(b).map(String::as_str).collect(),
            Fault::Clog { from, to, .. } | Fault::Unclog { from, to } => vec![from, to],
            Fault::Heal | Fault::Loss { .. } => vec![],
        }
    }

    /// A short human description for traces and logs.
    pub fn describe(&self) -> String {
        match self {
            Fault::Crash { node } => format!("crash {node}"),
            Fault::Restart { node } => format!("restart {node}"),
            Fault::Pause { node, for_ms } => format!("pause {node} for {for_ms}ms"),
            Fault::Skew { node, offset_ms, drift_ppm } => {
                format!("skew {node} clock {offset_ms:+}ms {drift_ppm:+}ppm")
            }
            Fault::Partition { a, b, one_way } => {
                let arrow = if *one_way { "-/->" } else { "<-/->" };
                format!("partition [{}] {arrow} [{}]", a.join(","), b.join(","))
            }
            Fault::Heal => "heal all partitions".to_string(),
            Fault::Clog { from, to, extra_ms } => format!("clog {from}->{to} +{extra_ms}ms"),
            Fault::Unclog { from, to } => format!("unclog {from}->{to}"),
            Fault::Loss { rate } => format!("network loss {:.1}%", rate * 100.0),
        }
    }

    /// Whether this fault can cut a node off or make it unavailable (used by SLOs that
    /// promise only while everything is reachable).
    pub fn disrupts(&self) -> bool {
        !matches!(self, Fault::Skew { .. } | Fault::Heal | Fault::Unclog { .. })
    }
}

/// The stretch of true time one lasting fault of a plan is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Where the fault sits in the plan.
    pub index: usize,
    pub from: SimTime,
    /// When it is repaired; `None` if the plan never repairs it.
    pub until: Option<SimTime>,
}

/// The windows of a fault plan, one per lasting fault, in time order: a crash lasts until
/// that node's restart, a partition until the next heal, a clog until its unclog, a loss
/// rate until the rate next changes, a pause for its length. With `lasting_skew`, a clock
/// skew lasts until a zero skew follows it (for checks that judge local-clock deadlines);
/// without, it is instantaneous like every repair. Checks that excuse requests during
/// faults, and [`quiet_from`], all read their windows from here.
pub fn windows(faults: &[TimedFault], lasting_skew: bool) -> Vec<Window> {
    let mut order: Vec<usize> = (0..faults.len()).collect();
    order.sort_by_key(|&i| (faults[i].at_ms, i));
    let mut out = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let f = &faults[i];
        let later = || order[k + 1..].iter().map(|&j| &faults[j]);
        let repair = |is: &dyn Fn(&Fault) -> bool| later().find(|g| is(&g.fault)).map(|g| g.at_ms);
        let until = match &f.fault {
            Fault::Crash { node } => repair(&|g| matches!(g, Fault::Restart { node: n } if n == node)),
            Fault::Pause { for_ms, .. } => Some(f.at_ms.saturating_add(*for_ms)),
            Fault::Partition { .. } => repair(&|g| matches!(g, Fault::Heal)),
            Fault::Clog { from, to, .. } => {
                repair(&|g| matches!(g, Fault::Unclog { from: a, to: b } if a == from && b == to))
            }
            Fault::Loss { rate } if *rate > 0.0 => repair(&|g| matches!(g, Fault::Loss { .. })),
            Fault::Skew { offset_ms, drift_ppm, .. } if lasting_skew && (*offset_ms != 0 || *drift_ppm != 0) => {
                repair(&|g| matches!(g, Fault::Skew { offset_ms: 0, drift_ppm: 0, .. }))
            }
            _ => continue,
        };
        out.push(Window { index: i, from: SimTime::from_ms(f.at_ms), until: until.map(SimTime::from_ms) });
    }
    out
}

/// When the last fault of a plan is over (see [`windows`] for how long each lasts;
/// anything else is instantaneous). `None` when some fault is never repaired.
pub fn quiet_from(faults: &[TimedFault], lasting_skew: bool) -> Option<SimTime> {
    let last_event = faults.iter().map(|f| SimTime::from_ms(f.at_ms)).max().unwrap_or(SimTime::ZERO);
    windows(faults, lasting_skew).iter().try_fold(last_event, |end, w| w.until.map(|u| end.max(u)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;
    use std::collections::BTreeSet;

    /// Whether anything is broken just after every fault due at `t` has been applied: the
    /// plan replayed as a state machine (crashed nodes, a partition, clogged links, a loss
    /// rate, paused nodes) — the brute-force twin of [`windows`].
    fn broken_at(plan: &[TimedFault], t: u64) -> bool {
        let (mut crashed, mut clogs) = (BTreeSet::new(), BTreeSet::new());
        let (mut split, mut loss, mut paused) = (false, 0.0, false);
        for f in plan.iter().filter(|f| f.at_ms <= t) {
            match &f.fault {
                Fault::Crash { node } => drop(crashed.insert(node.clone())),
                Fault::Restart { node } => drop(crashed.remove(node)),
                Fault::Partition { .. } => split = true,
                Fault::Heal => split = false,
                Fault::Clog { from, to, .. } => drop(clogs.insert((from.clone(), to.clone()))),
                Fault::Unclog { from, to } => drop(clogs.remove(&(from.clone(), to.clone()))),
                Fault::Loss { rate } => loss = *rate,
                Fault::Pause { for_ms, .. } => paused |= t < f.at_ms + for_ms,
                Fault::Skew { .. } => {}
            }
        }
        !crashed.is_empty() || !clogs.is_empty() || split || loss > 0.0 || paused
    }

    fn random_plan(rng: &mut Prng) -> Vec<TimedFault> {
        let node = |rng: &mut Prng| if rng.below(2) == 0 { "a".to_string() } else { "b".to_string() };
        let mut plan: Vec<TimedFault> = (0..rng.below(8))
            .map(|_| {
                let fault = match rng.below(9) {
                    0 => Fault::Crash { node: node(rng) },
                    1 => Fault::Restart { node: node(rng) },
                    2 => Fault::Partition { a: vec![node(rng)], b: vec!["c".into()], one_way: false },
                    3 => Fault::Heal,
                    4 => Fault::Clog { from: node(rng), to: "c".into(), extra_ms: 5 },
                    5 => Fault::Unclog { from: node(rng), to: "c".into() },
                    6 => Fault::Loss { rate: [0.0, 0.1, 0.3][rng.below(3) as usize] },
                    7 => Fault::Pause { node: node(rng), for_ms: rng.below(30) },
                    _ => Fault::Skew { node: node(rng), offset_ms: 5, drift_ppm: 0 },
                };
                TimedFault { at_ms: rng.below(100), fault }
            })
            .collect();
        plan.sort_by_key(|f| f.at_ms);
        plan
    }

    #[test]
    fn windows_cover_exactly_the_moments_a_replayed_plan_is_broken() {
        let mut rng = Prng::new(3);
        for case in 0..2_000 {
            let plan = random_plan(&mut rng);
            let ws = windows(&plan, false);
            for t in 0..200 {
                let at = SimTime::from_ms(t);
                let inside = ws.iter().any(|w| w.from <= at && w.until.is_none_or(|u| at < u));
                assert_eq!(inside, broken_at(&plan, t), "case {case} at {t} ms: {plan:?} → {ws:?}");
            }
            // Quiet from the first moment after which nothing is broken again.
            let last_broken = (0..200).rev().find(|&t| broken_at(&plan, t));
            let want = match last_broken {
                Some(199) => None,
                Some(t) => {
                    Some(SimTime::from_ms(t + 1).max(SimTime::from_ms(plan.iter().map(|f| f.at_ms).max().unwrap_or(0))))
                }
                None => Some(SimTime::from_ms(plan.iter().map(|f| f.at_ms).max().unwrap_or(0))),
            };
            assert_eq!(quiet_from(&plan, false), want, "case {case}: {plan:?}");
        }
    }
}
