//! The history model: what a client saw, one [`Op`] per call, and the [`Model`] trait that
//! says what one object (one key) may answer.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

/// One call as a client saw it.
///
/// Time is whatever the recorder counts in: simulated microseconds in a simulation, line
/// numbers for a parsed log. Two operations are ordered in real time only when one
/// returned *strictly* before the other was called; equal times count as concurrent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op<I, O> {
    /// Who called (shown in reports; the check does not need it).
    pub client: u64,
    /// The object this call touched. Calls on different keys never constrain each other,
    /// so each key is checked on its own (a single register uses one key, e.g. `""`).
    pub key: String,
    pub call_us: u64,
    /// `None`: the call never returned (a timeout, a crash, Jepsen's `:info`). It may
    /// take effect at any time after `call_us`, or never.
    pub return_us: Option<u64>,
    pub input: I,
    /// `None`: the outcome is unknown, so the call may or may not have taken effect (if
    /// it did, before `return_us`). A call that never returned must have `None` here.
    pub output: Option<O>,
}

/// One object's sequential specification.
///
/// A state may stand for a *set* of concrete states: [`Model::unknown`] is the set of all
/// of them, used to check a window of a history whose earlier part is not replayed. `step`
/// must be exact on sets: it allows an operation when some member allows it, and returns
/// the set of all successors.
pub trait Model {
    type Input: Clone + Debug;
    type Output: Clone + Debug + PartialEq;
    type State: Clone + Eq + Hash + Debug;

    /// Every key's state before the first operation.
    fn init(&self) -> Self::State;
    /// A state standing for every state.
    fn unknown(&self) -> Self::State;
    /// Apply `input` to `state` when it may answer `output`; `output: None` means the
    /// operation took effect with an answer nobody saw. `None` when the answer is
    /// impossible from this state.
    fn step(&self, state: &Self::State, input: &Self::Input, output: Option<&Self::Output>) -> Option<Self::State>;
    /// Whether `output` is the kind of answer `input` gets (a read returns a value, a
    /// compare-and-set a flag). Mismatched pairs are refused before checking.
    fn answers(&self, input: &Self::Input, output: &Self::Output) -> bool;
    /// The call and its answer as a reader would write them, e.g. `cas 1→2 ok`.
    fn describe(&self, input: &Self::Input, output: Option<&Self::Output>) -> String;
}

/// A history the checker refuses to judge, with the index of the offending op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryError {
    pub index: usize,
    pub reason: String,
}

impl std::fmt::Display for HistoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "operation {}: {}", self.index, self.reason)
    }
}

impl std::error::Error for HistoryError {}

/// Refuses histories whose ops cannot be read as calls: a return before its call, an
/// answer to a call that never returned, an answer of the wrong kind.
pub fn validate<M: Model>(model: &M, history: &[Op<M::Input, M::Output>]) -> Result<(), HistoryError> {
    for (index, op) in history.iter().enumerate() {
        let reason = match (op.return_us, &op.output) {
            (Some(r), _) if r < op.call_us => Some(format!("returns at {r}, before its call at {}", op.call_us)),
            (None, Some(_)) => Some("has an answer but never returned".to_string()),
            (_, Some(out)) if !model.answers(&op.input, out) => {
                Some(format!("{:?} is not an answer to {:?}", out, op.input))
            }
            _ => None,
        };
        if let Some(reason) = reason {
            return Err(HistoryError { index, reason });
        }
    }
    Ok(())
}

/// The indices of each key's ops, keys in order (P-compositionality: a history is
/// linearizable exactly when every key's sub-history is, Herlihy & Wing 1990).
pub fn partition<I, O>(history: &[Op<I, O>]) -> BTreeMap<&str, Vec<usize>> {
    let mut keys: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, op) in history.iter().enumerate() {
        keys.entry(op.key.as_str()).or_default().push(i);
    }
    keys
}
