//! A linearizability checker: given what clients saw (each call's start, end and answer),
//! is there one order of the calls, consistent with real time, in which every answer is
//! what the object would have given?
//!
//! **Definition** (Herlihy & Wing, "Linearizability: a correctness condition for
//! concurrent objects", TOPLAS 1990). A history is linearizable when each call can be
//! given an instant between its call and its return at which it takes effect at once,
//! such that running the calls in that order on the sequential object gives every answer
//! the clients saw. A call that never returned (a timeout, Jepsen's `:info`) may take
//! effect at any instant after its call, or not at all; its answer is unknown.
//!
//! **Search** ([`search`](self) module). Wing and Gong ("Testing and verifying concurrent
//! objects", J. Parallel Distrib. Comput. 17, 1993) search depth first for such an order,
//! trying at each step every call that no pending return forbids. Lowe ("Testing for
//! linearizability", Concurrency and Computation: Practice and Experience 29(4), 2017)
//! made it practical by remembering each (set of calls placed, object state) pair
//! already explored. Anish Athalye's porcupine (github.com/anishathalye/porcupine, MIT)
//! runs that algorithm on a linked list of call and return entries and splits a
//! key-value history by key first; we do the same. Splitting is sound because
//! linearizability is local (Herlihy & Wing): a history is linearizable exactly when the
//! sub-history of each object is, and one key is one object.
//!
//! **Models.** [`Register`] (read, write, compare-and-set; the etcd histories) and
//! [`AppendKv`] (get, put, append on strings; the jepsen-kv histories). Anything that
//! implements [`Model`] can be checked.
//!
//! **Witness.** For a history that fails, [`shortest_failing_window`] finds the
//! shortest stretch of time whose calls already contradict each other whatever happened
//! outside it (the definition and the search are in the `window` module).
//!
//! **Use from a simulation.** Record one [`Op`] per client call (key, call and return
//! time in simulated µs, input, answer; `return_us: None, output: None` for a call that
//! timed out), then call [`check`] (or [`check_within`] to bound the work) and, when it
//! fails, [`shortest_failing_window`] and [`window_ops`] to show why. The parsers read the
//! recorded Jepsen histories the same checker is tested on.

mod append_kv;
mod check;
mod history;
mod memo;
mod parse;
mod parse_edn;
mod parse_log;
mod register;
mod report;
mod search;
mod window;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod twin;

pub use append_kv::{AppendKv, KvInput, KvOutput, KvState};
pub use check::{check, check_within, Report, Verdict};
pub use history::{partition, validate, HistoryError, Model, Op};
pub use parse::{parse_history, ParseError, ParsedHistory};
pub use parse_edn::parse_edn_history;
pub use parse_log::parse_jepsen_log;
pub use register::{Register, RegisterInput, RegisterOutput, RegisterState};
pub use report::{window_ops, WindowOp};
pub use window::{shortest_failing_window, Window};
