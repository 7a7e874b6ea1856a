//! The simulation kernel: virtual time, one seeded random source, a totally ordered event
//! queue, a faulty network, faults as data, workload generators, and the loop that ties
//! them together. Systems plug in as [`node::Actor`]s.

pub mod fault;
pub mod net;
pub mod node;
pub mod pingpong;
pub mod queue;
pub mod rng;
pub mod swarm;
pub mod time;
pub mod workload;
pub mod world;

/// Index of a node in its world. `u32`, not `usize`, so it is the same on wasm32.
pub type NodeId = u32;

pub use fault::{Fault, TimedFault};
pub use net::{Latency, LinkConfig};
pub use node::{Actor, Ctx, Message};
pub use rng::Prng;
pub use time::{SimDuration, SimTime};
pub use world::{Flight, NodeSpec, Stop, World, WorldConfig};
