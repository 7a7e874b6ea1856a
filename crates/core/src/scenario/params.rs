//! Parameter specs: every knob a system exposes, with its type, bounds, default and unit.
//! The UI generates its form from these, the CLI parses `--set key=value` with them, and a
//! link's values are checked against them before anything is built.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The type, bounds and default of one parameter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParamKind {
    Int { min: i64, max: i64, default: i64 },
    Float { min: f64, max: f64, default: f64 },
    Bool { default: bool },
    Choice { options: &'static [&'static str], default: &'static str },
}

/// One knob of a system.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ParamSpec {
    pub key: &'static str,
    pub label: &'static str,
    /// Unit shown after the value ("ms", "req/s", "nodes"); empty when unitless.
    pub unit: &'static str,
    pub kind: ParamKind,
    pub help: &'static str,
}

/// A parameter value as it appears in a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// Constructors, so a system's parameter table reads one knob a line.
impl ParamSpec {
    pub const fn int(
        key: &'static str,
        label: &'static str,
        unit: &'static str,
        min: i64,
        max: i64,
        default: i64,
        help: &'static str,
    ) -> ParamSpec {
        ParamSpec { key, label, unit, kind: ParamKind::Int { min, max, default }, help }
    }

    pub const fn float(
        key: &'static str,
        label: &'static str,
        unit: &'static str,
        min: f64,
        max: f64,
        default: f64,
        help: &'static str,
    ) -> ParamSpec {
        ParamSpec { key, label, unit, kind: ParamKind::Float { min, max, default }, help }
    }

    pub const fn flag(key: &'static str, label: &'static str, default: bool, help: &'static str) -> ParamSpec {
        ParamSpec { key, label, unit: "", kind: ParamKind::Bool { default }, help }
    }

    pub const fn choice(
        key: &'static str,
        label: &'static str,
        options: &'static [&'static str],
        default: &'static str,
        help: &'static str,
    ) -> ParamSpec {
        ParamSpec { key, label, unit: "", kind: ParamKind::Choice { options, default }, help }
    }
}

impl ParamSpec {
    pub fn default_value(&self) -> ParamValue {
        match self.kind {
            ParamKind::Int { default, .. } => ParamValue::Int(default),
            ParamKind::Float { default, .. } => ParamValue::Float(default),
            ParamKind::Bool { default } => ParamValue::Bool(default),
            ParamKind::Choice { default, .. } => ParamValue::Text(default.to_string()),
        }
    }

    /// Checks `v` against this spec, converting where harmless (an integer for a float).
    pub fn check(&self, v: &ParamValue) -> Result<ParamValue, String> {
        let key = self.key;
        let unit = if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) };
        match (self.kind, v) {
            (ParamKind::Int { min, max, .. }, ParamValue::Int(i)) => {
                if (min..=max).contains(i) {
                    Ok(v.clone())
                } else {
                    Err(format!("parameter `{key}` = {i} is out of range {min}..={max}{unit}"))
                }
            }
            (ParamKind::Float { .. }, ParamValue::Int(i)) => self.check(&ParamValue::Float(*i as f64)),
            (ParamKind::Float { min, max, .. }, ParamValue::Float(x)) => {
                if x.is_finite() && *x >= min && *x <= max {
                    Ok(v.clone())
                } else {
                    Err(format!("parameter `{key}` = {} is out of range {min}..={max}{unit}", show(*x)))
                }
            }
            (ParamKind::Bool { .. }, ParamValue::Bool(_)) => Ok(v.clone()),
            (ParamKind::Choice { options, .. }, ParamValue::Text(s)) => {
                if options.contains(&s.as_str()) {
                    Ok(v.clone())
                } else {
                    Err(format!("parameter `{key}` = {s:?} is not one of: {}", options.join(", ")))
                }
            }
            (kind, other) => Err(format!("parameter `{key}` expects {}, got {other}", kind_name(kind))),
        }
    }

    /// Parses a command-line value (`--set key=value`) for this spec.
    pub fn parse(&self, text: &str) -> Result<ParamValue, String> {
        let v = match self.kind {
            ParamKind::Int { min, max, .. } => match text.trim().parse::<i64>() {
                Ok(i) => ParamValue::Int(i),
                // Digits too many for any integer are out of range, not "not an integer".
                Err(_) if is_integer(text) => {
                    return Err(format!(
                        "parameter `{}` = {text} is out of range {min}..={max}{}",
                        self.key,
                        unit_suffix(self.unit)
                    ))
                }
                Err(_) => return Err(format!("parameter `{}` expects an integer, got {text:?}", self.key)),
            },
            ParamKind::Float { .. } => text
                .parse::<f64>()
                .map(ParamValue::Float)
                .map_err(|_| format!("parameter `{}` expects a number, got {text:?}", self.key))?,
            ParamKind::Bool { .. } => match text {
                "true" | "1" | "yes" | "on" => ParamValue::Bool(true),
                "false" | "0" | "no" | "off" => ParamValue::Bool(false),
                _ => {
                    return Err(format!(
                        "parameter `{}` expects true or false (also 1/0, yes/no, on/off), got {text:?}",
                        self.key
                    ))
                }
            },
            ParamKind::Choice { .. } => ParamValue::Text(text.to_string()),
        };
        self.check(&v)
    }
}

fn is_integer(text: &str) -> bool {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn unit_suffix(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

/// A number as a message shows it: short even when huge (1e308, not 309 digits).
fn show(x: f64) -> String {
    if x.is_finite() && (x.abs() >= 1e15 || (x != 0.0 && x.abs() < 1e-6)) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn kind_name(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Int { .. } => "an integer",
        ParamKind::Float { .. } => "a number",
        ParamKind::Bool { .. } => "true or false",
        ParamKind::Choice { .. } => "one of its named options",
    }
}

/// Validated parameters with every default filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    values: BTreeMap<&'static str, ParamValue>,
}

impl Params {
    /// Checks `given` against `specs`: unknown keys and bad values are errors.
    pub fn resolve(specs: &'static [ParamSpec], given: &BTreeMap<String, ParamValue>) -> Result<Params, String> {
        for key in given.keys() {
            if !specs.iter().any(|s| s.key == key) {
                let known: Vec<&str> = specs.iter().map(|s| s.key).collect();
                return Err(format!("unknown parameter `{key}`; this system has: {}", known.join(", ")));
            }
        }
        let mut values = BTreeMap::new();
        for s in specs {
            let v = match given.get(s.key) {
                Some(v) => s.check(v)?,
                None => s.default_value(),
            };
            values.insert(s.key, v);
        }
        Ok(Params { values })
    }

    pub fn defaults(specs: &'static [ParamSpec]) -> Params {
        Params { values: specs.iter().map(|s| (s.key, s.default_value())).collect() }
    }

    pub fn int(&self, key: &str) -> i64 {
        match self.values.get(key) {
            Some(ParamValue::Int(i)) => *i,
            Some(ParamValue::Float(x)) => *x as i64,
            _ => 0,
        }
    }

    pub fn float(&self, key: &str) -> f64 {
        match self.values.get(key) {
            Some(ParamValue::Float(x)) => *x,
            Some(ParamValue::Int(i)) => *i as f64,
            _ => 0.0,
        }
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.values.get(key), Some(ParamValue::Bool(true)))
    }

    pub fn choice(&self, key: &str) -> &str {
        match self.values.get(key) {
            Some(ParamValue::Text(s)) => s,
            _ => "",
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &ParamValue)> {
        self.values.iter().map(|(k, v)| (*k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPECS: &[ParamSpec] = &[
        ParamSpec {
            key: "nodes",
            label: "Nodes",
            unit: "nodes",
            kind: ParamKind::Int { min: 1, max: 64, default: 4 },
            help: "",
        },
        ParamSpec {
            key: "ttl",
            label: "TTL",
            unit: "ms",
            kind: ParamKind::Float { min: 0.0, max: 10.0, default: 1.0 },
            help: "",
        },
        ParamSpec {
            key: "policy",
            label: "Policy",
            unit: "",
            kind: ParamKind::Choice { options: &["lru", "lfu"], default: "lru" },
            help: "",
        },
    ];

    #[test]
    fn errors_name_the_parameter_and_its_bounds() {
        let mut given = BTreeMap::new();
        given.insert("nodes".to_string(), ParamValue::Int(1_000_000_000));
        let err = Params::resolve(SPECS, &given).unwrap_err();
        assert_eq!(err, "parameter `nodes` = 1000000000 is out of range 1..=64 nodes");
        given.clear();
        given.insert("policy".to_string(), ParamValue::Text("fifo".into()));
        assert_eq!(
            Params::resolve(SPECS, &given).unwrap_err(),
            "parameter `policy` = \"fifo\" is not one of: lru, lfu"
        );
        given.clear();
        given.insert("colour".to_string(), ParamValue::Bool(true));
        assert!(Params::resolve(SPECS, &given).unwrap_err().starts_with("unknown parameter `colour`"));
        assert_eq!(SPECS[1].parse("NaN").unwrap_err(), "parameter `ttl` = NaN is out of range 0..=10 ms");
    }

    #[test]
    fn defaults_fill_gaps_and_ints_widen_to_floats() {
        let mut given = BTreeMap::new();
        given.insert("ttl".to_string(), ParamValue::Int(3));
        let p = Params::resolve(SPECS, &given).unwrap();
        assert_eq!(p.int("nodes"), 4);
        assert_eq!(p.float("ttl"), 3.0);
        assert_eq!(p.choice("policy"), "lru");
    }
}
