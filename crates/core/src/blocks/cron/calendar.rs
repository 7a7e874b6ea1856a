//! UTC civil time from a count of minutes (or seconds) since the Unix epoch, and back,
//! with no time-zone database and no `chrono`: cron needs only the proleptic Gregorian
//! calendar in UTC. The day arithmetic follows Howard Hinnant's `days_from_civil` /
//! `civil_from_days` ("chrono-Compatible Low-Level Date Algorithms", 2013): shift the year
//! to start on 1 March so the leap day is the last day of its year, then count whole
//! 400-year eras (146,097 days each) and days within the era. Written here from that
//! description; tested against a day-by-day odometer below.
//!
//! Also the ISO-8601 forms the CLI reads and prints (`2026-12-02T13:00:00Z`).

/// A UTC calendar minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    /// 0..=23
    pub hour: u32,
    /// 0..=59
    pub minute: u32,
}

pub const MINUTES_PER_DAY: i64 = 1_440;

pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1..=12) of `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date (month 1..=12, day 1..=31, not validated).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Years run March..February, so January and February belong to the year before.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400; // 0..=399
    let m = i64::from(month);
    // Day of the March-based year: 153 days per 5 months (31+30+31+30+31), rounded.
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719,468 days separate 0000-03-01 from 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01: (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097; // 0..=146096
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153; // 0 = March … 11 = February
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day of the week, 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
pub fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

impl Civil {
    pub fn from_unix_minutes(minutes: i64) -> Civil {
        let days = minutes.div_euclid(MINUTES_PER_DAY);
        let rest = minutes.rem_euclid(MINUTES_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Civil { year, month, day, hour: (rest / 60) as u32, minute: (rest % 60) as u32 }
    }

    pub fn to_unix_minutes(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * MINUTES_PER_DAY
            + i64::from(self.hour) * 60
            + i64::from(self.minute)
    }

    pub fn weekday(self) -> u32 {
        weekday(days_from_civil(self.year, self.month, self.day))
    }

    /// `2026-12-02T13:00:00Z`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:00Z", self.year, self.month, self.day, self.hour, self.minute)
    }
}

/// A Unix minute as ISO-8601 UTC (`2026-12-02T13:00:00Z`).
pub fn iso_minute(minutes: i64) -> String {
    Civil::from_unix_minutes(minutes).iso()
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` (fractional seconds
/// allowed and dropped), in UTC: a trailing `Z` or `+00:00` may be given, any other offset
/// is refused rather than silently ignored. Returns seconds since the Unix epoch.
pub fn parse_iso_utc(text: &str) -> Result<i64, String> {
    let bad = |why: &str| format!("{text:?} is not an ISO-8601 UTC time like 2026-12-02T13:00:00Z: {why}");
    let t = text.trim();
    let t = t.strip_suffix(['Z', 'z']).or_else(|| t.strip_suffix("+00:00")).unwrap_or(t);
    let (date, time) = match t.split_once(['T', 't', ' ']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    if let Some(i) = time.and_then(|tm| tm.find(['+', '-'])) {
        let offset = &time.unwrap_or_default()[i..];
        return Err(bad(&format!("offset {offset:?} is not UTC; give the time in UTC with Z")));
    }
    let num = |s: &str, what: &str, digits: usize| -> Result<i64, String> {
        if s.len() != digits || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(&format!("{what} {s:?} should be {digits} digits")));
        }
        s.parse::<i64>().map_err(|_| bad(what))
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err(bad("the date should be YYYY-MM-DD"));
    };
    let (year, month, day) = (num(y, "year", 4)?, num(m, "month", 2)?, num(d, "day", 2)?);
    if !(1..=12).contains(&month) {
        return Err(bad(&format!("month {month} is out of range 1-12")));
    }
    let dim = i64::from(days_in_month(year, month as u32));
    if !(1..=dim).contains(&day) {
        return Err(bad(&format!("day {day} is out of range 1-{dim} for {year}-{month:02}")));
    }
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    if let Some(tm) = time {
        let hms = match tm.split_once('.') {
            Some((a, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => a,
            Some(_) => return Err(bad("the fraction of a second should be digits")),
            None => tm,
        };
        let p: Vec<&str> = hms.split(':').collect();
        match p[..] {
            [h, mi] => (hour, minute) = (num(h, "hour", 2)?, num(mi, "minute", 2)?),
            [h, mi, s] => (hour, minute, second) = (num(h, "hour", 2)?, num(mi, "minute", 2)?, num(s, "second", 2)?),
            _ => return Err(bad("the time should be HH:MM or HH:MM:SS")),
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(bad("hour, minute or second out of range (00-23, 00-59, 00-59)"));
        }
    }
    let days = days_from_civil(year, month as u32, day as u32);
    Ok(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force twin: walk day by day from 1600-01-01, carrying month and year with a
    /// days-per-month table, and compare every date in 1600..2500 both ways.
    #[test]
    fn matches_a_day_by_day_odometer() {
        let start = days_from_civil(1600, 1, 1);
        let (mut y, mut m, mut d) = (1600i64, 1u32, 1u32);
        // 1600-01-01 was a Saturday.
        let mut wd = 6u32;
        for days in start..days_from_civil(2500, 1, 1) {
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
            assert_eq!(civil_from_days(days), (y, m, d));
            assert_eq!(weekday(days), wd, "{y}-{m}-{d}");
            let feb = if y % 400 == 0 || (y % 4 == 0 && y % 100 != 0) { 29 } else { 28 };
            let len = [31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1];
            wd = (wd + 1) % 7;
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        // 2026-01-01 is a Thursday, 2026-02-28 a Saturday.
        assert_eq!(weekday(days_from_civil(2026, 1, 1)), 4);
        assert_eq!(weekday(days_from_civil(2026, 2, 28)), 6);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let c = Civil { year: 2026, month: 12, day: 2, hour: 13, minute: 0 };
        assert_eq!(Civil::from_unix_minutes(c.to_unix_minutes()), c);
        assert_eq!(c.iso(), "2026-12-02T13:00:00Z");
    }

    #[test]
    fn iso_parsing() {
        let at = |s: &str| parse_iso_utc(s).map(|secs| (secs.div_euclid(60), secs.rem_euclid(60)));
        let base = Civil { year: 2026, month: 12, day: 2, hour: 13, minute: 0 }.to_unix_minutes();
        assert_eq!(at("2026-12-02T13:00:00Z"), Ok((base, 0)));
        assert_eq!(at("2026-12-02T13:00Z"), Ok((base, 0)));
        assert_eq!(at("2026-12-02T13:00:30.250+00:00"), Ok((base, 30)));
        assert_eq!(at("2026-12-02"), Ok((base - 13 * 60, 0)));
        assert_eq!(at("1969-12-31T23:59:59Z"), Ok((-1, 59)));
        for bad in [
            "2026-02-29T00:00Z",
            "2026-13-01",
            "2026-12-02T24:00Z",
            "2026-12-02T13:00+01:00",
            "2026-12-02T13:00-05:00",
            "26-12-02",
            "yesterday",
            "",
        ] {
            let e = parse_iso_utc(bad).unwrap_err();
            assert!(e.contains("ISO-8601"), "{bad}: {e}");
        }
        assert!(parse_iso_utc("2026-12-02T13:00+01:00").unwrap_err().contains("not UTC"));
    }
}
