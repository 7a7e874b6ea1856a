//! The next minute a schedule fires, strictly after a given minute, found field by field:
//! jump to the next selected month, then walk the days of that month (at most 31), then
//! jump to the next selected hour and minute. A miss at one level resets the levels below
//! it and moves the level above on. Every-minute scanning would need up to ~4 million steps
//! for a leap-day schedule (`0 0 29 2 *` from March 2096 next fires in 2104); this takes a
//! few hundred.
//!
//! "Strictly after" is what a scheduler needs: having fired at 13:00, ask for the next
//! after 13:00. A caller holding seconds asks after `floor(seconds / 60)`: a fire at
//! 13:00:00 is not after 13:00:30, and the next whole minute is.

use super::calendar::{days_in_month, Civil};
use super::schedule::Schedule;

/// How far ahead to look before giving up. An expression that fires at all fires within
/// one 400-year Gregorian cycle (see `Schedule::never_fires`); this guard only stops a
/// search for one that never does.
const MAX_YEARS: i64 = 401;

impl Schedule {
    /// The first minute strictly after `after` (Unix minutes, UTC) at which this fires,
    /// or `None` if it never does.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        if self.never_fires().is_some() {
            return None;
        }
        let Civil { year, month, day, hour, minute } = Civil::from_unix_minutes(after.checked_add(1)?);
        let (mut y, mut mo, mut d, mut h, mut mi) = (year, month, day, hour, minute);
        let give_up = year + MAX_YEARS;
        loop {
            if y > give_up {
                return None;
            }
            // Month: jump to the next selected one, from its first minute.
            match self.months.next_from(mo) {
                Some(m) if m <= 12 => {
                    if m != mo {
                        (mo, d, h, mi) = (m, 1, 0, 0);
                    }
                }
                _ => {
                    (y, mo, d, h, mi) = (y + 1, 1, 1, 0, 0);
                    continue;
                }
            }
            // Day: walk the rest of this month for a day both rules accept.
            let weekday_of_first = Civil { year: y, month: mo, day: 1, hour: 0, minute: 0 }.weekday();
            let last = days_in_month(y, mo);
            let found = (d..=last).find(|&dd| self.day_matches(dd, (weekday_of_first + dd - 1) % 7));
            match found {
                Some(dd) if dd == d => {}
                Some(dd) => (d, h, mi) = (dd, 0, 0),
                None => {
                    (mo, d, h, mi) = next_month(&mut y, mo);
                    continue;
                }
            }
            // Hour, then minute.
            match self.hours.next_from(h) {
                Some(hh) if hh <= 23 => {
                    if hh != h {
                        (h, mi) = (hh, 0);
                    }
                }
                _ => {
                    (d, h, mi) = (d + 1, 0, 0);
                    if d > last {
                        (mo, d, h, mi) = next_month(&mut y, mo);
                    }
                    continue;
                }
            }
            match self.minutes.next_from(mi) {
                Some(mm) if mm <= 59 => {
                    return Some(Civil { year: y, month: mo, day: d, hour: h, minute: mm }.to_unix_minutes())
                }
                _ => {
                    (h, mi) = (h + 1, 0);
                    if h > 23 {
                        (d, h) = (d + 1, 0);
                        if d > last {
                            (mo, d, h, mi) = next_month(&mut y, mo);
                        }
                    }
                }
            }
        }
    }

    /// The fires in `(after, until]`, in order, at most `limit` of them.
    pub fn fires_between(&self, after: i64, until: i64, limit: usize) -> Vec<i64> {
        let mut out = Vec::new();
        let mut t = after;
        while out.len() < limit {
            match self.next_after(t) {
                Some(n) if n <= until => {
                    out.push(n);
                    t = n;
                }
                _ => break,
            }
        }
        out
    }
}

/// The first minute of the month after `mo` (rolling the year over): (month, day, hour, minute).
fn next_month(y: &mut i64, mo: u32) -> (u32, u32, u32, u32) {
    if mo >= 12 {
        *y += 1;
        (1, 1, 0, 0)
    } else {
        (mo + 1, 1, 0, 0)
    }
}
