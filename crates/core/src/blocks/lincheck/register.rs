//! A read/write/compare-and-set register: the object Jepsen's etcd test drives, and what a
//! config store holds per key.
//!
//! The value is `None` (nil, never written) or a number. A read returns the value; a
//! write sets it; `cas from→to` sets it to `to` and answers ok when it held `from`, and
//! otherwise changes nothing and answers failed. (Jepsen's etcd client reports a failed
//! compare as `:fail`, which porcupine and this checker read as the answer "failed",
//! i.e. the register did not hold `from` at that instant.)
//!
//! A state is a *set* of values, so that a window of a history can start from "any
//! value" and stay exact: a finite set, or every value except a finite set. A whole
//! history from nil only ever meets single values.

use super::history::Model;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterInput {
    Read,
    Write(u64),
    Cas { from: u64, to: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterOutput {
    /// What a read returned (`None` = nil).
    Value(Option<u64>),
    /// A write's acknowledgement.
    Written,
    /// Whether a compare-and-set swapped.
    Swapped(bool),
}

type Value = Option<u64>;

/// The values the register may hold. Vectors are sorted, without duplicates, and `AnyOf`
/// has at least two members (one is `Is`), so equal sets compare equal in the memo.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegisterState {
    Is(Value),
    AnyOf(Vec<Value>),
    AnyBut(Vec<Value>),
}

impl RegisterState {
    fn contains(&self, v: Value) -> bool {
        match self {
            RegisterState::Is(x) => *x == v,
            RegisterState::AnyOf(xs) => xs.binary_search(&v).is_ok(),
            RegisterState::AnyBut(xs) => xs.binary_search(&v).is_err(),
        }
    }

    /// The set without `v`; `None` when nothing is left.
    fn without(&self, v: Value) -> Option<RegisterState> {
        match self {
            RegisterState::Is(x) => (*x != v).then(|| self.clone()),
            RegisterState::AnyOf(xs) => {
                let rest: Vec<Value> = xs.iter().copied().filter(|x| *x != v).collect();
                Some(if rest.len() == 1 { RegisterState::Is(rest[0]) } else { RegisterState::AnyOf(rest) })
            }
            RegisterState::AnyBut(xs) => {
                let mut xs = xs.clone();
                if let Err(at) = xs.binary_search(&v) {
                    xs.insert(at, v);
                }
                Some(RegisterState::AnyBut(xs))
            }
        }
    }

    /// The set with `v` added.
    fn with(self, v: Value) -> RegisterState {
        match self {
            RegisterState::Is(x) if x == v => RegisterState::Is(x),
            RegisterState::Is(x) => RegisterState::AnyOf(if x < v { vec![x, v] } else { vec![v, x] }),
            RegisterState::AnyOf(mut xs) => {
                if let Err(at) = xs.binary_search(&v) {
                    xs.insert(at, v);
                }
                RegisterState::AnyOf(xs)
            }
            RegisterState::AnyBut(mut xs) => {
                xs.retain(|x| *x != v);
                RegisterState::AnyBut(xs)
            }
        }
    }
}

/// The register model (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct Register;

impl Model for Register {
    type Input = RegisterInput;
    type Output = RegisterOutput;
    type State = RegisterState;

    fn init(&self) -> RegisterState {
        RegisterState::Is(None)
    }

    fn unknown(&self) -> RegisterState {
        RegisterState::AnyBut(Vec::new())
    }

    fn step(
        &self,
        state: &RegisterState,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<RegisterState> {
        match (input, output) {
            (RegisterInput::Read, None) => Some(state.clone()),
            (RegisterInput::Read, Some(RegisterOutput::Value(v))) => {
                state.contains(*v).then_some(RegisterState::Is(*v))
            }
            (RegisterInput::Write(v), _) => Some(RegisterState::Is(Some(*v))),
            (RegisterInput::Cas { from, to }, out) => {
                let hit = state.contains(Some(*from));
                match out {
                    Some(RegisterOutput::Swapped(true)) => hit.then_some(RegisterState::Is(Some(*to))),
                    Some(RegisterOutput::Swapped(false)) => state.without(Some(*from)),
                    // Unknown answer: swapped if it could, unchanged if it could not.
                    None => match (hit, state.without(Some(*from))) {
                        (true, Some(missed)) => Some(missed.with(Some(*to))),
                        (true, None) => Some(RegisterState::Is(Some(*to))),
                        (false, missed) => missed,
                    },
                    Some(_) => None,
                }
            }
            (RegisterInput::Read, Some(_)) => None,
        }
    }

    fn answers(&self, input: &RegisterInput, output: &RegisterOutput) -> bool {
        matches!(
            (input, output),
            (RegisterInput::Read, RegisterOutput::Value(_))
                | (RegisterInput::Write(_), RegisterOutput::Written)
                | (RegisterInput::Cas { .. }, RegisterOutput::Swapped(_))
        )
    }

    fn describe(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> String {
        let value = |v: &Option<u64>| v.map_or("nil".to_string(), |v| v.to_string());
        match (input, output) {
            (RegisterInput::Read, Some(RegisterOutput::Value(v))) => format!("read → {}", value(v)),
            (RegisterInput::Read, _) => "read → ?".to_string(),
            (RegisterInput::Write(v), Some(_)) => format!("write {v}"),
            (RegisterInput::Write(v), None) => format!("write {v} (outcome unknown)"),
            (RegisterInput::Cas { from, to }, Some(RegisterOutput::Swapped(true))) => format!("cas {from}→{to} ok"),
            (RegisterInput::Cas { from, to }, Some(_)) => format!("cas {from}→{to} failed"),
            (RegisterInput::Cas { from, to }, None) => format!("cas {from}→{to} (outcome unknown)"),
        }
    }
}
