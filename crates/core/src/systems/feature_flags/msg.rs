//! Messages and observations of the feature-flag world.
//!
//! The store numbers every committed change with one global version; an SDK's cache is
//! "the flags as of version v". Streaming SDKs hold a connection that carries patches
//! (one change, with its version) and keepalive syncs; polling SDKs ask for the whole set
//! every interval. What the checks need travels as observations made where the fact
//! arises: the store when it commits a change (true simulated time, the resulting
//! config), an SDK when it serves a variant (which version it used, why).

use super::flags::{FlagConfig, Reason};
use crate::sim::node::Message;
use crate::sim::NodeId;

pub type Version = u64;

/// What an operator changes.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Op {
    /// Set the fallthrough rollout to this many basis points.
    Rollout(u32),
    /// Switch the flag on or off (off is the kill switch).
    Enable(bool),
    /// New variant weights (a new experiment: users may change arms).
    Weights(Vec<u32>),
}

impl Op {
    pub fn label(&self) -> String {
        match self {
            Op::Rollout(bp) => format!("rollout {}", pct(*bp)),
            Op::Enable(true) => "switch on".into(),
            Op::Enable(false) => "KILL (switch off)".into(),
            Op::Weights(w) => {
                let parts: Vec<String> = w.iter().map(|b| pct(*b)).collect();
                format!("weights {}", parts.join("/"))
            }
        }
    }

    /// The flag after this change.
    pub fn apply(&self, flag: &FlagConfig) -> FlagConfig {
        let mut f = flag.clone();
        match self {
            Op::Rollout(bp) => f.pct_bp = *bp,
            Op::Enable(on) => f.enabled = *on,
            Op::Weights(w) => f.weights = w.clone(),
        }
        f
    }
}

/// 2500 → "25%", 250 → "2.5%".
pub fn pct(bp: u32) -> String {
    if bp.is_multiple_of(100) {
        format!("{}%", bp / 100)
    } else {
        format!("{}%", bp as f64 / 100.0)
    }
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Users → SDK: a request that evaluates every flag for `user`.
    Eval { user: u32 },
    /// Streaming SDK → store: (re)subscribe, confirm freshness, catch up from `have`.
    Sync { nonce: u64, have: Version },
    /// Polling SDK → store: the whole flag set, please.
    Poll { have: Version },
    /// Store → SDK: the store's version, and every flag if the SDK is behind.
    State { nonce: u64, version: Version, flags: Option<Vec<FlagConfig>> },
    /// Store → streaming SDK: one committed change.
    Patch { version: Version, flag: u8, config: FlagConfig },
    /// Admin → store: change `id` (retried until acknowledged; the store applies each id
    /// once).
    Change { id: u64, flag: u8, op: Op },
    /// Store → admin: change `id` is committed at `version`.
    Ack { id: u64, version: Version },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Eval { user } => format!("eval user {user}"),
            Msg::Sync { have, .. } => format!("sync (have v{have})"),
            Msg::Poll { have } => format!("poll (have v{have})"),
            Msg::State { version, flags: Some(_), .. } => format!("state v{version} (all flags)"),
            Msg::State { version, flags: None, .. } => format!("fresh at v{version}"),
            Msg::Patch { version, config, .. } => format!("patch v{version} {}", config.key),
            Msg::Change { id, op, .. } => format!("change #{id}: {}", op.label()),
            Msg::Ack { id, version } => format!("ack #{id} at v{version}"),
        }
    }
}

/// What nodes report to the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// The store committed version `version`: flag `flag` is now `config` (`change` is
    /// `None` for the flags the store starts with).
    Committed { version: Version, flag: u8, config: FlagConfig, change: Option<Op> },
    /// An SDK served `variant` of `flag` to `user`, from its cache at `version`.
    Evaluated { sdk: NodeId, user: u32, flag: u8, version: Version, variant: u8, reason: Reason },
}
