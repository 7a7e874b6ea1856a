//! When, according to the scenario's fault plan, a participant could not have heard from
//! the coordinator: the coordinator down or paused, the participant itself down or paused,
//! or the network disturbed (any partition, loss or clog). The `no-blocking-after-recovery`
//! check forgives time in doubt inside these windows and judges only the rest — the
//! stretches in which the coordinator is up and the network is whole.
//!
//! The record comes from the plan (the faults as scheduled), not from any node, so a
//! design cannot excuse itself. Skew is not an outage: timeouts run on monotonic timers.

use crate::sim::fault::{Fault, TimedFault};
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

/// `[start, end)` windows in true time, sorted and merged.
pub type Windows = Vec<(SimTime, SimTime)>;

/// Whether fault name `named` (a node name or a role) covers node `node` of role `role`.
fn covers(named: &str, node: &str, role: &str) -> bool {
    named == node || named == role
}

/// Windows in which `node` (of `role`) is down or paused.
fn node_windows(plan: &[TimedFault], node: &str, role: &str) -> Windows {
    let mut out = Vec::new();
    let mut down_since: Option<u64> = None;
    for f in plan {
        match &f.fault {
            Fault::Crash { node: n } if covers(n, node, role) => {
                down_since.get_or_insert(f.at_ms);
            }
            Fault::Restart { node: n } if covers(n, node, role) => {
                if let Some(s) = down_since.take() {
                    out.push((SimTime::from_ms(s), SimTime::from_ms(f.at_ms)));
                }
            }
            Fault::Pause { node: n, for_ms } if covers(n, node, role) => {
                out.push((SimTime::from_ms(f.at_ms), SimTime::from_ms(f.at_ms.saturating_add(*for_ms))));
            }
            _ => {}
        }
    }
    if let Some(s) = down_since {
        out.push((SimTime::from_ms(s), SimTime::MAX));
    }
    out
}

/// Windows in which some partition, loss or clog is in force.
fn network_windows(plan: &[TimedFault]) -> Windows {
    let mut out = Vec::new();
    let mut partitioned: Option<u64> = None;
    let mut lossy: Option<u64> = None;
    let mut clogs: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in plan {
        let at = f.at_ms;
        match &f.fault {
            Fault::Partition { .. } => {
                partitioned.get_or_insert(at);
            }
            Fault::Heal => {
                if let Some(s) = partitioned.take() {
                    out.push((SimTime::from_ms(s), SimTime::from_ms(at)));
                }
            }
            Fault::Loss { rate } if *rate > 0.0 => {
                lossy.get_or_insert(at);
            }
            Fault::Loss { .. } => {
                if let Some(s) = lossy.take() {
                    out.push((SimTime::from_ms(s), SimTime::from_ms(at)));
                }
            }
            Fault::Clog { from, to, .. } => {
                clogs.entry((from.clone(), to.clone())).or_insert(at);
            }
            Fault::Unclog { from, to } => {
                if let Some(s) = clogs.remove(&(from.clone(), to.clone())) {
                    out.push((SimTime::from_ms(s), SimTime::from_ms(at)));
                }
            }
            _ => {}
        }
    }
    for s in partitioned.into_iter().chain(lossy).chain(clogs.into_values()) {
        out.push((SimTime::from_ms(s), SimTime::MAX));
    }
    out
}

fn merge(mut w: Windows) -> Windows {
    w.sort();
    let mut out: Windows = Vec::new();
    for (s, e) in w {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// For each participant (by name, in order), the windows in which it is excused.
pub fn per_participant(plan: &[TimedFault], coordinator: &str, participants: &[String]) -> Vec<Windows> {
    let mut plan = plan.to_vec();
    plan.sort_by_key(|f| f.at_ms);
    let shared: Windows =
        node_windows(&plan, coordinator, "coordinator").into_iter().chain(network_windows(&plan)).collect();
    participants
        .iter()
        .map(|p| merge(shared.iter().copied().chain(node_windows(&plan, p, "participant")).collect()))
        .collect()
}

/// The longest stretch of `[from, to)` outside every window: (start, end).
pub fn longest_clear(from: SimTime, to: SimTime, windows: &[(SimTime, SimTime)]) -> (SimTime, SimTime) {
    let mut best = (from, from);
    let mut cursor = from;
    for &(s, e) in windows {
        if e <= cursor {
            continue;
        }
        if s >= to {
            break;
        }
        if s > cursor && s.0 - cursor.0 > best.1 .0 - best.0 .0 {
            best = (cursor, s);
        }
        cursor = cursor.max(e);
        if cursor >= to {
            return best;
        }
    }
    if to > cursor && to.0 - cursor.0 > best.1 .0 - best.0 .0 {
        best = (cursor, to);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> SimTime {
        SimTime::from_ms(v)
    }

    /// Brute force: walk the interval millisecond by millisecond.
    fn clear_by_ms(from: u64, to: u64, w: &[(SimTime, SimTime)]) -> u64 {
        let mut best = 0;
        let mut run = 0;
        for t in from..to {
            if w.iter().any(|&(s, e)| ms(t) >= s && ms(t) < e) {
                run = 0;
            } else {
                run += 1;
                best = best.max(run);
            }
        }
        best
    }

    #[test]
    fn longest_clear_matches_a_millisecond_walk() {
        let mut rng = crate::sim::rng::Prng::new(7);
        for _ in 0..300 {
            let mut w = Vec::new();
            for _ in 0..rng.below(5) {
                let s = rng.below(200);
                w.push((ms(s), ms(s + rng.between(1, 60))));
            }
            let w = merge(w);
            let from = rng.below(150);
            let to = from + rng.below(120);
            let (a, b) = longest_clear(ms(from), ms(to), &w);
            assert_eq!((b.0 - a.0) / 1_000, clear_by_ms(from, to, &w), "{w:?} {from}..{to}");
        }
    }

    #[test]
    fn coordinator_outages_and_partitions_excuse_every_participant_their_own_crash_only_themselves() {
        let plan = vec![
            TimedFault { at_ms: 100, fault: Fault::Crash { node: "coordinator".into() } },
            TimedFault { at_ms: 300, fault: Fault::Restart { node: "coordinator".into() } },
            TimedFault { at_ms: 400, fault: Fault::Crash { node: "participant-1".into() } },
            TimedFault { at_ms: 500, fault: Fault::Restart { node: "participant-1".into() } },
            TimedFault { at_ms: 600, fault: Fault::Partition { a: vec!["x".into()], b: vec![], one_way: false } },
            TimedFault { at_ms: 700, fault: Fault::Heal },
            TimedFault { at_ms: 800, fault: Fault::Loss { rate: 0.1 } },
        ];
        let w = per_participant(&plan, "coordinator", &["participant-0".into(), "participant-1".into()]);
        assert_eq!(w[0], vec![(ms(100), ms(300)), (ms(600), ms(700)), (ms(800), SimTime::MAX)]);
        assert_eq!(w[1], vec![(ms(100), ms(300)), (ms(400), ms(500)), (ms(600), ms(700)), (ms(800), SimTime::MAX)]);
    }
}
