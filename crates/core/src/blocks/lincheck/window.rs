//! The shortest failing window: the smallest stretch of one key's history that is already
//! not linearizable on its own, whatever happened outside it.
//!
//! **Definition.** For times `a ≤ b`, the window `W(a, b)` of a key's history is the
//! sub-history in which
//! - ops that returned before `a` are dropped, and so are ops called after `b`;
//! - ops called at or after `a` that returned by `b` keep their call, return and answer;
//! - every other op still in play (called before `a` but returning at or after it, or
//!   returning after `b`, or never) is *relaxed*: its answer is ignored and it may be
//!   left out, though if it takes effect it does so inside its own interval (up to `b`'s
//!   end: a return after `b` counts as no return);
//! - the register starts from *any* state ([`Model::unknown`]), except when `a` is the
//!   key's first call, where it starts from [`Model::init`] as the whole history does.
//!
//! **Why it is a witness.** Every linearization of the whole history, cut at `b` and
//! stripped of what happened before `a`, is a linearization of `W(a, b)`: the ops dropped
//! at the front all took effect before anything called at or after `a`, so together they
//! only decide the state at `a`, which "any state" covers; relaxed ops keep their effect
//! where it was or are left out. So if `W(a, b)` fails, the history fails, and the ops
//! kept exact in the window are the ones that contradict each other. By the same
//! argument `W(a, b)` failing implies `W(a', b')` fails for every wider window
//! (`a' ≤ a`, `b' ≥ b`).
//!
//! **Search.** Only call times matter for `a` and return times for `b`. A binary search
//! finds the earliest failing `b` with `a` at the start (the shortest failing prefix);
//! no window ends earlier. Then for each later `b` in turn, one search asks whether the
//! earliest `a` that would beat the best span so far still fails (if it does not, no
//! later `a` does either), and when it does, a binary search finds the latest `a` that
//! fails. Ties keep the earlier window. So each key costs O(log n) searches of long
//! windows and O(n) of windows shorter than the best found, and every key is tried.

use super::check::calls_of;
use super::history::{partition, validate, HistoryError, Model, Op};
use super::search::{search, Call, Outcome};

/// A failing window of one key's history (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub key: String,
    /// The window's first call time (`a`).
    pub from: u64,
    /// The window's last return time (`b`).
    pub to: u64,
    /// Whether the window starts from the key's initial state (`a` is its first call) rather
    /// than from any state.
    pub from_start: bool,
    /// History indices of the ops kept exact, in call order: these contradict each other.
    pub exact: Vec<usize>,
    /// History indices of the relaxed ops in play (answer ignored, may be left out).
    pub relaxed: Vec<usize>,
    /// Whether every search it took finished within its budget, so that no shorter
    /// failing window exists. When `false` the window still fails (that is never in
    /// doubt), but a shorter one, or one on a key not decided, may have been missed.
    pub proven_shortest: bool,
}

impl Window {
    /// Its length in the history's time unit.
    pub fn span(&self) -> u64 {
        self.to - self.from
    }
}

/// One key's ops, in call order, and the searches over its windows.
struct KeyWindows<'h, 'm, M: Model> {
    model: &'m M,
    history: &'h [Op<M::Input, M::Output>],
    ops: Vec<usize>,
    /// The cap on each search's steps.
    max_steps: u64,
    /// Whether a search ran out of steps (its window was counted as not failing).
    gave_up: bool,
}

/// The window's start: the key's initial state, or any state from time `a` on.
#[derive(Clone, Copy, PartialEq)]
enum Start {
    Init,
    At(u64),
}

impl<M: Model> KeyWindows<'_, '_, M> {
    fn first_call(&self) -> u64 {
        self.history[self.ops[0]].call_us
    }

    fn a_of(&self, start: Start) -> u64 {
        match start {
            Start::Init => self.first_call(),
            Start::At(a) => a,
        }
    }

    /// `W(a, b)` split into exact and relaxed ops (history indices), following the
    /// definition in the module docs.
    fn split(&self, start: Start, b: u64) -> (Vec<usize>, Vec<usize>) {
        let a = self.a_of(start);
        let (mut exact, mut relaxed) = (Vec::new(), Vec::new());
        for &i in &self.ops {
            let op = &self.history[i];
            let dropped = op.call_us > b || op.return_us.is_some_and(|r| r < a);
            if dropped {
                continue;
            }
            let inside = op.call_us >= a && op.return_us.is_some_and(|r| r <= b) && op.output.is_some();
            if inside {
                exact.push(i);
            } else {
                relaxed.push(i);
            }
        }
        (exact, relaxed)
    }

    fn fails(&mut self, start: Start, b: u64) -> bool {
        let (exact, relaxed) = self.split(start, b);
        let mut calls: Vec<Call<'_, M>> = calls_of::<M>(self.history, &exact);
        for &i in &relaxed {
            let op = &self.history[i];
            let ret = op.return_us.filter(|&r| r <= b);
            calls.push(Call { call: op.call_us, ret, input: &op.input, output: None });
        }
        let init = if start == Start::Init { self.model.init() } else { self.model.unknown() };
        match search(self.model, &calls, init, self.max_steps, &mut 0) {
            Some(outcome) => outcome == Outcome::NotLinearizable,
            None => {
                self.gave_up = true;
                false
            }
        }
    }

    /// The shortest failing window of this key, or `None` if the key is linearizable.
    fn shortest(&mut self) -> Option<Window> {
        let mut ends: Vec<u64> = self.ops.iter().filter_map(|&i| self.history[i].return_us).collect();
        ends.sort_unstable();
        ends.dedup();
        let mut starts: Vec<Start> = self.ops.iter().map(|&i| Start::At(self.history[i].call_us)).collect();
        starts.sort_unstable_by_key(|s| self.a_of(*s));
        starts.dedup_by_key(|s| self.a_of(*s));
        starts.insert(0, Start::Init);

        // The earliest failing end, from the start (the shortest failing prefix).
        if !ends.last().is_some_and(|&b| self.fails(Start::Init, b)) {
            return None;
        }
        let first = ends.partition_point(|&b| !self.fails(Start::Init, b));
        let mut best: Option<(Start, u64)> = None;
        for &b in &ends[first..] {
            // Only starts that would beat the best so far; by monotonicity in `a` it is
            // enough to try the earliest of them, then find the latest that fails.
            let beats = |a: u64| best.is_none_or(|(s, e)| b - a < e - self.a_of(s));
            let hi = starts.partition_point(|s| self.a_of(*s) <= b);
            let lo = starts[..hi].partition_point(|s| !beats(self.a_of(*s)));
            if lo >= hi || !self.fails(starts[lo], b) {
                continue;
            }
            let later = lo + 1 + starts[lo + 1..hi].partition_point(|s| self.fails(*s, b));
            best = Some((starts[later - 1], b));
        }
        let (start, to) = best?;
        let (exact, relaxed) = self.split(start, to);
        Some(Window {
            key: self.history[self.ops[0]].key.clone(),
            from: self.a_of(start),
            to,
            from_start: start == Start::Init,
            exact,
            relaxed,
            proven_shortest: !self.gave_up,
        })
    }
}

/// The shortest failing window over every key of `history` (the earliest key on ties),
/// or `None` when no key was found to fail. Each of the searches this takes (O(n) per
/// key) is capped at `max_steps_per_search` steps; see [`Window::proven_shortest`].
pub fn shortest_failing_window<M: Model>(
    model: &M,
    history: &[Op<M::Input, M::Output>],
    max_steps_per_search: u64,
) -> Result<Option<Window>, HistoryError> {
    validate(model, history)?;
    let mut best: Option<Window> = None;
    let mut complete = true;
    for indices in partition(history).into_values() {
        let mut ops = indices;
        ops.sort_by_key(|&i| (history[i].call_us, i));
        let mut key = KeyWindows { model, history, ops, max_steps: max_steps_per_search, gave_up: false };
        if let Some(w) = key.shortest() {
            if best.as_ref().is_none_or(|b| w.span() < b.span()) {
                best = Some(w);
            }
        }
        complete &= !key.gave_up;
    }
    Ok(best.map(|w| Window { proven_shortest: complete, ..w }))
}
