//! The job registry and the run's time scale.
//!
//! **Time scale.** A run is at most ten simulated minutes, and cron thinks in minutes, so
//! the schedule clock runs 60× fast: one minute of schedule time is one second of
//! simulated time. Minute `k` of the schedule is `START + k` (UTC), and a node whose clock
//! reads `t` ms believes it is minute `floor(t / 1000)`. Everything else keeps its
//! simulated size: a network hop of ≈0.7 ms stands for ≈42 ms of schedule time, a lease
//! of 250 ms for 15 s, a 300 ms job for 18 s. The run starts at 23:00 UTC on Saturday
//! 28 February 2026, so a two-hour run crosses midnight into a Sunday and a new month.
//!
//! **Registry.** Up to six jobs with real expressions, the first one's step a parameter.
//! Every scheduler holds the same registry (it is configuration, not state).

use crate::blocks::cron::{Civil, Schedule};

/// 2026-02-28T23:00:00Z in Unix minutes.
pub fn start_minute() -> i64 {
    Civil { year: 2026, month: 2, day: 28, hour: 23, minute: 0 }.to_unix_minutes()
}

/// Simulated milliseconds per schedule minute.
pub const MS_PER_MINUTE: u64 = 1_000;

#[derive(Clone, Debug)]
pub struct Job {
    pub name: &'static str,
    pub expr: String,
    pub schedule: Schedule,
}

impl Job {
    /// The first fire strictly after schedule minute `k` (minutes from the start).
    pub fn next_after(&self, k: i64) -> Option<i64> {
        let start = start_minute();
        self.schedule.next_after(start + k).map(|m| m - start)
    }
}

/// The registry: the first `count` of these, the first stepping every `every_min` minutes.
pub fn registry(count: usize, every_min: u32) -> Vec<Job> {
    let table: [(&'static str, String); 6] = [
        ("sync", format!("*/{every_min} * * * *")),
        ("report", "5,35 * * * *".into()),
        ("rollup", "@hourly".into()),
        ("weekend", "*/20 * * * SAT,SUN".into()),
        ("month-start", "@monthly".into()),
        ("nightly", "45 0-4 * * *".into()),
    ];
    table
        .into_iter()
        .take(count.clamp(1, 6))
        .map(|(name, expr)| {
            let schedule = Schedule::parse(&expr).expect("registry expressions are valid");
            Job { name, expr, schedule }
        })
        .collect()
}

/// Brute force, independent of `next_after`: every minute in `[0, minutes)` at which the
/// job's expression matches, found by testing each minute in turn.
pub fn fires_by_scan(job: &Job, minutes: i64) -> Vec<i64> {
    let start = start_minute();
    (0..minutes).filter(|k| job.schedule.matches(Civil::from_unix_minutes(start + k))).collect()
}

/// "23:04": the wall-clock time of schedule minute `k`, for labels.
pub fn clock(k: i64) -> String {
    let c = Civil::from_unix_minutes(start_minute() + k);
    format!("{:02}:{:02}", c.hour, c.minute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_fires_as_the_calendar_says() {
        let jobs = registry(6, 2);
        let two_hours = 120;
        let n = |j: usize| fires_by_scan(&jobs[j], two_hours);
        assert_eq!(n(0).len(), 60, "*/2 over two hours");
        assert_eq!(n(1), [5, 35, 65, 95], "5,35 past each hour");
        assert_eq!(n(2), [0, 60], "@hourly: 23:00 and midnight");
        assert_eq!(n(3).len(), 6, "*/20 on Saturday and Sunday");
        assert_eq!(n(4), [60], "@monthly: 1 March 00:00");
        assert_eq!(n(5), [105], "00:45");
        // The field-skipping search agrees with the scan.
        for j in &jobs {
            let mut k = -1;
            let mut walked = Vec::new();
            while let Some(next) = j.next_after(k).filter(|&m| m < two_hours) {
                walked.push(next);
                k = next;
            }
            assert_eq!(walked, fires_by_scan(j, two_hours), "{}", j.expr);
        }
        assert_eq!(clock(60), "00:00");
    }
}
