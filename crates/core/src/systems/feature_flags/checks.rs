//! The two promises of a flag service, each judged from a record the check keeps itself:
//! the store's committed configurations (with the true simulated time of each commit)
//! and the full history of what every SDK served. Neither check hashes a user or reads
//! an SDK's cache.
//!
//! - `bucket-stability` (safety): the check splits each flag's committed history into
//!   epochs. A commit that only raises the rollout percentage stays in the epoch; any
//!   other change (a lower percentage, new weights, a rule, the switch) starts a new one.
//!   Within an epoch a user's answers must be monotone in the version the SDK used: once
//!   a user was served a variant other than the flag's off variant at version v, every
//!   answer at a version ≥ v in the epoch must be that same variant — never the off
//!   variant, never another arm. Answers come from different SDKs at different versions,
//!   so the check orders them by version, not by time: per user and epoch it keeps the
//!   lowest version served "on" (and its variant) and the highest served "off". Answers
//!   an SDK served as its code default (no cache, or a fail-closed flag past its lease)
//!   are not bucket decisions and are not judged. A version the store never committed
//!   is itself a violation.
//! - `kill-switch-slo` (SLO): when the store commits a flag switched off at true time T,
//!   every answer for that flag served at T + SLO or later — by any SDK, until the flag is
//!   switched on again — must be its off variant. Judged on every answer, under every
//!   fault: an SDK that cannot hear the store must stop serving the feature, not keep it.
//!   The summary reports the last `on` answer seen after each kill, i.e. how long the
//!   kill actually took to reach everyone.

use super::flags::{FlagConfig, Reason};
use super::msg::{pct, Obs, Version};
use crate::check::Property;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// (flag, epoch, user) entries `bucket-stability` tracks; later users are counted only.
pub const MAX_TRACKED: usize = 300_000;

fn name(names: &[String], id: NodeId) -> String {
    names.get(id as usize).cloned().unwrap_or_else(|| format!("#{id}"))
}

fn secs(t: SimTime) -> String {
    format!("{:.3} s", t.as_ms() / 1_000.0)
}

/// Whether `next` differs from `prev` only by a rollout that grew (or stayed).
pub fn only_grows(prev: &FlagConfig, next: &FlagConfig) -> bool {
    next.pct_bp >= prev.pct_bp && FlagConfig { pct_bp: prev.pct_bp, ..next.clone() } == *prev
}

#[derive(Clone, Copy, Debug)]
struct Sighting {
    version: Version,
    variant: u8,
    sdk: NodeId,
    at: SimTime,
}

#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    /// The lowest version at which the user was served an "on" variant.
    on: Option<Sighting>,
    /// The highest version at which the user was served the off variant.
    off: Option<Sighting>,
}

/// One committed configuration of a flag, with the epoch it belongs to.
#[derive(Clone, Debug)]
struct Committed {
    version: Version,
    config: FlagConfig,
    epoch: u32,
}

#[derive(Clone)]
pub struct BucketStability {
    names: Vec<String>,
    history: BTreeMap<u8, Vec<Committed>>,
    latest: Version,
    epochs: u32,
    seen: BTreeMap<(u8, u32, u32), Seen>,
    untracked: u64,
    judged: u64,
    users: u64,
}

impl BucketStability {
    pub fn new(names: Vec<String>) -> BucketStability {
        BucketStability {
            names,
            history: BTreeMap::new(),
            latest: 0,
            epochs: 0,
            seen: BTreeMap::new(),
            untracked: 0,
            judged: 0,
            users: 0,
        }
    }

    /// The configuration of `flag` at `version`: the last commit to it at or before.
    fn at(&self, flag: u8, version: Version) -> Option<&Committed> {
        let h = self.history.get(&flag)?;
        let i = h.partition_point(|c| c.version <= version);
        i.checked_sub(1).map(|i| &h[i])
    }

    fn describe(&self, flag: u8, s: &Sighting) -> String {
        let cfg = self.at(flag, s.version).map(|c| &c.config);
        let variant = cfg.map_or("?", |c| c.variant_name(s.variant));
        let rollout = cfg.map_or("?".into(), |c| pct(c.pct_bp));
        format!(
            "{} served `{variant}` at v{} (rollout {rollout}) at {}",
            name(&self.names, s.sdk),
            s.version,
            secs(s.at)
        )
    }

    fn judge(
        &mut self,
        at: SimTime,
        sdk: NodeId,
        user: u32,
        flag: u8,
        version: Version,
        variant: u8,
    ) -> Option<String> {
        if version > self.latest {
            return Some(format!(
                "{} served flag {flag} from v{version}, a version the store never committed (latest v{})",
                name(&self.names, sdk),
                self.latest
            ));
        }
        let Some(c) = self.at(flag, version) else {
            return Some(format!(
                "{} served flag {flag} at v{version}, before the flag existed",
                name(&self.names, sdk)
            ));
        };
        let (epoch, off_variant, key) = (c.epoch, c.config.off_variant, c.config.key);
        let now = Sighting { version, variant, sdk, at };
        let k = (flag, epoch, user);
        if !self.seen.contains_key(&k) {
            if self.seen.len() >= MAX_TRACKED {
                self.untracked += 1;
                return None;
            }
            self.users += 1;
        }
        self.judged += 1;
        let seen = self.seen.entry(k).or_default();
        let mut clash = None;
        if variant != off_variant {
            if let Some(first) = seen.on.filter(|f| f.variant != variant) {
                clash = Some(first);
            }
            if let Some(off) = seen.off.filter(|o| o.version >= version) {
                clash = clash.or(Some(off));
            }
            if seen.on.is_none_or(|o| version < o.version) {
                seen.on = Some(now);
            }
        } else {
            if let Some(on) = seen.on.filter(|o| o.version <= version) {
                clash = Some(on);
            }
            if seen.off.is_none_or(|o| version > o.version) {
                seen.off = Some(now);
            }
        }
        let other = clash?;
        let (a, b) = if other.version <= version { (other, now) } else { (now, other) };
        Some(format!(
            "user {user}, {key}: {}, then {}; from one version to the other the rollout only grew (or stayed), so the answer should not have changed",
            self.describe(flag, &a),
            self.describe(flag, &b)
        ))
    }
}

impl Property<Obs> for BucketStability {
    fn name(&self) -> &'static str {
        "bucket-stability"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Committed { version, flag, config, .. } => {
                self.latest = self.latest.max(*version);
                let h = self.history.entry(*flag).or_default();
                let same = h.last().is_some_and(|last| only_grows(&last.config, config));
                if !same {
                    self.epochs += 1;
                }
                h.push(Committed { version: *version, config: config.clone(), epoch: self.epochs });
                None
            }
            Obs::Evaluated { reason: Reason::Fallback, .. } => None,
            &Obs::Evaluated { sdk, user, flag, version, variant, .. } => {
                self.judge(at, sdk, user, flag, version, variant)
            }
        }
    }

    fn samples(&self) -> u64 {
        self.judged
    }

    fn summary(&self) -> String {
        let mut s = format!(
            "{} answers to {} (user, flag, epoch) pairs over {} epochs were monotone as the rollouts grew",
            self.judged, self.users, self.epochs
        );
        if self.untracked > 0 {
            s.push_str(&format!("; {} answers to users beyond the first {MAX_TRACKED} not judged", self.untracked));
        }
        s
    }
}

#[derive(Clone, Copy, Debug)]
struct Kill {
    at: SimTime,
    version: Version,
    off_variant: u8,
    /// The latest answer still `on` after the kill, and who served it.
    last_on: Option<(SimTime, NodeId)>,
}

#[derive(Clone)]
pub struct KillSwitchSlo {
    names: Vec<String>,
    slo: SimDuration,
    enabled: BTreeMap<u8, bool>,
    keys: BTreeMap<u8, &'static str>,
    live: BTreeMap<u8, Kill>,
    done: Vec<(u8, Kill)>,
    judged: u64,
}

impl KillSwitchSlo {
    pub fn new(names: Vec<String>, slo_ms: u64) -> KillSwitchSlo {
        KillSwitchSlo {
            names,
            slo: SimDuration::from_ms(slo_ms),
            enabled: BTreeMap::new(),
            keys: BTreeMap::new(),
            live: BTreeMap::new(),
            done: Vec::new(),
            judged: 0,
        }
    }

    fn reach(&self, flag: u8, k: &Kill) -> String {
        let key = self.keys.get(&flag).copied().unwrap_or("?");
        match k.last_on {
            Some((t, sdk)) => format!(
                "{key} killed at {} (v{}): last `on` answer {:.1} ms later ({})",
                secs(k.at),
                k.version,
                (t.0 - k.at.0) as f64 / 1_000.0,
                name(&self.names, sdk)
            ),
            None => format!("{key} killed at {} (v{}): no `on` answer after it", secs(k.at), k.version),
        }
    }
}

impl Property<Obs> for KillSwitchSlo {
    fn name(&self) -> &'static str {
        "kill-switch-slo"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Committed { version, flag, config, .. } => {
                let was = self.enabled.insert(*flag, config.enabled).unwrap_or(true);
                self.keys.insert(*flag, config.key);
                if was && !config.enabled {
                    let k = Kill { at, version: *version, off_variant: config.off_variant, last_on: None };
                    self.live.insert(*flag, k);
                } else if config.enabled {
                    if let Some(k) = self.live.remove(flag) {
                        self.done.push((*flag, k));
                    }
                }
                None
            }
            &Obs::Evaluated { sdk, user, flag, version, variant, .. } => {
                let slo = self.slo;
                let k = self.live.get_mut(&flag)?;
                self.judged += 1;
                if variant == k.off_variant {
                    return None;
                }
                k.last_on = Some((at, sdk));
                let late = at.0 - k.at.0;
                if late < slo.0 {
                    return None;
                }
                let key = self.keys.get(&flag).copied().unwrap_or("?");
                Some(format!(
                    "{} served {key} ON to user {user} at {}, {:.1} ms after the kill switch was committed at {} (v{}); SLO {} ms. Its cache was at v{version}",
                    name(&self.names, sdk),
                    secs(at),
                    late as f64 / 1_000.0,
                    secs(k.at),
                    k.version,
                    slo.0 / 1_000
                ))
            }
        }
    }

    fn samples(&self) -> u64 {
        self.judged
    }

    fn summary(&self) -> String {
        let mut all: Vec<String> = self.done.iter().map(|(f, k)| self.reach(*f, k)).collect();
        all.extend(self.live.iter().map(|(f, k)| self.reach(*f, k)));
        if all.is_empty() {
            return "no flag was switched off".into();
        }
        format!(
            "{} answers after a kill, none `on` past the {} ms SLO; {}",
            self.judged,
            self.slo.0 / 1_000,
            all.join("; ")
        )
    }
}
