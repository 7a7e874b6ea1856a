//! When the scheduling service could not have dispatched, read from the scenario's fault
//! plan alone (the checks' independent record of what went wrong, in true time). A fire
//! due inside such a window may be late — or, under the skip policy, skipped — without
//! blame; one due outside it may not.
//!
//! A window opens when the coordinator, or every scheduler at once, is crashed, paused or
//! cut off (partition or message loss), and closes a *failover allowance* after the fault
//! ends: the lease must run out and a poll come round before a new leader can start. A
//! fault on a single scheduler opens a window of just that allowance, because that node
//! may have been the leader and the others take over within it. Worker and target faults
//! open none: the dispatcher retries elsewhere, so the fire is still started on time.
//!
//! A clock skewed on a scheduler or the coordinator stays wrong after the fault (the swarm's
//! reset stops the drift, it does not undo it), and a scheduler can only be as punctual as
//! its clock: from the first skew on, timing is not judged. Skew of workers and the target
//! changes nothing a check looks at.

use crate::sim::fault::{Fault, TimedFault};
use crate::sim::time::SimTime;

/// The plan, as the checks see it.
#[derive(Clone, Debug, Default)]
pub struct Outages {
    /// Merged, sorted, closed intervals.
    pub windows: Vec<(SimTime, SimTime)>,
    /// The first skew of a scheduler's or the coordinator's clock.
    pub skew_from: Option<SimTime>,
}

impl Outages {
    /// `scheds`: scheduler names; `coord`: the coordinator's name; a fault may also name a
    /// role (`sched`, `coord`). `failover_ms`: the allowance after each fault.
    pub fn from_plan(faults: &[TimedFault], scheds: &[String], failover_ms: u64, end: SimTime) -> Outages {
        let is_coord = |n: &str| n == "coord";
        let sched_ids = |n: &str| -> Vec<usize> {
            if n == "sched" {
                (0..scheds.len()).collect()
            } else {
                scheds.iter().position(|s| s == n).into_iter().collect()
            }
        };
        let ms = |t: u64| SimTime::from_ms(t);
        let until = |i: usize, pred: &dyn Fn(&Fault) -> bool| -> SimTime {
            faults[i + 1..].iter().find(|g| pred(&g.fault)).map_or(end, |g| ms(g.at_ms))
        };
        // Impaired intervals: per scheduler, and the coordinator's.
        let mut sched: Vec<Vec<(SimTime, SimTime)>> = vec![Vec::new(); scheds.len()];
        let mut coord: Vec<(SimTime, SimTime)> = Vec::new();
        let mut skew_from: Option<SimTime> = None;
        for (i, f) in faults.iter().enumerate() {
            let at = ms(f.at_ms);
            let (names, stop): (Vec<&str>, SimTime) = match &f.fault {
                Fault::Crash { node } => {
                    let n = node.clone();
                    let back = until(i, &|g| matches!(g, Fault::Restart { node } if *node == n));
                    (vec![node.as_str()], back)
                }
                Fault::Pause { node, for_ms } => (vec![node.as_str()], ms(f.at_ms + for_ms)),
                Fault::Partition { a, b, .. } => {
                    let healed = until(i, &|g| matches!(g, Fault::Heal));
                    (a.iter().chain(b).map(String::as_str).collect(), healed)
                }
                Fault::Clog { from, to, .. } => {
                    let (x, y) = (from.clone(), to.clone());
                    let unclogged = until(i, &|g| matches!(g, Fault::Unclog { from, to } if *from == x && *to == y));
                    (vec![from.as_str(), to.as_str()], unclogged)
                }
                Fault::Loss { rate } if *rate > 0.0 => {
                    let over = until(i, &|g| matches!(g, Fault::Loss { rate } if *rate == 0.0));
                    // Loss touches every link: count it against the coordinator.
                    (vec!["coord"], over)
                }
                Fault::Skew { node, .. } => {
                    if is_coord(node) || !sched_ids(node).is_empty() {
                        skew_from = Some(skew_from.map_or(at, |s| s.min(at)));
                    }
                    continue;
                }
                _ => continue,
            };
            for n in names {
                if is_coord(n) {
                    coord.push((at, stop));
                }
                for s in sched_ids(n) {
                    sched[s].push((at, stop));
                }
            }
        }
        let allowance = |t: SimTime| SimTime(t.0.saturating_add(failover_ms * 1_000));
        let mut windows: Vec<(SimTime, SimTime)> = coord.iter().map(|&(s, e)| (s, allowance(e))).collect();
        for s in sched.iter().flatten() {
            windows.push((s.0, allowance(s.0)));
        }
        windows.extend(all_impaired(&sched).into_iter().map(|(s, e)| (s, allowance(e))));
        Outages { windows: merge(windows), skew_from }
    }

    /// When the service is back for a fire due at `t`: the end of the window holding `t`,
    /// or `t` itself.
    pub fn recovered(&self, t: SimTime) -> SimTime {
        self.windows.iter().find(|(s, e)| *s <= t && t <= *e).map_or(t, |w| w.1)
    }
}

/// Intervals in which every scheduler is impaired at once.
fn all_impaired(per_node: &[Vec<(SimTime, SimTime)>]) -> Vec<(SimTime, SimTime)> {
    let mut common: Option<Vec<(SimTime, SimTime)>> = None;
    for intervals in per_node {
        let mine = merge(intervals.clone());
        common = Some(match common {
            None => mine,
            Some(c) => {
                let mut out = Vec::new();
                for &(a0, a1) in &c {
                    for &(b0, b1) in &mine {
                        let (s, e) = (a0.max(b0), a1.min(b1));
                        if s < e {
                            out.push((s, e));
                        }
                    }
                }
                out
            }
        });
    }
    common.unwrap_or_default()
}

fn merge(mut v: Vec<(SimTime, SimTime)>) -> Vec<(SimTime, SimTime)> {
    v.sort();
    let mut out: Vec<(SimTime, SimTime)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tf(at_ms: u64, fault: Fault) -> TimedFault {
        TimedFault { at_ms, fault }
    }

    #[test]
    fn windows_follow_the_plan() {
        let scheds: Vec<String> = (0..2).map(|i| format!("sched-{i}")).collect();
        let end = SimTime::from_ms(100_000);
        let node = |n: &str| n.to_string();
        let plan = vec![
            tf(1_000, Fault::Crash { node: node("sched-0") }),
            tf(5_000, Fault::Restart { node: node("sched-0") }),
            tf(3_000, Fault::Pause { node: node("sched-1"), for_ms: 1_000 }),
            tf(20_000, Fault::Crash { node: node("coord") }),
            tf(30_000, Fault::Restart { node: node("coord") }),
            tf(50_000, Fault::Crash { node: node("worker-0") }),
            tf(60_000, Fault::Skew { node: node("sched-1"), offset_ms: 10, drift_ppm: 0 }),
        ];
        let mut plan = plan;
        plan.sort_by_key(|f| f.at_ms);
        let o = Outages::from_plan(&plan, &scheds, 300, end);
        let w: Vec<(u64, u64)> = o.windows.iter().map(|(s, e)| (s.0 / 1_000, e.0 / 1_000)).collect();
        // sched-0 alone: 1.0-1.3 s; both impaired 3.0-4.0 s (+0.3); coordinator 20-30 s (+0.3).
        assert_eq!(w, [(1_000, 1_300), (3_000, 4_300), (20_000, 30_300)]);
        assert_eq!(o.recovered(SimTime::from_ms(25_000)), SimTime::from_ms(30_300));
        assert_eq!(o.recovered(SimTime::from_ms(10_000)), SimTime::from_ms(10_000));
        assert_eq!(o.skew_from, Some(SimTime::from_ms(60_000)));
    }
}
