//! Faults as data. A scenario carries a list of timed faults; the kernel applies each at its
//! instant, exactly as a click in the playground would. Nodes are named, not numbered, so
//! a link stays readable; a name may also be a role (`"shard"`), meaning every node of it.

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
    Clog {
        from: String,
        to: String,
        extra_ms: u64,
    },
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
            Fault::Crash { node }
            | Fault::Restart { node }
            | Fault::Pause { node, .. }
            | Fault::Skew { node, .. } => {
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
            Fault::Skew {
                node,
                offset_ms,
                drift_ppm,
            } => {
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
        !matches!(
            self,
            Fault::Skew { .. } | Fault::Heal | Fault::Unclog { .. }
        )
    }
}
