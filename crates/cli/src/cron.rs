//! `sdlab cron "EXPR" --from ISO --count N`: the next N times a cron expression fires,
//! strictly after `--from`, one ISO-8601 UTC time per line. Uses the same parser and
//! next-fire search the cron-scheduler system runs on (`sdlab_core::blocks::cron`), so a
//! schedule can be checked here before it is put in a simulated registry.
//!
//! "Strictly after": a fire exactly at `--from` is not listed (ask from a minute earlier
//! to include it). Cron has minute resolution: `--from 13:00:30` lists 13:01 first.
//! A bad expression, a bad `--from`, or an expression that can never fire (`0 0 30 2 *`)
//! exits 2 with a one-line reason.

use clap::Args;
use sdlab_core::blocks::cron::{iso_minute, parse_iso_utc, Civil, Schedule};
use std::io::Write;

/// The most fires one call lists.
pub const MAX_COUNT: u64 = 10_000;

#[derive(Args)]
pub struct CronArgs {
    /// A five-field expression (`*/15 9-17 * * MON-FRI`) or a macro (`@daily`), quoted.
    expr: String,
    /// List fires strictly after this UTC instant (`2026-12-02T13:00:00Z`).
    #[arg(long)]
    from: String,
    /// How many fires to list (1 to 10000).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=MAX_COUNT))]
    count: u64,
}

/// Exit 0 after listing; `Err` (exit 2) for bad input.
pub fn cron(args: &CronArgs) -> Result<u8, String> {
    let schedule = Schedule::parse(&args.expr).map_err(|e| format!("bad cron expression {:?}: {e}", args.expr))?;
    if let Some(why) = schedule.never_fires() {
        return Err(why);
    }
    let from_secs = parse_iso_utc(&args.from).map_err(|e| format!("bad --from: {e}"))?;
    let mut t = from_secs.div_euclid(60);
    let mut out = std::io::stdout().lock();
    for _ in 0..args.count {
        // Four-digit years only: a schedule that runs past 9999 stops there.
        match schedule.next_after(t).filter(|&n| Civil::from_unix_minutes(n).year <= 9_999) {
            Some(n) => {
                writeln!(out, "{}", iso_minute(n)).map_err(|e| e.to_string())?;
                t = n;
            }
            None => break,
        }
    }
    Ok(0)
}
