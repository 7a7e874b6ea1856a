//! The string-with-append object of the `jepsen-kv` histories (porcupine's key-value
//! test model).
//!
//! Each key holds a string, empty at first. `get` returns the whole string, `put v`
//! replaces it, `append v` concatenates `v` at its end. The data pins this down: after
//! appends of `"x 0 2 y"` and `"x 0 5 y"` to one key a get returns `"x 0 2 yx 0 5 y"`, the
//! two appended strings joined with nothing between them. (So the "list" of appended
//! elements is kept as their concatenation; nothing splits it back.)
//!
//! For windows that start mid-history, a state may also be "some string ending in `s`":
//! appends extend the known suffix, and a get that ends with it pins the string down.

use super::history::Model;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvInput {
    Get,
    Put(String),
    Append(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvOutput {
    /// What a get returned.
    Value(String),
    /// A put's or append's acknowledgement.
    Done,
}

/// The strings a key may hold. `Arc` keeps the memo's copies of long strings cheap.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KvState {
    Is(Arc<str>),
    /// Any string that ends with this one (`""`: any string at all).
    EndsWith(Arc<str>),
}

/// The append model (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct AppendKv;

impl Model for AppendKv {
    type Input = KvInput;
    type Output = KvOutput;
    type State = KvState;

    fn init(&self) -> KvState {
        KvState::Is(Arc::from(""))
    }

    fn unknown(&self) -> KvState {
        KvState::EndsWith(Arc::from(""))
    }

    fn step(&self, state: &KvState, input: &KvInput, output: Option<&KvOutput>) -> Option<KvState> {
        match (input, output) {
            (KvInput::Get, None) => Some(state.clone()),
            (KvInput::Get, Some(KvOutput::Value(v))) => match state {
                KvState::Is(s) => (**s == **v).then(|| state.clone()),
                KvState::EndsWith(s) => v.ends_with(&**s).then(|| KvState::Is(Arc::from(v.as_str()))),
            },
            (KvInput::Get, Some(KvOutput::Done)) => None,
            (KvInput::Put(v), _) => Some(KvState::Is(Arc::from(v.as_str()))),
            (KvInput::Append(v), _) => Some(match state {
                KvState::Is(s) => KvState::Is(Arc::from(format!("{s}{v}"))),
                KvState::EndsWith(s) => KvState::EndsWith(Arc::from(format!("{s}{v}"))),
            }),
        }
    }

    fn answers(&self, input: &KvInput, output: &KvOutput) -> bool {
        matches!(
            (input, output),
            (KvInput::Get, KvOutput::Value(_)) | (KvInput::Put(_) | KvInput::Append(_), KvOutput::Done)
        )
    }

    fn describe(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        match (input, output) {
            (KvInput::Get, Some(KvOutput::Value(v))) => format!("get → {v:?}"),
            (KvInput::Get, _) => "get → ?".to_string(),
            (KvInput::Put(v), Some(_)) => format!("put {v:?}"),
            (KvInput::Append(v), Some(_)) => format!("append {v:?}"),
            (KvInput::Put(v), None) => format!("put {v:?} (outcome unknown)"),
            (KvInput::Append(v), None) => format!("append {v:?} (outcome unknown)"),
        }
    }
}
