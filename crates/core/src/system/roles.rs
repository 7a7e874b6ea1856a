//! [`roles!`](crate::roles) declares a system's actor as an enum over its roles and writes
//! the `Actor` impl that forwards every callback to the role in hand. Each role implements
//! `Actor` itself (with the system's message and observation types), overriding only the
//! callbacks it cares about; the enum adds no behaviour, so a new system writes none of the
//! ~60 lines of hand dispatch. Declare roles in the direction requests flow (clients
//! first, storage last): the topology draws their columns in that order.
//!
//! ```ignore
//! sdlab_core::roles! {
//!     /// Every node of the lock world.
//!     pub enum Node: Msg, Obs { Worker(Worker), Server(LockServer), Storage(Storage) }
//! }
//! ```

/// Declares `enum $name { $variant($role), .. }` and its `Actor` impl; see the module docs.
#[macro_export]
macro_rules! roles {
    ($(#[$meta:meta])* $vis:vis enum $name:ident : $msg:ty, $obs:ty { $($(#[$vmeta:meta])* $variant:ident($role:ty)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        $vis enum $name {
            $($(#[$vmeta])* $variant($role)),+
        }

        impl $crate::sim::node::Actor for $name {
            type Msg = $msg;
            type Obs = $obs;

            fn on_start(&mut self, ctx: &mut $crate::sim::node::Ctx<'_, $msg, $obs>) {
                match self {
                    $($name::$variant(r) => $crate::sim::node::Actor::on_start(r, ctx)),+
                }
            }
            fn on_message(&mut self, from: $crate::sim::NodeId, msg: $msg, ctx: &mut $crate::sim::node::Ctx<'_, $msg, $obs>) {
                match self {
                    $($name::$variant(r) => $crate::sim::node::Actor::on_message(r, from, msg, ctx)),+
                }
            }
            fn on_timer(&mut self, tag: u64, ctx: &mut $crate::sim::node::Ctx<'_, $msg, $obs>) {
                match self {
                    $($name::$variant(r) => $crate::sim::node::Actor::on_timer(r, tag, ctx)),+
                }
            }
            fn on_crash(&mut self) {
                match self {
                    $($name::$variant(r) => $crate::sim::node::Actor::on_crash(r)),+
                }
            }
            fn on_restart(&mut self, ctx: &mut $crate::sim::node::Ctx<'_, $msg, $obs>) {
                match self {
                    $($name::$variant(r) => $crate::sim::node::Actor::on_restart(r, ctx)),+
                }
            }
            fn describe(&self) -> String {
                match self {
                    $($name::$variant(r) => $crate::sim::node::Actor::describe(r)),+
                }
            }
            fn column(&self) -> usize {
                // The variant's place in the declaration: roles are declared in flow order.
                let mut place = 0usize;
                $(
                    if matches!(self, $name::$variant(_)) {
                        return place;
                    }
                    place += 1;
                )+
                let _ = place;
                0
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::sim::node::{Actor, Ctx};
    use crate::sim::NodeId;

    #[derive(Clone, Debug, Hash)]
    struct Ping(u32);
    impl crate::sim::node::Message for Ping {}

    #[derive(Clone, Debug, Default)]
    struct Counter(u32);
    impl Actor for Counter {
        type Msg = Ping;
        type Obs = ();
        fn on_message(&mut self, _from: NodeId, msg: Ping, _ctx: &mut Ctx<'_, Ping, ()>) {
            self.0 += msg.0;
        }
        fn describe(&self) -> String {
            format!("counted {}", self.0)
        }
    }

    #[derive(Clone, Debug, Default)]
    struct Echo;
    impl Actor for Echo {
        type Msg = Ping;
        type Obs = ();
        fn on_message(&mut self, from: NodeId, msg: Ping, ctx: &mut Ctx<'_, Ping, ()>) {
            ctx.send(from, msg);
        }
    }

    crate::roles! {
        enum Node: Ping, () { Counter(Counter), Echo(Echo) }
    }

    #[test]
    fn the_enum_forwards_each_callback_to_its_role() {
        let mut rng = crate::sim::Prng::new(1);
        let mut metrics = crate::metrics::Metrics::new(100);
        let mut fx = crate::sim::node::Effects::default();
        let mut ctx = Ctx::detached(crate::sim::time::SimTime::ZERO, 0, &mut rng, &mut metrics, &mut fx);
        let mut c = Node::Counter(Counter::default());
        c.on_message(1, Ping(5), &mut ctx);
        assert_eq!(c.describe(), "counted 5");
        let mut e = Node::Echo(Echo);
        e.on_message(3, Ping(7), &mut ctx);
        assert_eq!(e.describe(), "");
        assert_eq!(fx.sends.len(), 1);
        assert_eq!(fx.sends[0].0, 3);
    }
}
