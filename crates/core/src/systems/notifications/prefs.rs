//! Users are implicit: a user is an id in `0..users`, and everything the system knows
//! about them — time zone, topic subscriptions, channels they can be reached on, a global
//! opt-out — is a hash of the run's salt and the id (SplitMix64's finaliser, `mix64`). No
//! per-user storage exists anywhere, which is how a million users fit in a browser tab; the
//! preference service of a real system is a sharded key-value store, and this function is
//! its contents.
//!
//! This file also holds the campaigns a run sends (what the producer API is asked for)
//! and the workers' filter: the design under test. The checks do not call the filter;
//! they judge deliveries against the preference data with their own reading of the rules.

use crate::sim::rng::mix64;

/// Delivery channels, one provider each.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    Push,
    Email,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Push, Channel::Email, Channel::Sms];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn bit(self) -> u8 {
        1 << self.index()
    }

    pub fn name(self) -> &'static str {
        match self {
            Channel::Push => "push",
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// Marketing topics a user may subscribe to; `Account` is the transactional topic.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Topic {
    News,
    Sports,
    Promo,
    Account,
}

impl Topic {
    pub fn name(self) -> &'static str {
        match self {
            Topic::News => "news",
            Topic::Sports => "sports",
            Topic::Promo => "promo",
            Topic::Account => "account",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Topic::News => 1,
            Topic::Sports => 2,
            Topic::Promo => 4,
            Topic::Account => 0,
        }
    }
}

/// One user's stored preferences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefs {
    /// Offset of the user's time zone from UTC, in whole hours (−11 ..= +14).
    pub tz_hours: i32,
    /// Subscribed marketing topics (bit per `Topic`).
    pub topics: u8,
    /// Channels the user can be reached on and allows (bit per `Channel`).
    pub channels: u8,
    /// Opted out of all marketing.
    pub opted_out: bool,
}

impl Prefs {
    /// The preferences of `user` in a run whose preference data is keyed by `salt`.
    pub fn of(salt: u64, user: u32) -> Prefs {
        let h = mix64(salt ^ u64::from(user).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let byte = |k: u32| (h >> (8 * k)) & 0xff;
        let mut topics = 0;
        if byte(2) < 140 {
            topics |= Topic::News.bit();
        }
        if byte(3) < 100 {
            topics |= Topic::Sports.bit();
        }
        if byte(4) < 80 {
            topics |= Topic::Promo.bit();
        }
        let mut channels = 0;
        if byte(5) < 180 {
            channels |= Channel::Push.bit();
        }
        if byte(6) < 205 {
            channels |= Channel::Email.bit();
        }
        if byte(7) < 64 {
            channels |= Channel::Sms.bit();
        }
        Prefs { tz_hours: (byte(1) % 26) as i32 - 11, topics, channels, opted_out: byte(0) < 13 }
    }

    pub fn subscribed(&self, t: Topic) -> bool {
        self.topics & t.bit() != 0
    }

    pub fn reachable(&self, c: Channel) -> bool {
        self.channels & c.bit() != 0
    }
}

/// One send the producer API accepts: a marketing campaign to everyone subscribed to a
/// topic, or a transactional message to one user.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Campaign {
    pub id: u32,
    pub topic: Topic,
    /// Channels it goes out on (bit per `Channel`); a transactional send uses the first
    /// of push, SMS, email the user can be reached on.
    pub channels: u8,
    /// The users it addresses: `first .. first + count`.
    pub first: u32,
    pub count: u32,
    /// Transactional (one user, high priority, no quiet hours, no marketing opt-out).
    pub txn: bool,
    /// UTC hour of day at which it is sent (quiet hours are judged against it).
    pub utc_hour: u32,
}

impl Campaign {
    pub fn label(&self) -> String {
        if self.txn {
            format!("txn #{} → user {}", self.id, self.first)
        } else {
            let ch: Vec<&str> =
                Channel::ALL.iter().filter(|c| self.channels & c.bit() != 0).map(|c| c.name()).collect();
            format!("campaign #{} {} via {}", self.id, self.topic.name(), ch.join("+"))
        }
    }
}

/// Topic and channels of marketing campaign `i`.
pub fn marketing(i: u32, users: u32, utc_hour: u32) -> Campaign {
    let (topic, channels) = match i % 3 {
        0 => (Topic::News, Channel::Push.bit() | Channel::Email.bit()),
        1 => (Topic::Sports, Channel::Push.bit()),
        _ => (Topic::Promo, Channel::Email.bit() | Channel::Sms.bit()),
    };
    Campaign { id: i, topic, channels, first: 0, count: users, txn: false, utc_hour }
}

/// Transactional send number `k` (after `marketing` campaigns) to `user`.
pub fn transactional(id: u32, user: u32, utc_hour: u32) -> Campaign {
    Campaign {
        id,
        topic: Topic::Account,
        channels: Channel::ALL.iter().map(|c| c.bit()).sum(),
        first: user,
        count: 1,
        txn: true,
        utc_hour,
    }
}

/// Which clock the workers' filter reads quiet hours on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuietClock {
    /// The user's local time (UTC hour + their offset): what the requirement means.
    UserZone,
    /// The server's UTC hour for everyone: the classic bug.
    ServerUtc,
}

/// Quiet hours: 22:00 to 08:00.
pub fn quiet_hour(h: u32) -> bool {
    !(8..22).contains(&h)
}

/// The workers' filter (the design under test): whether `user` should get `campaign` on
/// `channel`.
pub fn wants(p: &Prefs, campaign: &Campaign, channel: Channel, clock: QuietClock) -> bool {
    if campaign.txn {
        // One channel per transactional message: the first reachable of push, SMS, email.
        let first = [Channel::Push, Channel::Sms, Channel::Email].into_iter().find(|&c| p.reachable(c));
        return first == Some(channel);
    }
    if campaign.channels & channel.bit() == 0 || p.opted_out || !p.subscribed(campaign.topic) || !p.reachable(channel) {
        return false;
    }
    let hour = match clock {
        QuietClock::UserZone => (campaign.utc_hour as i32 + p.tz_hours).rem_euclid(24) as u32,
        QuietClock::ServerUtc => campaign.utc_hour,
    };
    !quiet_hour(hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_are_a_pure_function_with_the_stated_shares() {
        let n = 20_000u32;
        let all: Vec<Prefs> = (0..n).map(|u| Prefs::of(7, u)).collect();
        assert_eq!(all[123], Prefs::of(7, 123));
        let share = |f: &dyn Fn(&Prefs) -> bool| all.iter().filter(|p| f(p)).count() as f64 / f64::from(n);
        assert!((share(&|p| p.opted_out) - 13.0 / 256.0).abs() < 0.01);
        assert!((share(&|p| p.reachable(Channel::Sms)) - 0.25).abs() < 0.02);
        assert!(all.iter().all(|p| (-11..=14).contains(&p.tz_hours)));
        // Every offset occurs.
        assert!((-11..=14).all(|tz| all.iter().any(|p| p.tz_hours == tz)));
    }

    #[test]
    fn quiet_hours_follow_the_users_zone_only_with_the_right_clock() {
        let c = marketing(0, 10, 20);
        let mut p = Prefs { tz_hours: 3, topics: 1, channels: 3, opted_out: false };
        // 20:00 UTC is 23:00 at +3: quiet.
        assert!(!wants(&p, &c, Channel::Push, QuietClock::UserZone));
        assert!(wants(&p, &c, Channel::Push, QuietClock::ServerUtc));
        p.tz_hours = -5; // 15:00
        assert!(wants(&p, &c, Channel::Push, QuietClock::UserZone));
        assert!(!wants(&p, &c, Channel::Sms, QuietClock::UserZone), "campaign 0 is push + email");
    }
}
