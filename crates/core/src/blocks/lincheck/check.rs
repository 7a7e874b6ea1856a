//! The verdict: split the history by key, search each key, report the first that fails.

use super::history::{partition, validate, HistoryError, Model, Op};
use super::search::{Call, Outcome, Search};

/// What the checker found for a whole history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    /// This key's sub-history has no linearization (the first such key in key order).
    NotLinearizable {
        key: String,
    },
    /// The step budget ran out while searching this key; no verdict.
    GaveUp {
        key: String,
    },
}

impl Verdict {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable)
    }
}

/// A verdict with the effort it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub verdict: Verdict,
    /// How many keys (independent objects) the history touched.
    pub keys: usize,
    /// Scan steps the search took over all keys checked (each step looks at one entry).
    pub steps: u64,
}

/// Calls of the ops at `indices`, as recorded.
pub(crate) fn calls_of<'a, M: Model>(history: &'a [Op<M::Input, M::Output>], indices: &[usize]) -> Vec<Call<'a, M>> {
    indices
        .iter()
        .map(|&i| {
            let op = &history[i];
            Call { call: op.call_us, ret: op.return_us, input: &op.input, output: op.output.as_ref() }
        })
        .collect()
}

/// Whether `history` is linearizable with respect to `model`, each key on its own. The
/// search is exponential in the worst case; use [`check_within`] to bound it.
pub fn check<M: Model>(model: &M, history: &[Op<M::Input, M::Output>]) -> Result<Report, HistoryError> {
    check_within(model, history, u64::MAX)
}

/// [`check`] with at most `max_steps` scan steps over all keys; past that the verdict is
/// [`Verdict::GaveUp`]. A few steps per operation suffice for typical histories.
///
/// Keys are searched in rounds, each unfinished key getting the same slice of steps
/// (doubling every round), and the first key found to fail decides: one key whose search
/// explodes does not hide another that fails at once (porcupine gets the same effect by
/// running keys in parallel). Deterministic: the same history gives the same report.
pub fn check_within<M: Model>(
    model: &M,
    history: &[Op<M::Input, M::Output>],
    max_steps: u64,
) -> Result<Report, HistoryError> {
    validate(model, history)?;
    let keys: Vec<(&str, Vec<Call<'_, M>>)> =
        partition(history).into_iter().map(|(key, indices)| (key, calls_of::<M>(history, &indices))).collect();
    let mut open: Vec<(&str, Search<'_, '_, M>)> =
        keys.iter().map(|(key, calls)| (*key, Search::new(model, calls, model.init()))).collect();
    let mut spent = 0u64;
    let mut slice = 1024u64;
    let verdict = 'rounds: loop {
        let mut still_open = Vec::new();
        for (key, mut search) in open {
            let before = search.steps();
            let outcome = search.run(slice.min(max_steps - spent));
            spent += search.steps() - before;
            match outcome {
                Some(Outcome::Linearizable) => {}
                Some(Outcome::NotLinearizable) => break 'rounds Verdict::NotLinearizable { key: key.to_string() },
                None if spent >= max_steps => break 'rounds Verdict::GaveUp { key: key.to_string() },
                None => still_open.push((key, search)),
            }
        }
        if still_open.is_empty() {
            break Verdict::Linearizable;
        }
        open = still_open;
        slice = slice.saturating_mul(2);
    };
    Ok(Report { verdict, keys: keys.len(), steps: spent })
}
