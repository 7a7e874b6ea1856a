//! Swarm fault plans, after TigerBeetle's VOPR and "swarm testing" (Groce et al., ISSTA
//! 2012): each seed first picks *which kinds* of fault are enabled, then schedules a few
//! of them at random instants, each followed by its repair (restart, heal, unclog) so a run
//! can also be judged on whether it recovers. Varying the mix per seed finds bugs that a
//! fixed "everything a little" mix hides.

use super::fault::{Fault, TimedFault};
use super::rng::Prng;
use serde::Serialize;

/// A family of faults a system opts into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Crash,
    Pause,
    Skew,
    Partition,
    Clog,
    Loss,
}

/// Draws a fault plan for one seed over a run of `horizon_ms`, touching only `targets`.
pub fn plan(
    rng: &mut Prng,
    kinds: &[FaultKind],
    targets: &[String],
    horizon_ms: u64,
) -> Vec<TimedFault> {
    if kinds.is_empty() || targets.is_empty() || horizon_ms < 10 {
        return Vec::new();
    }
    let enabled: Vec<FaultKind> = {
        let mut e: Vec<FaultKind> = kinds.iter().copied().filter(|_| rng.chance(0.6)).collect();
        if e.is_empty() {
            e.push(*rng.pick(kinds).unwrap_or(&kinds[0]));
        }
        e
    };
    let count = rng.between(1, 4);
    let mut out = Vec::new();
    for _ in 0..count {
        let kind = *rng.pick(&enabled).unwrap_or(&enabled[0]);
        let node = rng.pick(targets).cloned().unwrap_or_default();
        let at_ms = rng.between(horizon_ms / 20, horizon_ms * 3 / 4);
        let lasting = rng.between(horizon_ms / 50 + 1, horizon_ms / 5 + 1);
        let end = at_ms + lasting;
        match kind {
            FaultKind::Crash => {
                out.push(TimedFault {
                    at_ms,
                    fault: Fault::Crash { node: node.clone() },
                });
                out.push(TimedFault {
                    at_ms: end,
                    fault: Fault::Restart { node },
                });
            }
            FaultKind::Pause => out.push(TimedFault {
                at_ms,
                fault: Fault::Pause {
                    node,
                    for_ms: lasting,
                },
            }),
            FaultKind::Skew => {
                let offset_ms = rng.between(0, 2_000) as i64 - 1_000;
                let drift_ppm = rng.between(0, 200_000) as i64 - 100_000;
                out.push(TimedFault {
                    at_ms,
                    fault: Fault::Skew {
                        node: node.clone(),
                        offset_ms,
                        drift_ppm,
                    },
                });
                out.push(TimedFault {
                    at_ms: end,
                    fault: Fault::Skew {
                        node,
                        offset_ms: 0,
                        drift_ppm: 0,
                    },
                });
            }
            FaultKind::Partition => {
                let others: Vec<String> = targets.iter().filter(|t| **t != node).cloned().collect();
                if others.is_empty() {
                    continue;
                }
                let one_way = rng.chance(0.3);
                out.push(TimedFault {
                    at_ms,
                    fault: Fault::Partition {
                        a: vec![node],
                        b: others,
                        one_way,
                    },
                });
                out.push(TimedFault {
                    at_ms: end,
                    fault: Fault::Heal,
                });
            }
            FaultKind::Clog => {
                let Some(to) = rng.pick(targets).cloned() else {
                    continue;
                };
                if to == node {
                    continue;
                }
                let extra_ms = rng.between(5, 300);
                out.push(TimedFault {
                    at_ms,
                    fault: Fault::Clog {
                        from: node.clone(),
                        to: to.clone(),
                        extra_ms,
                    },
                });
                out.push(TimedFault {
                    at_ms: end,
                    fault: Fault::Unclog { from: node, to },
                });
            }
            FaultKind::Loss => {
                let rate = rng.between(1, 20) as f64 / 100.0;
                out.push(TimedFault {
                    at_ms,
                    fault: Fault::Loss { rate },
                });
                out.push(TimedFault {
                    at_ms: end,
                    fault: Fault::Loss { rate: 0.0 },
                });
            }
        }
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_seeded_and_repair_what_they_break() {
        let targets = vec!["a".to_string(), "b".to_string()];
        let all = [FaultKind::Crash, FaultKind::Partition, FaultKind::Loss];
        let p1 = plan(&mut Prng::new(3), &all, &targets, 10_000);
        assert_eq!(p1, plan(&mut Prng::new(3), &all, &targets, 10_000));
        for seed in 0..50 {
            let p = plan(&mut Prng::new(seed), &all, &targets, 10_000);
            let crashes = p
                .iter()
                .filter(|f| matches!(f.fault, Fault::Crash { .. }))
                .count();
            let restarts = p
                .iter()
                .filter(|f| matches!(f.fault, Fault::Restart { .. }))
                .count();
            assert_eq!(crashes, restarts);
            assert!(p.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        }
    }
}
