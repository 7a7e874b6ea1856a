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

/// When the last fault of a plan is over: each fault lasts until its repair later in the
/// plan (a crash until that node's restart, a partition until a heal, a clog until its
/// unclog, a loss rate until it is set back to 0, a pause for its length); anything else is
/// instantaneous. `None` when some fault is never repaired. With `lasting_skew`, a clock
/// skew also lasts until a zero skew follows it (for checks that judge local-clock
/// deadlines); without, a skew counts as instantaneous.
pub fn quiet_from(faults: &[TimedFault], lasting_skew: bool) -> Option<SimTime> {
    let mut end = 0u64;
    for (i, f) in faults.iter().enumerate() {
        let later = &faults[i + 1..];
        let repair = |is: &dyn Fn(&Fault) -> bool| later.iter().find(|g| is(&g.fault)).map(|g| g.at_ms);
        let until = match &f.fault {
            Fault::Crash { node } => later
                .iter()
                .find(|g| g.at_ms >= f.at_ms && matches!(&g.fault, Fault::Restart { node: n } if n == node))
                .map(|g| g.at_ms)?,
            Fault::Pause { for_ms, .. } => f.at_ms + for_ms,
            Fault::Partition { .. } => repair(&|g| matches!(g, Fault::Heal))?,
            Fault::Clog { from, to, .. } => {
                repair(&|g| matches!(g, Fault::Unclog { from: a, to: b } if a == from && b == to))?
            }
            Fault::Loss { rate } if *rate > 0.0 => repair(&|g| matches!(g, Fault::Loss { rate } if *rate == 0.0))?,
            Fault::Skew { offset_ms, drift_ppm, .. } if lasting_skew && (*offset_ms != 0 || *drift_ppm != 0) => {
                repair(&|g| matches!(g, Fault::Skew { offset_ms: 0, drift_ppm: 0, .. }))?
            }
            _ => f.at_ms,
        };
        end = end.max(until);
    }
    Some(SimTime::from_ms(end))
}
