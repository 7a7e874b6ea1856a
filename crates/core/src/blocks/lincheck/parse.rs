//! Reading recorded histories: Jepsen's log lines and EDN maps, told apart by their first
//! line, both turned into [`Op`]s whose times are line numbers.
//!
//! Jepsen's completion types: `:ok` is an answer; `:info` means the outcome is unknown
//! (the op stays open to the end of the history and may or may not take effect); `:fail`
//! means it did not happen, so the op is removed, except for a compare-and-set, where
//! `:fail` is the register's answer "the compare failed" (porcupine reads the etcd
//! histories this way, and the published verdicts depend on it).

use super::append_kv::{KvInput, KvOutput};
use super::history::Op;
use super::register::{RegisterInput, RegisterOutput};
use super::{parse_edn, parse_log};
use std::collections::BTreeMap;

/// A history of one of the two models, as read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedHistory {
    Register(Vec<Op<RegisterInput, RegisterOutput>>),
    Kv(Vec<Op<KvInput, KvOutput>>),
}

impl ParsedHistory {
    pub fn len(&self) -> usize {
        match self {
            ParsedHistory::Register(ops) => ops.len(),
            ParsedHistory::Kv(ops) => ops.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a history could not be read, at which line (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// Reads either format: EDN when the first non-blank line starts with `{`, Jepsen log
/// lines otherwise. An empty text is an empty register history.
pub fn parse_history(text: &str) -> Result<ParsedHistory, ParseError> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(l) if l.starts_with('{') => parse_edn::parse_edn_history(text),
        _ => parse_log::parse_jepsen_log(text).map(ParsedHistory::Register),
    }
}

/// What a completion line means for its op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Completion {
    Ok,
    Fail,
    Info,
}

/// A completion turned into the op's fate.
pub(crate) enum Fate<O> {
    /// Returned with this answer.
    Answer(O),
    /// Never returned, outcome unknown (may take effect later, or never).
    Open,
    /// Did not happen: remove the op.
    Removed,
}

/// Pairs each process's invocation with its completion.
pub(crate) struct Pairing<I, O> {
    ops: Vec<Option<Op<I, O>>>,
    open: BTreeMap<u64, usize>,
}

impl<I: Clone, O> Pairing<I, O> {
    pub fn new() -> Self {
        Pairing { ops: Vec::new(), open: BTreeMap::new() }
    }

    pub fn invoke(&mut self, line: usize, process: u64, key: String, input: I) -> Result<(), ParseError> {
        if let Some(&i) = self.open.get(&process) {
            let since = self.ops[i].as_ref().map_or(0, |op| op.call_us);
            return Err(err(line, format!("process {process} invokes again while its call from line {since} is open")));
        }
        self.open.insert(process, self.ops.len());
        let op = Op { client: process, key, call_us: line as u64, return_us: None, input, output: None };
        self.ops.push(Some(op));
        Ok(())
    }

    /// The open call of `process` (to check a completion against it).
    pub fn open_call(&self, line: usize, process: u64) -> Result<(&str, &I), ParseError> {
        let i = self
            .open
            .get(&process)
            .ok_or_else(|| err(line, format!("process {process} completes a call it never invoked")))?;
        let op = self.ops[*i].as_ref().expect("open ops are present");
        Ok((&op.key, &op.input))
    }

    pub fn complete(&mut self, line: usize, process: u64, fate: Fate<O>) -> Result<(), ParseError> {
        let i = self
            .open
            .remove(&process)
            .ok_or_else(|| err(line, format!("process {process} completes a call it never invoked")))?;
        match fate {
            Fate::Answer(out) => {
                let op = self.ops[i].as_mut().expect("open ops are present");
                op.return_us = Some(line as u64);
                op.output = Some(out);
            }
            Fate::Open => {}
            Fate::Removed => self.ops[i] = None,
        }
        Ok(())
    }

    /// The ops in invocation order; calls still open at the end stay open.
    pub fn finish(self) -> Vec<Op<I, O>> {
        self.ops.into_iter().flatten().collect()
    }
}

pub(crate) fn err(line: usize, reason: impl Into<String>) -> ParseError {
    ParseError { line, reason: reason.into() }
}
