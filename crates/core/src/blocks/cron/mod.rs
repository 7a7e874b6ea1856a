//! Cron expressions: parse the classic five fields (minute hour day-of-month month
//! day-of-week) with Vixie cron's grammar and day rule, and find the next time one fires.
//! Written for the cron-scheduler system and meant for the task scheduler too.
//!
//! - `calendar`: UTC civil time from Unix minutes and back (no chrono), ISO-8601.
//! - `field`: one field's grammar — lists, ranges, steps, names — and its bounds.
//! - `schedule`: the whole expression, the `@daily`-style macros and the day-of-month /
//!   day-of-week rule.
//! - `next`: the next fire strictly after a minute, skipping field by field instead of
//!   minute by minute; tested against a minute-by-minute twin (`tests.rs`).
//!
//! Times are whole minutes since the Unix epoch, in UTC (cron has no seconds).
//! Reference: the crontab(5) manual of ISC cron 4.1 / cronie, and its `entry.c` and
//! `cron.c`, whose behaviour the tests pin down, published examples included.

pub mod calendar;
pub mod field;
pub mod next;
pub mod schedule;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use calendar::{iso_minute, parse_iso_utc, Civil};
pub use schedule::{CronError, Schedule};
