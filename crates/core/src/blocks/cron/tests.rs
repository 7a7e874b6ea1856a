//! The cron block against references:
//!
//! 1. Published examples: the sample crontab and the day-rule note of the crontab(5)
//!    manual of ISC cron 4.1 / cronie ("30 4 1,15 * 5 would cause a command to be run at
//!    4:30 am on the 1st and 15th of each month, plus every Friday"), the leap day
//!    (`0 0 29 2 *`, and the Gregorian rule that 2100 is not a leap year), and Friday the
//!    13th under the OR rule (`0 0 13 * 5` fires on every Friday and every 13th).
//! 2. A brute-force twin (proptest): a second, independent reading of the same
//!    expressions — its own tokenizer, its own calendar (a minute-by-minute odometer with
//!    a days-per-month table and a running weekday) — scans minute by minute from random
//!    start times; `next_after` must find exactly the minute the scan finds.

use super::calendar::Civil;
use super::Schedule;
use proptest::prelude::*;

fn at(text: &str) -> i64 {
    let secs = super::parse_iso_utc(text).unwrap();
    secs.div_euclid(60)
}

fn next_n(expr: &str, from: &str, n: usize) -> Vec<String> {
    let s = Schedule::parse(expr).unwrap();
    let mut t = at(from);
    (0..n)
        .map(|_| {
            t = s.next_after(t).unwrap();
            super::iso_minute(t)
        })
        .collect()
}

#[test]
fn crontab5_examples() {
    // "run five minutes after midnight, every day"
    assert_eq!(next_n("5 0 * * *", "2026-12-02T13:00Z", 2), ["2026-12-03T00:05:00Z", "2026-12-04T00:05:00Z"]);
    // "run at 2:15pm on the first of every month"
    assert_eq!(next_n("15 14 1 * *", "2026-12-02T13:00Z", 2), ["2027-01-01T14:15:00Z", "2027-02-01T14:15:00Z"]);
    // "run at 10 pm on weekdays": 2026-12-04 is a Friday, so Monday the 7th comes next.
    assert_eq!(
        next_n("0 22 * * 1-5", "2026-12-04T22:00Z", 3),
        ["2026-12-07T22:00:00Z", "2026-12-08T22:00:00Z", "2026-12-09T22:00:00Z"]
    );
    // "run 23 minutes after midn, 2am, 4am ..., everyday"
    assert_eq!(
        next_n("23 0-23/2 * * *", "2026-12-02T21:00Z", 3),
        ["2026-12-02T22:23:00Z", "2026-12-03T00:23:00Z", "2026-12-03T02:23:00Z"]
    );
    // "run at 5 after 4 every sunday": 2026-12-06 is a Sunday.
    assert_eq!(next_n("5 4 * * sun", "2026-12-02T13:00Z", 2), ["2026-12-06T04:05:00Z", "2026-12-13T04:05:00Z"]);
    // The day-rule note: 4:30 on the 1st and 15th, plus every Friday. January 2026 starts
    // on a Thursday; its Fridays are the 2nd, 9th, 16th, 23rd and 30th.
    assert_eq!(
        next_n("30 4 1,15 * 5", "2025-12-31T12:00Z", 8),
        [
            "2026-01-01T04:30:00Z",
            "2026-01-02T04:30:00Z",
            "2026-01-09T04:30:00Z",
            "2026-01-15T04:30:00Z",
            "2026-01-16T04:30:00Z",
            "2026-01-23T04:30:00Z",
            "2026-01-30T04:30:00Z",
            "2026-02-01T04:30:00Z",
        ]
    );
}

#[test]
fn leap_days_and_the_gregorian_century_rule() {
    assert_eq!(next_n("0 0 29 2 *", "2025-03-01T00:00Z", 2), ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]);
    // 2100 is divisible by 100 and not by 400: no 29 February, eight years' wait.
    assert_eq!(next_n("0 0 29 2 *", "2096-03-01T00:00Z", 1), ["2104-02-29T00:00:00Z"]);
    assert_eq!(next_n("0 0 29 2 *", "1996-03-01T00:00Z", 1), ["2000-02-29T00:00:00Z"]);
    // Never: the search gives up instead of looping.
    assert_eq!(Schedule::parse("0 0 30 2 *").unwrap().next_after(0), None);
}

#[test]
fn friday_the_13th_is_or_not_and() {
    // Vixie's OR: every Friday and every 13th (January 13th 2026 is a Tuesday, February
    // 13th a Friday — one fire, not two).
    assert_eq!(
        next_n("0 0 13 * 5", "2026-01-01T00:00Z", 9),
        [
            "2026-01-02T00:00:00Z",
            "2026-01-09T00:00:00Z",
            "2026-01-13T00:00:00Z",
            "2026-01-16T00:00:00Z",
            "2026-01-23T00:00:00Z",
            "2026-01-30T00:00:00Z",
            "2026-02-06T00:00:00Z",
            "2026-02-13T00:00:00Z",
            "2026-02-20T00:00:00Z",
        ]
    );
    // A true "Friday the 13th" needs AND, which Vixie gives only when one field starts
    // with `*`: there is no 5-field way to say it. The next ones from 2026: Feb, Mar, Nov.
    let fri13: Vec<String> = {
        let s = Schedule::parse("0 0 13 * *").unwrap();
        let mut t = at("2026-01-01T00:00Z");
        let mut out = Vec::new();
        while out.len() < 3 {
            t = s.next_after(t).unwrap();
            if Civil::from_unix_minutes(t).weekday() == 5 {
                out.push(super::iso_minute(t));
            }
        }
        out
    };
    assert_eq!(fri13, ["2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z", "2026-11-13T00:00:00Z"]);
}

#[test]
fn strictly_after_and_macros() {
    assert_eq!(next_n("0 13 * * *", "2026-12-02T13:00Z", 1), ["2026-12-03T13:00:00Z"]);
    assert_eq!(next_n("0 13 * * *", "2026-12-02T12:59Z", 1), ["2026-12-02T13:00:00Z"]);
    assert_eq!(next_n("@hourly", "2026-12-31T23:30Z", 1), ["2027-01-01T00:00:00Z"]);
    assert_eq!(next_n("@weekly", "2026-12-02T13:00Z", 1), ["2026-12-06T00:00:00Z"]);
    assert_eq!(next_n("@monthly", "2026-12-02T13:00Z", 1), ["2027-01-01T00:00:00Z"]);
    assert_eq!(next_n("@yearly", "2026-12-02T13:00Z", 1), ["2027-01-01T00:00:00Z"]);
    assert_eq!(next_n("*/15 * * * *", "2026-12-02T13:07Z", 2), ["2026-12-02T13:15:00Z", "2026-12-02T13:30:00Z"]);
    assert_eq!(next_n("59 23 31 12 *", "2026-12-31T23:59Z", 1), ["2027-12-31T23:59:00Z"]);
}

// ---- the twin --------------------------------------------------------------------------

/// An independent reading of a (valid) expression: per field, a table of booleans filled
/// by walking each comma item with its own range and step, plus the leading-`*` flags.
struct Twin {
    tables: Vec<Vec<bool>>,
    dom_star: bool,
    dow_star: bool,
}

fn twin_value(field: usize, t: &str) -> u32 {
    let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let lower = t.to_lowercase();
    if let Ok(v) = t.parse() {
        return v;
    }
    match field {
        3 => months.iter().position(|m| *m == lower).unwrap() as u32 + 1,
        _ => days.iter().position(|d| *d == lower).unwrap() as u32,
    }
}

fn twin(expr: &str) -> Twin {
    let expr = match expr {
        "@hourly" => "0 * * * *",
        "@daily" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@yearly" => "0 0 1 1 *",
        e => e,
    };
    let lows = [0, 0, 1, 1, 0];
    let highs = [59, 23, 31, 12, 7];
    let fields: Vec<&str> = expr.split(' ').collect();
    let mut tables = Vec::new();
    for (f, text) in fields.iter().enumerate() {
        let mut table = vec![false; 64];
        for item in text.split(',') {
            let mut pieces = item.split('/');
            let range = pieces.next().unwrap();
            let step: u32 = pieces.next().map_or(1, |s| s.parse().unwrap());
            let (a, b) = if range == "*" {
                (lows[f], highs[f])
            } else if range.contains('-') {
                let mut ab = range.split('-');
                (twin_value(f, ab.next().unwrap()), twin_value(f, ab.next().unwrap()))
            } else {
                let v = twin_value(f, range);
                (v, v)
            };
            let mut k = 0;
            while a + k * step <= b {
                table[(a + k * step) as usize] = true;
                k += 1;
            }
        }
        if f == 4 && table[7] {
            table[0] = true;
        }
        tables.push(table);
    }
    Twin { tables, dom_star: fields[2].starts_with('*'), dow_star: fields[4].starts_with('*') }
}

/// A calendar odometer: the civil minute, its weekday, and how to advance one minute.
#[derive(Clone, Copy)]
struct Odometer {
    y: i64,
    mo: usize,
    d: usize,
    h: usize,
    mi: usize,
    wd: usize,
}

impl Odometer {
    fn month_len(&self) -> usize {
        let leap = self.y % 400 == 0 || (self.y % 4 == 0 && self.y % 100 != 0);
        [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][self.mo - 1]
    }
    fn next_day(&mut self) {
        self.wd = (self.wd + 1) % 7;
        self.d += 1;
        if self.d > self.month_len() {
            self.d = 1;
            self.mo += 1;
            if self.mo > 12 {
                self.mo = 1;
                self.y += 1;
            }
        }
    }
    fn tick(&mut self) {
        self.mi += 1;
        if self.mi == 60 {
            self.mi = 0;
            self.h += 1;
            if self.h == 24 {
                self.h = 0;
                self.next_day();
            }
        }
    }
    /// The odometer at Unix minute `m` (m ≥ 0), reached from 1970-01-01 (a Thursday) by
    /// whole days and then minutes.
    fn at(m: i64) -> Odometer {
        let mut o = Odometer { y: 1970, mo: 1, d: 1, h: 0, mi: 0, wd: 4 };
        for _ in 0..m / 1_440 {
            o.next_day();
        }
        for _ in 0..m % 1_440 {
            o.tick();
        }
        o
    }
}

impl Twin {
    fn fires(&self, o: &Odometer) -> bool {
        let t = &self.tables;
        let dom = t[2][o.d];
        let dow = t[4][o.wd];
        let day = if self.dom_star || self.dow_star { dom && dow } else { dom || dow };
        t[0][o.mi] && t[1][o.h] && t[3][o.mo] && day
    }
}

/// One field's text: 1–3 comma items, each a star, value, range, or either with a step;
/// names now and then in the month and day-of-week fields.
fn field_text(f: usize) -> impl Strategy<Value = String> {
    let (low, high) = [(0u32, 59u32), (0, 23), (1, 31), (1, 12), (0, 7)][f];
    let item = (0u8..10, low..=high, low..=high, 1u32..20, any::<bool>()).prop_map(move |(kind, a, b, step, name)| {
        let (a, b) = (a.min(b), a.max(b));
        let show = |v: u32| -> String {
            match (f, name) {
                (3, true) => ["JAN", "feb", "Mar", "APR", "may", "JUN", "jul", "AUG", "sep", "OCT", "nov", "DEC"]
                    [v as usize - 1]
                    .to_string(),
                // SUN is 0, as in Vixie's name table, so 7 stays a number (MON-SUN runs backwards).
                (4, true) if v < 7 => ["sun", "MON", "tue", "WED", "thu", "FRI", "sat"][v as usize].to_string(),
                _ => v.to_string(),
            }
        };
        match kind {
            0..=3 => "*".to_string(),
            4 => format!("*/{step}"),
            5 | 6 => show(a),
            7 => format!("{}-{}", show(a), show(b)),
            _ => format!("{}-{}/{step}", show(a), show(b)),
        }
    });
    proptest::collection::vec(item, 1..=3).prop_map(|items| {
        // A star item makes a list of everything; keep it alone so both the flag and the
        // set stay meaningful (the grammar allows "*,5"; the twin handles it too).
        items.join(",")
    })
}

fn expression() -> impl Strategy<Value = String> {
    let fields = (field_text(0), field_text(1), field_text(2), field_text(3), field_text(4))
        .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"));
    prop_oneof![
        9 => fields,
        1 => prop::sample::select(vec!["@hourly", "@daily", "@weekly", "@monthly", "@yearly"]).prop_map(String::from),
    ]
}

/// How many minutes the twin scans from each start (about 45 days).
const SCAN_MINUTES: i64 = 65_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    /// `next_after` agrees with a minute-by-minute scan of the twin: same next minute when
    /// the scan finds one, and nothing that early when it does not.
    #[test]
    fn next_after_matches_a_minute_by_minute_twin(expr in expression(), start in 0i64..70_000_000) {
        let schedule = Schedule::parse(&expr).unwrap();
        let tw = twin(&expr);
        let mut o = Odometer::at(start);
        let mut found = None;
        for k in 1..=SCAN_MINUTES {
            o.tick();
            if tw.fires(&o) {
                found = Some(start + k);
                break;
            }
        }
        let got = schedule.next_after(start);
        match found {
            Some(m) => prop_assert_eq!(got, Some(m), "{} after {}", expr, super::iso_minute(start)),
            None => prop_assert!(got.is_none_or(|g| g > start + SCAN_MINUTES), "{} after {}: {:?}", expr, start, got),
        }
        // And the production matcher agrees with the twin on the minute it returned.
        if let Some(g) = got.filter(|g| *g <= start + SCAN_MINUTES) {
            prop_assert!(schedule.matches(Civil::from_unix_minutes(g)));
        }
    }
}
