//! The search for one key: Wing & Gong's backtracking with Lowe's memo, the way
//! porcupine runs it, plus two refinements for calls that never returned.
//!
//! Calls and returns sit in one list in time order. The calls before the first return
//! in the list are the candidates to take effect next (none of them can be forced after
//! a call that had returned before it started). A candidate is tried when the model
//! allows its answer from the current state: the call and its return are lifted out of
//! the list, the choice is pushed on a stack, and the scan restarts from the front.
//! Reaching the first return with every candidate tried means the call of that return
//! cannot take effect in time on this path, so the last choice is undone (put back, scan
//! on past it). Reaching the end of the list means every call that had to take effect
//! did: linearizable. An empty stack at a return: not linearizable.
//!
//! The memo remembers every (set of calls placed, state) configuration already reached:
//! the rest of the search depends on nothing else, so a configuration seen twice is
//! pruned (Lowe 2017). See `memo` for how calls that never returned are folded in.
//!
//! Calls whose outcome is unknown are optional. One that never returned has no return
//! entry, so the end of the list can be reached with it still unplaced; among the
//! candidates it is tried only after every required one (placing it is never needed to
//! make progress, and exploring without it first lets the memo prune more). One that
//! returned without a known answer has a return entry that, when reached, *drops* the
//! call (a choice on the stack like any other) instead of forcing a backtrack.

use super::history::Model;
use super::memo::{zobrist, Memo};

/// One call as the search sees it: the history's op, or a relaxed copy of it.
pub(crate) struct Call<'a, M: Model> {
    pub call: u64,
    pub ret: Option<u64>,
    pub input: &'a M::Input,
    pub output: Option<&'a M::Output>,
}

// Manual impls: derive would demand `M: Clone`.
impl<M: Model> Clone for Call<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M: Model> Copy for Call<'_, M> {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Linearizable,
    NotLinearizable,
}

const NONE: u32 = u32::MAX;
const HEAD: u32 = 0;

/// The doubly linked list of entries; node 0 is the head sentinel. Lifting a call
/// unlinks its call and return nodes; unlifting in reverse order relinks them (dancing
/// links), which is all a stack-ordered search needs.
struct Entries {
    prev: Vec<u32>,
    next: Vec<u32>,
    /// The call index of each node (sentinel: unused).
    call: Vec<u32>,
    is_return: Vec<bool>,
    /// Each call's return node, or `NONE` when it never returned.
    ret_node: Vec<u32>,
    call_node: Vec<u32>,
}

impl Entries {
    fn new<M: Model>(calls: &[Call<'_, M>]) -> Self {
        // Sort by time; at equal times calls come before returns (they are concurrent).
        let mut order: Vec<(u64, bool, u32)> = Vec::with_capacity(calls.len() * 2);
        for (i, c) in calls.iter().enumerate() {
            order.push((c.call, false, i as u32));
            if let Some(r) = c.ret {
                order.push((r, true, i as u32));
            }
        }
        order.sort_unstable();
        let n = order.len() + 1;
        let mut e = Entries {
            prev: (0..n as u32).map(|i| i.wrapping_sub(1)).collect(),
            next: (1..=n as u32).collect(),
            call: vec![NONE; n],
            is_return: vec![false; n],
            ret_node: vec![NONE; calls.len()],
            call_node: vec![NONE; calls.len()],
        };
        e.next[n - 1] = NONE;
        for (k, &(_, is_ret, c)) in order.iter().enumerate() {
            let node = k + 1;
            e.call[node] = c;
            e.is_return[node] = is_ret;
            if is_ret {
                e.ret_node[c as usize] = node as u32;
            } else {
                e.call_node[c as usize] = node as u32;
            }
        }
        e
    }

    fn unlink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = n;
        if n != NONE {
            self.prev[n as usize] = p;
        }
    }

    fn relink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = node;
        if n != NONE {
            self.prev[n as usize] = node;
        }
    }

    fn lift(&mut self, c: u32) {
        self.unlink(self.call_node[c as usize]);
        if self.ret_node[c as usize] != NONE {
            self.unlink(self.ret_node[c as usize]);
        }
    }

    fn unlift(&mut self, c: u32) {
        if self.ret_node[c as usize] != NONE {
            self.relink(self.ret_node[c as usize]);
        }
        self.relink(self.call_node[c as usize]);
    }
}

/// The scan's two passes over the candidates: calls that returned first, then calls
/// that never did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    Returned,
    Open,
}

/// A choice on the stack: which call, how it was chosen, and the state before it.
struct Choice<S> {
    call: u32,
    how: How,
    before: S,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    Placed(Pass),
    /// An optional call dropped at its return entry.
    Dropped,
}

/// A search that can be paused and resumed, so that several keys can share a budget
/// fairly (the first key to fail decides the verdict, as in porcupine, where keys run in
/// parallel).
pub(crate) struct Search<'c, 'a, M: Model> {
    model: &'c M,
    calls: &'c [Call<'a, M>],
    list: Entries,
    /// Each call's bit: in `open` for calls that never returned, in `req` for the rest.
    bit: Vec<(bool, u32)>,
    req: Vec<u64>,
    open: Vec<u64>,
    seen: Memo<M::State>,
    /// The Zobrist hash of `req`.
    req_hash: u64,
    /// Calls that never returned and are not placed: the second pass is skipped at 0.
    open_left: u32,
    stack: Vec<Choice<M::State>>,
    state: M::State,
    node: u32,
    pass: Pass,
    steps: u64,
    done: Option<Outcome>,
}

impl<'c, 'a, M: Model> Search<'c, 'a, M> {
    pub fn new(model: &'c M, calls: &'c [Call<'a, M>], init: M::State) -> Self {
        let list = Entries::new(calls);
        let node = list.next[HEAD as usize];
        let (mut required, mut open) = (0u32, 0u32);
        let bit = calls
            .iter()
            .map(|c| {
                let counter = if c.ret.is_none() { &mut open } else { &mut required };
                *counter += 1;
                (c.ret.is_none(), *counter - 1)
            })
            .collect();
        Search {
            model,
            calls,
            list,
            bit,
            req: vec![0u64; (required as usize).div_ceil(64)],
            open: vec![0u64; (open as usize).div_ceil(64)],
            seen: Memo::new(required as usize, open as usize),
            req_hash: 0,
            open_left: open,
            stack: Vec::new(),
            state: init,
            node,
            pass: Pass::Returned,
            steps: 0,
            done: None,
        }
    }

    /// Scan steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Runs at most `budget` more steps: the outcome once decided, `None` if still open.
    pub fn run(&mut self, budget: u64) -> Option<Outcome> {
        let stop = self.steps.saturating_add(budget);
        while self.done.is_none() && self.steps < stop {
            self.done = self.step();
        }
        self.done
    }

    /// Adds call `c` to the placed sets, or takes it out.
    fn flip(&mut self, c: u32) {
        let (open, i) = self.bit[c as usize];
        let bits = if open { &mut self.open } else { &mut self.req };
        bits[i as usize / 64] ^= 1 << (i % 64);
        if open {
            let placed = bits[i as usize / 64] & (1 << (i % 64)) != 0;
            self.open_left = if placed { self.open_left - 1 } else { self.open_left + 1 };
        } else {
            self.req_hash ^= zobrist(i);
        }
    }

    /// Makes the choice unless the memo has seen where it leads; whether it was made.
    fn choose(&mut self, c: u32, how: How, next: M::State) -> bool {
        self.flip(c);
        if !self.seen.insert(self.req_hash, &self.req, &self.open, &next) {
            self.flip(c);
            return false;
        }
        let before = std::mem::replace(&mut self.state, next);
        self.stack.push(Choice { call: c, how, before });
        self.list.lift(c);
        self.node = self.list.next[HEAD as usize];
        self.pass = Pass::Returned;
        true
    }

    /// One step of the scan; `Some` when the search is over.
    fn step(&mut self) -> Option<Outcome> {
        let node = self.node;
        if node == NONE {
            // Only calls that never returned are left (the second pass never gets here:
            // it stops at the return the first pass stopped at).
            return Some(Outcome::Linearizable);
        }
        self.steps += 1;
        let c = self.list.call[node as usize];
        let call = &self.calls[c as usize];
        if !self.list.is_return[node as usize] {
            let wanted = if call.ret.is_none() { Pass::Open } else { Pass::Returned };
            if wanted == self.pass {
                if let Some(next) = self.model.step(&self.state, call.input, call.output) {
                    if self.choose(c, How::Placed(self.pass), next) {
                        return None;
                    }
                }
            }
            self.node = self.list.next[node as usize];
            return None;
        }
        if self.pass == Pass::Returned && self.open_left > 0 {
            // Every returned candidate tried: now the calls that never returned.
            self.pass = Pass::Open;
            self.node = self.list.next[HEAD as usize];
            return None;
        }
        if call.output.is_none() && self.choose(c, How::Dropped, self.state.clone()) {
            return None; // an optional call's deadline: drop it
        }
        // A return we cannot pass: undo the last choice and try the entry after its call,
        // in the pass it was made in. Undoing a drop leaves nothing to try at that return
        // (the memo now refuses the same drop), so the scan goes straight back to it.
        let Some(Choice { call: undo, how, before }) = self.stack.pop() else {
            return Some(Outcome::NotLinearizable);
        };
        self.state = before;
        self.flip(undo);
        self.list.unlift(undo);
        (self.node, self.pass) = match how {
            How::Placed(pass) => (self.list.next[self.list.call_node[undo as usize] as usize], pass),
            How::Dropped => (self.list.ret_node[undo as usize], Pass::Open),
        };
        None
    }
}

/// Whether `calls`, started from `init`, can be linearized, within `budget` steps (added
/// to `steps`); `None` when the budget ran out first.
pub(crate) fn search<M: Model>(
    model: &M,
    calls: &[Call<'_, M>],
    init: M::State,
    budget: u64,
    steps: &mut u64,
) -> Option<Outcome> {
    let mut s = Search::new(model, calls, init);
    let outcome = s.run(budget);
    *steps += s.steps();
    outcome
}
