//! Jepsen histories as EDN maps, one per line, as in the jepsen-kv data:
//! `{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}`.
//!
//! `:f :get | :put | :append` makes an [`AppendKv`](super::AppendKv) history;
//! `:f :read | :write | :cas` (values `nil`, numbers, `[from to]`) a
//! [`Register`](super::Register) one. `:key` may be a string or a number and defaults to
//! `""`. Lines whose `:process` is not a number (`:nemesis`) are fault injections, not
//! client calls, and are skipped. Only the small part of EDN these lines use is read.

use super::append_kv::{KvInput, KvOutput};
use super::parse::{err, Completion, Fate, Pairing, ParseError, ParsedHistory};
use super::parse_log::{register_call, register_fate, LogValue};
use super::register::{RegisterInput, RegisterOutput};

#[derive(Clone, Debug, PartialEq)]
enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    Keyword(String),
    Symbol(String),
    Vector(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
}

/// A cursor over one line.
struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        let rest = &self.text[self.at..];
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        self.at += rest.len() - trimmed.len();
    }

    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn value(&mut self, depth: usize) -> Result<Edn, String> {
        if depth > 32 {
            return Err("EDN nested too deeply".into());
        }
        self.skip_space();
        match self.peek() {
            None => Err("unexpected end of line".into()),
            Some('{') => {
                self.at += 1;
                let items = self.until('}', depth)?;
                if items.len() % 2 != 0 {
                    return Err("a map needs key-value pairs".into());
                }
                let mut pairs = Vec::new();
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Ok(Edn::Map(pairs))
            }
            Some('[') => {
                self.at += 1;
                Ok(Edn::Vector(self.until(']', depth)?))
            }
            Some('"') => self.string(),
            Some(_) => self.atom(),
        }
    }

    /// Values up to the closing `end`.
    fn until(&mut self, end: char, depth: usize) -> Result<Vec<Edn>, String> {
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some(c) if c == end => {
                    self.at += 1;
                    return Ok(items);
                }
                None => return Err(format!("missing `{end}`")),
                Some(_) => items.push(self.value(depth + 1)?),
            }
        }
    }

    fn string(&mut self) -> Result<Edn, String> {
        self.at += 1;
        let mut out = String::new();
        let mut chars = self.text[self.at..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(Edn::Str(out));
                }
                '\\' => match chars.next().map(|(_, e)| e) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(e @ ('"' | '\\')) => out.push(e),
                    _ => return Err("unknown escape in a string".into()),
                },
                c => out.push(c),
            }
        }
        Err("unterminated string".into())
    }

    fn atom(&mut self) -> Result<Edn, String> {
        let rest = &self.text[self.at..];
        let len = rest.find(|c: char| c.is_whitespace() || ",{}[]\"".contains(c)).unwrap_or(rest.len());
        let word = &rest[..len];
        self.at += len;
        Ok(match word {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            w if w.starts_with(':') && w.len() > 1 => Edn::Keyword(w[1..].to_string()),
            w => match w.parse::<i64>() {
                Ok(n) => Edn::Int(n),
                Err(_) if !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit() || c == '-') => {
                    Edn::Symbol(w.to_string())
                }
                Err(_) => return Err(format!("{w:?} is not an EDN value")),
            },
        })
    }
}

/// One line's map.
fn read_map(line: &str) -> Result<Vec<(Edn, Edn)>, String> {
    let mut r = Reader { text: line, at: 0 };
    let v = r.value(0)?;
    r.skip_space();
    if r.at != line.len() {
        return Err("text after the map".into());
    }
    match v {
        Edn::Map(pairs) => Ok(pairs),
        _ => Err("expected a map `{:process …, :type …, :f …, :value …}`".into()),
    }
}

fn field<'a>(map: &'a [(Edn, Edn)], name: &str) -> Option<&'a Edn> {
    map.iter().find(|(k, _)| matches!(k, Edn::Keyword(n) if n == name)).map(|(_, v)| v)
}

fn keyword<'a>(map: &'a [(Edn, Edn)], name: &str) -> Result<&'a str, String> {
    match field(map, name) {
        Some(Edn::Keyword(k)) => Ok(k),
        Some(v) => Err(format!(":{name} should be a keyword, not {v:?}")),
        None => Err(format!("no :{name}")),
    }
}

/// The two histories an EDN file may hold; the first call decides which.
enum Family {
    Undecided,
    Register(Pairing<RegisterInput, RegisterOutput>),
    Kv(Pairing<KvInput, KvOutput>),
}

/// Parses EDN lines into a register or key-value history (times are line numbers).
pub fn parse_edn_history(text: &str) -> Result<ParsedHistory, ParseError> {
    let mut family = Family::Undecided;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if !line.trim().is_empty() {
            one_line(&mut family, line, line_no).map_err(|why| err(line_no, why))?;
        }
    }
    Ok(match family {
        Family::Undecided => ParsedHistory::Register(Vec::new()),
        Family::Register(p) => ParsedHistory::Register(p.finish()),
        Family::Kv(p) => ParsedHistory::Kv(p.finish()),
    })
}

fn one_line(family: &mut Family, line: &str, line_no: usize) -> Result<(), String> {
    let map = read_map(line.trim())?;
    let process = match field(&map, "process") {
        Some(Edn::Int(p)) if *p >= 0 => *p as u64,
        Some(Edn::Int(p)) => return Err(format!("process {p} is negative")),
        Some(_) => return Ok(()), // :nemesis and the like
        None => return Err("no :process".into()),
    };
    let completion = match keyword(&map, "type")? {
        "invoke" => None,
        "ok" => Some(Completion::Ok),
        "fail" => Some(Completion::Fail),
        "info" => Some(Completion::Info),
        other => return Err(format!("unknown type :{other}")),
    };
    let f = keyword(&map, "f")?;
    let key = match field(&map, "key") {
        None | Some(Edn::Nil) => String::new(),
        Some(Edn::Str(s)) => s.clone(),
        Some(Edn::Int(k)) => k.to_string(),
        Some(v) => return Err(format!(":key should be a string or a number, not {v:?}")),
    };
    let value = field(&map, "value").cloned().unwrap_or(Edn::Nil);
    if matches!(family, Family::Undecided) {
        *family = match f {
            "read" | "write" | "cas" => Family::Register(Pairing::new()),
            "get" | "put" | "append" => Family::Kv(Pairing::new()),
            other => return Err(format!("unknown function :{other} (expected get/put/append or read/write/cas)")),
        };
    }
    let map_err = |e: ParseError| e.reason;
    match family {
        Family::Register(p) => {
            let value = register_value(&value).ok_or_else(|| format!("{value:?} is not a register value"))?;
            let f = format!(":{f}");
            match completion {
                None => {
                    let input = register_call(&f, value).ok_or_else(|| format!("cannot invoke {f} with {value:?}"))?;
                    p.invoke(line_no, process, key, input).map_err(map_err)
                }
                Some(c) => {
                    let (_, input) = p.open_call(line_no, process).map_err(map_err)?;
                    let fate = register_fate(input, &f, c, value)?;
                    p.complete(line_no, process, fate).map_err(map_err)
                }
            }
        }
        Family::Kv(p) => match completion {
            None => {
                let input = kv_call(f, &value)?;
                p.invoke(line_no, process, key, input).map_err(map_err)
            }
            Some(c) => {
                let (open_key, input) = p.open_call(line_no, process).map_err(map_err)?;
                if open_key != key {
                    return Err(format!("key {key:?} completes a call on key {open_key:?}"));
                }
                let fate = kv_fate(input, f, c, &value)?;
                p.complete(line_no, process, fate).map_err(map_err)
            }
        },
        Family::Undecided => unreachable!("decided above"),
    }
}

fn register_value(v: &Edn) -> Option<LogValue> {
    match v {
        Edn::Nil => Some(LogValue::Nil),
        Edn::Int(n) => u64::try_from(*n).ok().map(LogValue::Int),
        Edn::Keyword(_) => Some(LogValue::Keyword),
        Edn::Vector(xs) => match xs.as_slice() {
            [Edn::Int(a), Edn::Int(b)] => Some(LogValue::Pair(u64::try_from(*a).ok()?, u64::try_from(*b).ok()?)),
            _ => None,
        },
        _ => None,
    }
}

fn kv_call(f: &str, value: &Edn) -> Result<KvInput, String> {
    match (f, value) {
        ("get", _) => Ok(KvInput::Get),
        ("put", Edn::Str(v)) => Ok(KvInput::Put(v.clone())),
        ("append", Edn::Str(v)) => Ok(KvInput::Append(v.clone())),
        ("read" | "write" | "cas", _) => Err(format!(":{f} in a get/put/append history")),
        _ => Err(format!("cannot invoke :{f} with {value:?}")),
    }
}

fn kv_fate(input: &KvInput, f: &str, completion: Completion, value: &Edn) -> Result<Fate<KvOutput>, String> {
    let same_f =
        matches!((input, f), (KvInput::Get, "get") | (KvInput::Put(_), "put") | (KvInput::Append(_), "append"));
    if !same_f {
        return Err(format!(":{f} completes a call of {input:?}"));
    }
    Ok(match (completion, input, value) {
        (Completion::Info, _, _) => Fate::Open,
        (Completion::Fail, _, _) => Fate::Removed,
        (Completion::Ok, KvInput::Get, Edn::Str(v)) => Fate::Answer(KvOutput::Value(v.clone())),
        (Completion::Ok, KvInput::Put(w) | KvInput::Append(w), Edn::Str(v)) if w == v => Fate::Answer(KvOutput::Done),
        (Completion::Ok, _, v) => return Err(format!("{v:?} does not answer {input:?}")),
    })
}
