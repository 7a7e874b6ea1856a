//! The actor of the ride-sharing world, roles in the direction requests flow: riders'
//! apps, the matchers, the location service, the drivers' phones.

use super::fleet::Fleet;
use super::location::Location;
use super::matcher::Matcher;
use super::msg::{Msg, Obs};
use super::riders::Riders;

crate::roles! {
    pub enum Node: Msg, Obs {
        Riders(Box<Riders>),
        Matcher(Box<Matcher>),
        Location(Box<Location>),
        Fleet(Box<Fleet>),
    }
}
