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
//! **Unknown outcomes.** A call with `output: None` may or may not have taken effect;
//! if it did, it did between its call and its return, and a call that never returned
//! (`return_us: None`) has no return to bound it. The search treats such calls as
//! optional rather than placing them at an infinite return time, which is equivalent
//! and lets it skip them (see `memo` for the pruning this allows).
//!
//! **Use from a simulation.** Record one [`Op`] per client call and check the lot:
//!
//! ```
//! use sdlab_core::blocks::lincheck::{check_within, shortest_failing_window, window_ops};
//! use sdlab_core::blocks::lincheck::{Op, Register, RegisterInput, RegisterOutput, Verdict};
//!
//! let history = vec![
//!     // client 1 wrote 7 to "a" between 100 µs and 250 µs and was acknowledged
//!     Op { client: 1, key: "a".into(), call_us: 100, return_us: Some(250),
//!          input: RegisterInput::Write(7), output: Some(RegisterOutput::Written) },
//!     // client 2 then read "a" and got nil: a stale read
//!     Op { client: 2, key: "a".into(), call_us: 300, return_us: Some(420),
//!          input: RegisterInput::Read, output: Some(RegisterOutput::Value(None)) },
//!     // client 3's cas timed out: it may or may not have taken effect
//!     Op { client: 3, key: "b".into(), call_us: 310, return_us: None,
//!          input: RegisterInput::Cas { from: 1, to: 2 }, output: None },
//! ];
//! let report = check_within(&Register, &history, 10_000_000).expect("a well-formed history");
//! assert_eq!(report.verdict, Verdict::NotLinearizable { key: "a".into() });
//! let window = shortest_failing_window(&Register, &history, 100_000).unwrap().unwrap();
//! let lines: Vec<String> = window_ops(&Register, &history, &window).into_iter().map(|o| o.text).collect();
//! assert_eq!(lines, ["write 7", "read → nil"]);
//! ```
//!
//! [`check`] / [`check_within`] return a [`Report`] (`Verdict::Linearizable`,
//! `NotLinearizable { key }`, or `GaveUp { key }` past the step budget); a malformed
//! history (a return before its call, an answer of the wrong kind) is an `Err`. A
//! simulated store with read/write/compare-and-set per key uses [`Register`] as is; a
//! new object needs a [`Model`]. Time is whatever the recorder counts in (simulated µs;
//! line numbers for parsed files); a call precedes another only if it returned strictly
//! before the other was called. The parsers ([`parse_history`]) read the recorded Jepsen
//! histories the same checker is tested on.

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
// Property tests (proptest is a native-only dev-dependency).
#[cfg(all(test, not(target_arch = "wasm32")))]
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
