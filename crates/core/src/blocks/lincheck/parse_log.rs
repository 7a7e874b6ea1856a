//! Jepsen's log lines for a register, as in the etcd histories:
//! `INFO  jepsen.util - 3 :invoke :cas [1 4]` — process, type, function, value, separated
//! by tabs or spaces. Values are `nil`, a whole number, `[from to]`, or `:timed-out`.

use super::parse::{err, Completion, Fate, Pairing, ParseError};
use super::register::{RegisterInput, RegisterOutput};
use super::Op;

/// A value as written in a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogValue {
    Nil,
    Int(u64),
    Pair(u64, u64),
    /// A keyword such as `:timed-out`: an error description, not a value.
    Keyword,
}

fn value(text: &str) -> Option<LogValue> {
    let text = text.trim();
    if text == "nil" {
        return Some(LogValue::Nil);
    }
    if text.starts_with(':') && text.len() > 1 && !text.contains(char::is_whitespace) {
        return Some(LogValue::Keyword);
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let mut parts = inner.split_whitespace().map(str::parse::<u64>);
        return match (parts.next(), parts.next(), parts.next()) {
            (Some(Ok(a)), Some(Ok(b)), None) => Some(LogValue::Pair(a, b)),
            _ => None,
        };
    }
    text.parse().ok().map(LogValue::Int)
}

/// Parses a whole log into register ops (key `""`; times are line numbers).
pub fn parse_jepsen_log(text: &str) -> Result<Vec<Op<RegisterInput, RegisterOutput>>, ParseError> {
    let mut pairing = Pairing::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let rest = line.split_once("jepsen.util - ").map(|(_, r)| r).ok_or_else(|| {
            err(line_no, "not a Jepsen operation line (expected `INFO  jepsen.util - P :type :f value`)")
        })?;
        let mut words = rest.split_whitespace();
        let (Some(process), Some(kind), Some(f)) = (words.next(), words.next(), words.next()) else {
            return Err(err(line_no, "expected a process, a type, a function and a value"));
        };
        let value_text = words.collect::<Vec<_>>().join(" ");
        let process: u64 = process.parse().map_err(|_| err(line_no, format!("{process:?} is not a process number")))?;
        let value = value(&value_text).ok_or_else(|| err(line_no, format!("{value_text:?} is not a value")))?;
        let completion = match kind {
            ":invoke" => None,
            ":ok" => Some(Completion::Ok),
            ":fail" => Some(Completion::Fail),
            ":info" => Some(Completion::Info),
            other => return Err(err(line_no, format!("unknown type {other}"))),
        };
        let Some(completion) = completion else {
            let input =
                register_call(f, value).ok_or_else(|| err(line_no, format!("cannot invoke {f} with {value_text}")))?;
            pairing.invoke(line_no, process, String::new(), input)?;
            continue;
        };
        let (_, input) = pairing.open_call(line_no, process)?;
        let fate = register_fate(input, f, completion, value).map_err(|why| err(line_no, why))?;
        pairing.complete(line_no, process, fate)?;
    }
    Ok(pairing.finish())
}

/// The call an invocation line makes.
pub(crate) fn register_call(f: &str, value: LogValue) -> Option<RegisterInput> {
    match (f, value) {
        (":read", _) => Some(RegisterInput::Read),
        (":write", LogValue::Int(v)) => Some(RegisterInput::Write(v)),
        (":cas", LogValue::Pair(from, to)) => Some(RegisterInput::Cas { from, to }),
        _ => None,
    }
}

/// What a completion line says about the open call `input`.
pub(crate) fn register_fate(
    input: &RegisterInput,
    f: &str,
    completion: Completion,
    value: LogValue,
) -> Result<Fate<RegisterOutput>, String> {
    let same_f = matches!(
        (input, f),
        (RegisterInput::Read, ":read") | (RegisterInput::Write(_), ":write") | (RegisterInput::Cas { .. }, ":cas")
    );
    if !same_f {
        return Err(format!("{f} completes a call of {input:?}"));
    }
    Ok(match (completion, input, value) {
        (Completion::Info, _, _) => Fate::Open,
        (Completion::Fail, RegisterInput::Cas { .. }, _) => Fate::Answer(RegisterOutput::Swapped(false)),
        (Completion::Fail, _, _) => Fate::Removed,
        (Completion::Ok, RegisterInput::Read, LogValue::Nil) => Fate::Answer(RegisterOutput::Value(None)),
        (Completion::Ok, RegisterInput::Read, LogValue::Int(v)) => Fate::Answer(RegisterOutput::Value(Some(v))),
        (Completion::Ok, RegisterInput::Write(w), LogValue::Int(v)) if *w == v => Fate::Answer(RegisterOutput::Written),
        (Completion::Ok, RegisterInput::Cas { from, to }, LogValue::Pair(a, b)) if (*from, *to) == (a, b) => {
            Fate::Answer(RegisterOutput::Swapped(true))
        }
        (Completion::Ok, _, v) => return Err(format!("{v:?} does not answer {input:?}")),
    })
}
