//! The three checks, each judged against a record the code under test does not keep:
//! - `no-cross-tenant-read`: every row a client receives was written (the shard's write
//!   record at write time, before any query ran) by the tenant named in the client's token;
//! - `metering-matches-usage`: the meter's final invoice for each tenant equals the number
//!   of requests shards reported serving for it, counted here as they were served;
//! - `small-tenant-p99`: the p99 latency of the small tenants' requests, in true simulated
//!   time from send to answer (failures at their timeout), stays under the limit while the
//!   big tenant spikes.

use super::msg::{Obs, TenantId};
use crate::check::{Property, RunEnd};
use crate::metrics::histogram::Histogram;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

pub const NO_CROSS_TENANT_READ: &str = "no-cross-tenant-read";
pub const METERING: &str = "metering-matches-usage";
pub const SMALL_P99: &str = "small-tenant-p99";

/// No row of one tenant is ever returned to another.
#[derive(Clone, Default)]
pub struct NoCrossTenantRead {
    writer: BTreeMap<u64, TenantId>,
    reads: u64,
    rows: u64,
}

impl Property<Obs> for NoCrossTenantRead {
    fn name(&self) -> &'static str {
        NO_CROSS_TENANT_READ
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Wrote { id, writer } => {
                self.writer.insert(*id, *writer);
                None
            }
            Obs::Read { reader, rows } => {
                self.reads += 1;
                self.rows += rows.len() as u64;
                rows.iter().find_map(|id| match self.writer.get(id) {
                    Some(w) if w == reader => None,
                    Some(w) => Some(format!("tenant t{reader} was given row #{id:x}, written by tenant t{w}")),
                    None => Some(format!("tenant t{reader} was given row #{id:x}, which no one wrote")),
                })
            }
            _ => None,
        }
    }
    fn samples(&self) -> u64 {
        self.reads
    }
    fn summary(&self) -> String {
        format!("{} reads returned {} rows, each written by the reader's own tenant", self.reads, self.rows)
    }
}

/// The last invoice of every tenant equals what the shards served for it, judged once the
/// run has been quiet (no fault in force, nothing served) for `settle`.
#[derive(Clone)]
pub struct MeteringMatchesUsage {
    quiet: Option<SimTime>,
    settle: SimDuration,
    served: BTreeMap<TenantId, u64>,
    last_served: SimTime,
    /// Per tenant, its latest invoice line: (when, units).
    invoiced: BTreeMap<TenantId, (SimTime, u64)>,
    judged: u64,
    verdict: String,
}

impl MeteringMatchesUsage {
    pub fn new(faults: &[TimedFault], settle: SimDuration) -> MeteringMatchesUsage {
        MeteringMatchesUsage {
            quiet: crate::sim::fault::quiet_from(faults, false),
            settle,
            served: BTreeMap::new(),
            last_served: SimTime::ZERO,
            invoiced: BTreeMap::new(),
            judged: 0,
            verdict: String::new(),
        }
    }
}

impl Property<Obs> for MeteringMatchesUsage {
    fn name(&self) -> &'static str {
        METERING
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Served { tenant, .. } => {
                *self.served.entry(*tenant).or_default() += 1;
                self.last_served = at;
            }
            Obs::Invoice { tenant, units } => {
                self.invoiced.insert(*tenant, (at, *units));
            }
            _ => {}
        }
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let Some(quiet) = self.quiet else {
            self.verdict = "not judged: some fault of the plan is never repaired".into();
            return None;
        };
        let need = quiet.max(self.last_served) + self.settle;
        let mut bad = Vec::new();
        for (&tenant, &(at, units)) in &self.invoiced {
            if at < need {
                continue;
            }
            self.judged += 1;
            let served = self.served.get(&tenant).copied().unwrap_or(0);
            if units != served {
                bad.push(format!("t{tenant} invoiced {units} requests, served {served}"));
            }
        }
        if self.judged == 0 {
            self.verdict = format!("not judged: no invoice after the run was quiet (from {need})");
            return None;
        }
        let total: u64 = self.served.values().sum();
        self.verdict = format!("{} tenants' invoices equal the {total} requests shards served", self.judged);
        (!bad.is_empty()).then(|| bad.join("; "))
    }
    fn samples(&self) -> u64 {
        self.judged
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
}

/// How long after a fault on the request path is repaired the SLO still excuses requests.
pub const RECOVERY_MS: u64 = 1_000;

/// The stretches of true time in which a fault of the plan touches the request path (the
/// router or a shard): from the fault until its repair. Faults that touch only the meter
/// or the clients open none: the SLO makes no excuse for them.
pub fn disruption_windows(faults: &[TimedFault]) -> Vec<(SimTime, Option<SimTime>)> {
    let on_path = |f: &Fault| f.names().iter().any(|n| n.starts_with("router") || n.starts_with("shard"));
    crate::sim::fault::windows(faults, false)
        .into_iter()
        .filter(|w| matches!(faults[w.index].fault, Fault::Loss { .. }) || on_path(&faults[w.index].fault))
        .map(|w| (w.from, w.until))
        .collect()
}

/// p99 of the small tenants' request latency ≤ `limit_ms`. Conditions: every tenant but
/// the big one stays within its quota (their rates are set below it), and requests that
/// overlap a fault on the request path, or start within `RECOVERY_MS` of its repair, are
/// set aside. The big tenant's own requests are not judged: its spike is its problem.
#[derive(Clone)]
pub struct SmallTenantP99 {
    pub limit_ms: f64,
    big: TenantId,
    windows: Vec<(SimTime, Option<SimTime>)>,
    judged: Histogram,
    set_aside: u64,
    verdict: String,
}

impl SmallTenantP99 {
    pub fn new(limit_ms: f64, big: TenantId, faults: &[TimedFault]) -> SmallTenantP99 {
        SmallTenantP99 {
            limit_ms,
            big,
            windows: disruption_windows(faults),
            judged: Histogram::default(),
            set_aside: 0,
            verdict: String::new(),
        }
    }

    fn excused(&self, sent: SimTime, done: SimTime) -> bool {
        let margin = SimDuration::from_ms(RECOVERY_MS);
        self.windows.iter().any(|&(from, until)| done >= from && until.is_none_or(|u| sent < u + margin))
    }
}

impl Property<Obs> for SmallTenantP99 {
    fn name(&self) -> &'static str {
        SMALL_P99
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        if let Obs::Done { tenant, sent, latency, .. } = *obs {
            if tenant == self.big {
                return None;
            }
            if self.excused(sent, sent + latency) {
                self.set_aside += 1;
            } else {
                self.judged.record(latency.0);
            }
        }
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let n = self.judged.count();
        let aside = format!("{} set aside around faults on the request path", self.set_aside);
        if n < 50 {
            self.verdict = format!("not judged: only {n} small-tenant requests outside faults ({aside})");
            return None;
        }
        let p99 = self.judged.quantile(0.99) as f64 / 1_000.0;
        self.verdict = format!("small tenants' p99 {p99:.2} ms ≤ {} ms over {n} requests ({aside})", self.limit_ms);
        (p99 > self.limit_ms)
            .then(|| format!("small tenants' p99 {p99:.2} ms > {} ms over {n} requests ({aside})", self.limit_ms))
    }
    fn samples(&self) -> u64 {
        self.judged.count()
    }
    fn summary(&self) -> String {
        self.verdict.clone()
    }
}
