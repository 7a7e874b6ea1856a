//! One field of a cron expression: its bounds, its names, and the grammar of its text,
//! after Vixie cron (ISC cron 4.1 `entry.c`, as in cronie today):
//!
//! ```text
//! list  = item { "," item }
//! item  = ( "*" | value [ "-" value ] ) [ "/" step ]       (a step after a single value is refused)
//! value = digits | name                                   (names only for month and day-of-week)
//! ```
//!
//! What Vixie does, and so do we:
//! - `*` is "first-last" and may take a step: `*/15` is 0,15,30,45.
//! - `1-30/5` is 1,6,…,26; a range must not run backwards (`17-9` is an error; no wrap-around).
//! - `5/10` is **refused**: `get_number` only accepts `,`, `-` or a blank after a single
//!   value, so ISC cron 4.1 and cronie reject the line. (Vixie 3.0 silently read it as `5`,
//!   and some other schedulers — Quartz, several libraries — read it as `5-59/10`; we follow
//!   4.1 and say so in the error, suggesting `5-59/10`.)
//! - A step of 0 is an error; a step wider than the range just keeps its first value.
//! - Names are the first three letters (`JAN`–`DEC`, `SUN`–`SAT`), any case, and may be
//!   used in ranges (`MON-FRI`) and lists — the 4.1 code allows it though its man page says
//!   otherwise. Steps are always numbers.
//! - Day-of-week takes 0-7; 7 is Sunday, folded into 0.
//! - Whether the field *starts with* `*` is remembered: that, not the set of days it
//!   selects, decides the day-of-month/day-of-week rule (see `schedule`).

use std::fmt;

/// Which field, in expression order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Field {
    pub const ALL: [Field; 5] = [Field::Minute, Field::Hour, Field::DayOfMonth, Field::Month, Field::DayOfWeek];

    pub fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// Smallest and largest value the field's text may hold.
    pub fn bounds(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    /// The value a three-letter name stands for, if this field has names.
    fn named(self, word: &str) -> Option<u32> {
        let upper = word.to_ascii_uppercase();
        match self {
            Field::Month => MONTHS.iter().position(|n| *n == upper).map(|i| i as u32 + 1),
            Field::DayOfWeek => DAYS.iter().position(|n| *n == upper).map(|i| i as u32),
            _ => None,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The values a field selects (bit `v` set for value `v`), and whether its text began with
/// `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSet {
    pub bits: u64,
    pub star: bool,
}

impl FieldSet {
    pub fn contains(self, v: u32) -> bool {
        v < 64 && self.bits >> v & 1 == 1
    }

    /// The smallest selected value ≥ `from`.
    pub fn next_from(self, from: u32) -> Option<u32> {
        if from >= 64 {
            return None;
        }
        let rest = self.bits >> from;
        (rest != 0).then(|| from + rest.trailing_zeros())
    }
}

/// Parses one field's text. Errors name the offending token; the caller adds the field.
pub fn parse_field(field: Field, text: &str) -> Result<FieldSet, String> {
    let (low, high) = field.bounds();
    let mut bits = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("empty item in the list {text:?}"));
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(parse_step(s, item)?)),
            None => (item, None),
        };
        let (first, last) = if range == "*" {
            (low, high)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(field, a)?, value(field, b)?);
            if a > b {
                return Err(format!("range {range} runs backwards (cron ranges do not wrap around)"));
            }
            (a, b)
        } else {
            let v = value(field, range)?;
            if step.is_some() {
                return Err(format!(
                    "{item:?} puts a step after a single value, which Vixie cron refuses; write {v}-{high}/{}",
                    step.unwrap_or(1)
                ));
            }
            (v, v)
        };
        let step = step.unwrap_or(1);
        let mut v = first;
        while v <= last {
            bits |= 1 << v;
            v = match v.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
    }
    if field == Field::DayOfWeek && bits >> 7 & 1 == 1 {
        bits = (bits & !(1 << 7)) | 1;
    }
    Ok(FieldSet { bits, star: text.starts_with('*') })
}

fn value(field: Field, token: &str) -> Result<u32, String> {
    let (low, high) = field.bounds();
    if token.is_empty() {
        return Err("a range is missing a value".to_string());
    }
    if token.bytes().all(|b| b.is_ascii_digit()) {
        let v: u32 = token.parse().map_err(|_| format!("{token} is out of range {low}-{high}"))?;
        if v < low || v > high {
            return Err(format!("{token} is out of range {low}-{high}"));
        }
        return Ok(v);
    }
    field.named(token).ok_or_else(|| match field {
        Field::Month => format!("{token:?} is not a number {low}-{high} or a month name (JAN-DEC)"),
        Field::DayOfWeek => format!("{token:?} is not a number {low}-{high} or a day name (SUN-SAT)"),
        _ => format!("{token:?} is not a number {low}-{high}"),
    })
}

fn parse_step(token: &str, item: &str) -> Result<u32, String> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the step in {item:?} must be a whole number"));
    }
    match token.parse::<u32>() {
        Ok(0) => Err(format!("the step in {item:?} must be at least 1")),
        Ok(s) => Ok(s),
        Err(_) => Err(format!("the step in {item:?} is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(field: Field, text: &str) -> Vec<u32> {
        let s = parse_field(field, text).unwrap();
        (0..64).filter(|&v| s.contains(v)).collect()
    }

    #[test]
    fn grammar() {
        assert_eq!(values(Field::Minute, "*/15"), [0, 15, 30, 45]);
        assert_eq!(values(Field::Minute, "1-30/5"), [1, 6, 11, 16, 21, 26]);
        assert_eq!(values(Field::Hour, "0-23/2").len(), 12);
        assert_eq!(values(Field::Hour, "8-11"), [8, 9, 10, 11]);
        assert_eq!(values(Field::Minute, "1,2,5,9"), [1, 2, 5, 9]);
        assert_eq!(values(Field::Hour, "0-4,8-12"), [0, 1, 2, 3, 4, 8, 9, 10, 11, 12]);
        assert_eq!(values(Field::Month, "jan,Mar-MAY"), [1, 3, 4, 5]);
        assert_eq!(values(Field::DayOfWeek, "MON-FRI"), [1, 2, 3, 4, 5]);
        assert_eq!(values(Field::DayOfWeek, "7"), [0]);
        assert_eq!(values(Field::DayOfWeek, "5-7"), [0, 5, 6]);
        assert_eq!(values(Field::Minute, "*/100"), [0]);
        assert_eq!(values(Field::Minute, "07"), [7]);
        assert!(parse_field(Field::DayOfMonth, "*/2").unwrap().star);
        assert!(!parse_field(Field::DayOfMonth, "1-31").unwrap().star);
    }

    #[test]
    fn errors_name_the_token() {
        let err = |f: Field, t: &str| parse_field(f, t).unwrap_err();
        assert_eq!(err(Field::Minute, "61"), "61 is out of range 0-59");
        assert_eq!(err(Field::Hour, "17-9"), "range 17-9 runs backwards (cron ranges do not wrap around)");
        assert!(err(Field::Minute, "5/10").contains("write 5-59/10"));
        assert!(err(Field::Minute, "*/0").contains("at least 1"));
        assert!(err(Field::Minute, "*/x").contains("whole number"));
        assert!(err(Field::Month, "FOO").contains("month name"));
        assert!(err(Field::Month, "January").contains("\"January\""));
        assert!(err(Field::Hour, "MON").contains("not a number 0-23"));
        assert!(err(Field::Minute, "1,,2").contains("empty item"));
        assert!(err(Field::DayOfMonth, "0").contains("out of range 1-31"));
        assert!(err(Field::DayOfWeek, "8").contains("out of range 0-7"));
        assert!(err(Field::Minute, "99999999999").contains("out of range"));
        assert!(err(Field::Minute, "5-").contains("missing a value"));
    }
}
