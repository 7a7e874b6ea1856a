//! A whole cron expression and the rule that decides whether a minute matches it.
//!
//! Minute, hour and month must all match. The two day fields follow Vixie cron's rule
//! (ISC cron 4.1 `cron.c`; crontab(5): "If both fields are restricted (i.e., do not contain
//! the "*" character), the command will be run when either field matches"): if either day
//! field *starts with* `*`, a day must match both (AND); if neither does, a day matching
//! either is enough (OR). So `0 0 13 * 5` fires every Friday *and* every 13th, while
//! `0 0 */2 * 5` fires only on odd-numbered Fridays: `*/2` starts with `*`. The test is on
//! the text, not the set: `1-31` is "restricted" though it selects every day.
//!
//! Macros, as in Vixie cron: `@yearly`/`@annually` = `0 0 1 1 *`, `@monthly` = `0 0 1 * *`,
//! `@weekly` = `0 0 * * 0`, `@daily`/`@midnight` = `0 0 * * *`, `@hourly` = `0 * * * *`.
//! `@reboot` is refused: it names an event, not a time.

use super::calendar::{days_in_month, Civil};
use super::field::{parse_field, Field, FieldSet};
use std::fmt;

/// Why an expression was refused: the field (if one is at fault) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronError {
    pub field: Option<Field>,
    pub message: String,
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field} field: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CronError {}

/// A parsed cron expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub minutes: FieldSet,
    pub hours: FieldSet,
    pub days_of_month: FieldSet,
    pub months: FieldSet,
    /// 0 = Sunday … 6 = Saturday (7 already folded into 0).
    pub days_of_week: FieldSet,
    /// The text it was parsed from.
    pub source: String,
}

const MACROS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, CronError> {
        let whole = |message: String| CronError { field: None, message };
        let trimmed = text.trim();
        let expanded = if trimmed.starts_with('@') {
            let lower = trimmed.to_ascii_lowercase();
            match MACROS.iter().find(|(m, _)| *m == lower) {
                Some((_, fields)) => *fields,
                None if lower == "@reboot" => {
                    return Err(whole("@reboot runs at start-up, not at a time, so it has no next fire".into()))
                }
                None => {
                    let known: Vec<&str> = MACROS.iter().map(|(m, _)| *m).collect();
                    return Err(whole(format!("unknown macro {trimmed:?}; known: {}", known.join(", "))));
                }
            }
        } else {
            trimmed
        };
        let parts: Vec<&str> = expanded.split_ascii_whitespace().collect();
        if parts.len() != 5 {
            return Err(whole(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), got {} in {trimmed:?}",
                parts.len()
            )));
        }
        let mut sets = [FieldSet { bits: 0, star: false }; 5];
        for ((set, field), part) in sets.iter_mut().zip(Field::ALL).zip(&parts) {
            *set = parse_field(field, part).map_err(|message| CronError { field: Some(field), message })?;
        }
        let [minutes, hours, days_of_month, months, days_of_week] = sets;
        Ok(Schedule { minutes, hours, days_of_month, months, days_of_week, source: trimmed.to_string() })
    }

    /// Vixie's day rule: AND if either day field starts with `*`, otherwise OR.
    pub fn day_matches(&self, day_of_month: u32, weekday: u32) -> bool {
        let dom = self.days_of_month.contains(day_of_month);
        let dow = self.days_of_week.contains(weekday);
        if self.days_of_month.star || self.days_of_week.star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// Whether the expression fires at this minute.
    pub fn matches(&self, c: Civil) -> bool {
        self.minutes.contains(c.minute)
            && self.hours.contains(c.hour)
            && self.months.contains(c.month)
            && self.day_matches(c.day, c.weekday())
    }

    /// Why the expression can never fire, if it cannot (`0 0 30 2 *`: February has no
    /// 30th). Only the AND rule can starve: under OR any selected weekday recurs in every
    /// month. Under AND a selected (month, day) pair that exists in some year is enough,
    /// because across the 400-year Gregorian cycle every date — 29 February included —
    /// falls on every weekday.
    pub fn never_fires(&self) -> Option<String> {
        if !(self.days_of_month.star || self.days_of_week.star) {
            return None;
        }
        let possible = (1..=12u32)
            .any(|m| self.months.contains(m) && (1..=days_in_month(2000, m)).any(|d| self.days_of_month.contains(d)));
        (!possible)
            .then(|| format!("{:?} never fires: no selected day of the month exists in a selected month", self.source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_field_and_token() {
        let e = |t: &str| Schedule::parse(t).unwrap_err().to_string();
        assert_eq!(e("61 * * * *"), "minute field: 61 is out of range 0-59");
        assert_eq!(e("* 24 * * *"), "hour field: 24 is out of range 0-23");
        assert_eq!(e("* * 32 * *"), "day-of-month field: 32 is out of range 1-31");
        assert!(e("* * * Foo *").starts_with("month field: \"Foo\""));
        assert!(e("* * * * 8").starts_with("day-of-week field: 8"));
        assert!(e("5/10 * * * *").starts_with("minute field: \"5/10\" puts a step after a single value"));
        assert!(e("* * * *").starts_with("expected 5 fields"));
        assert!(e("* * * * * /bin/true").contains("got 6"));
        assert!(e("@reboot").contains("start-up"));
        assert!(e("@fortnightly").contains("unknown macro"));
    }

    #[test]
    fn macros_and_star_flags() {
        let p = |t: &str| Schedule::parse(t).unwrap();
        assert_eq!(p("@weekly").days_of_week.bits, 1);
        assert!(p("@weekly").days_of_month.star);
        assert_eq!(p("@HOURLY").minutes.bits, 1);
        assert_eq!(p("@annually").months.bits, p("@yearly").months.bits);
        // `*/2` starts with `*`: AND; `1-31` does not: OR.
        let and = p("0 0 */2 * 5");
        assert!(!and.day_matches(2, 5) && and.day_matches(3, 5) && !and.day_matches(3, 4));
        let or = p("0 0 13 * 5");
        assert!(or.day_matches(13, 2) && or.day_matches(6, 5) && !or.day_matches(6, 4));
        let all_days = p("0 0 1-31 * 1");
        assert!(all_days.day_matches(6, 3), "1-31 is restricted, so OR: every day");
    }

    #[test]
    fn never_fires_only_when_no_date_exists() {
        assert!(Schedule::parse("0 0 30 2 *").unwrap().never_fires().is_some());
        assert!(Schedule::parse("0 0 31 4,6,9,11 *").unwrap().never_fires().is_some());
        assert!(Schedule::parse("0 0 29 2 *").unwrap().never_fires().is_none());
        // OR rule: the Mondays of February always exist.
        assert!(Schedule::parse("0 0 30 2 1").unwrap().never_fires().is_none());
    }
}
