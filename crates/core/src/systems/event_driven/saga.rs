//! The saga's rules: which service reacts to which event or command, and with what step.
//! Choreography spreads the rules over the services (each knows what to do when another
//! reports something); orchestration puts them in the order service, which answers every
//! report with the next command or compensation, and the other services only obey
//! commands. Either way the same local steps run; only who decides differs.

use super::msg::{Effect, Kind, Svc, Topic};

/// What a service does on an event it consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Reserve,
    Release,
    Charge,
    Refund,
    Ship,
    MarkDone,
    MarkCancelled,
    /// Orchestrator: send this command.
    Command(Kind),
}

/// The topics a service consumes.
pub fn subscriptions(svc: Svc, orchestrated: bool) -> &'static [Topic] {
    match (svc, orchestrated) {
        (Svc::Order, false) => &[Topic::Inventory, Topic::Shipping],
        (Svc::Inventory, false) => &[Topic::Orders, Topic::Billing],
        (Svc::Billing, false) => &[Topic::Inventory, Topic::Shipping],
        (Svc::Shipping, false) => &[Topic::Billing],
        (Svc::Order, true) => &[Topic::Inventory, Topic::Billing, Topic::Shipping],
        (_, true) => &[Topic::Commands],
    }
}

/// The topic a service's own events go to.
pub fn own_topic(svc: Svc) -> Topic {
    match svc {
        Svc::Order => Topic::Orders,
        Svc::Inventory => Topic::Inventory,
        Svc::Billing => Topic::Billing,
        Svc::Shipping => Topic::Shipping,
    }
}

/// The step `svc` takes on `kind`, if any.
pub fn react(svc: Svc, orchestrated: bool, kind: Kind) -> Option<Action> {
    use Action::*;
    Some(match (svc, orchestrated, kind) {
        (Svc::Inventory, false, Kind::OrderPlaced) => Reserve,
        (Svc::Inventory, false, Kind::PaymentDeclined | Kind::PaymentRefunded) => Release,
        (Svc::Billing, false, Kind::StockReserved) => Charge,
        (Svc::Billing, false, Kind::ShipFailed) => Refund,
        (Svc::Shipping, false, Kind::PaymentCharged) => Ship,
        (Svc::Order, false, Kind::StockRejected | Kind::StockReleased) => MarkCancelled,
        (Svc::Order, false, Kind::Shipped) => MarkDone,
        (Svc::Inventory, true, Kind::ReserveStock) => Reserve,
        (Svc::Inventory, true, Kind::ReleaseStock) => Release,
        (Svc::Billing, true, Kind::ChargePayment) => Charge,
        (Svc::Billing, true, Kind::RefundPayment) => Refund,
        (Svc::Shipping, true, Kind::ShipOrder) => Ship,
        (Svc::Order, true, Kind::StockReserved) => Command(Kind::ChargePayment),
        (Svc::Order, true, Kind::PaymentCharged) => Command(Kind::ShipOrder),
        (Svc::Order, true, Kind::PaymentDeclined | Kind::PaymentRefunded) => Command(Kind::ReleaseStock),
        (Svc::Order, true, Kind::ShipFailed) => Command(Kind::RefundPayment),
        (Svc::Order, true, Kind::StockRejected | Kind::StockReleased) => MarkCancelled,
        (Svc::Order, true, Kind::Shipped) => MarkDone,
        _ => return None,
    })
}

/// A local step's outcome: the effect row written and the event it reports (if any).
/// `failed` is the business failure drawn for the steps that can fail.
pub fn outcome(action: Action, failed: bool) -> (Option<Effect>, Option<Kind>) {
    match (action, failed) {
        (Action::Reserve, false) => (Some(Effect::Reserved), Some(Kind::StockReserved)),
        (Action::Reserve, true) => (Some(Effect::Rejected), Some(Kind::StockRejected)),
        (Action::Release, _) => (Some(Effect::Released), Some(Kind::StockReleased)),
        (Action::Charge, false) => (Some(Effect::Charged), Some(Kind::PaymentCharged)),
        (Action::Charge, true) => (Some(Effect::Declined), Some(Kind::PaymentDeclined)),
        (Action::Refund, _) => (Some(Effect::Refunded), Some(Kind::PaymentRefunded)),
        (Action::Ship, false) => (Some(Effect::Shipped), Some(Kind::Shipped)),
        (Action::Ship, true) => (Some(Effect::ShipFailed), Some(Kind::ShipFailed)),
        (Action::MarkDone, _) => (Some(Effect::Done), None),
        (Action::MarkCancelled, _) => (Some(Effect::Cancelled), None),
        (Action::Command(k), _) => (None, Some(k)),
    }
}

/// Whether the step can fail for a business reason (out of stock, card declined, no
/// courier), drawn with the service's failure rate.
pub fn can_fail(action: Action) -> bool {
    matches!(action, Action::Reserve | Action::Charge | Action::Ship)
}
