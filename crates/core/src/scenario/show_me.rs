//! "Show me" lines: an explainer answers a follow-up question with a runnable scenario and
//! says what the reader will see, in a form a test can hold it to:
//!
//! ```text
//! Show me: {"version":1,"system":"distributed-lock","strategy":"fencing"} => all hold
//! Show me: {"version":1,"system":"distributed-lock"} => fails no-stale-write
//! Show me: {…} => holds progress, single-holder
//! ```
//!
//! The claim after `=>` is one of `all hold` (every check holds), `fails A, B` (each named
//! check fails) or `holds A, B` (each named check holds, whatever the others do). The
//! conformance suite runs every line and compares; the page shows the claim beside the link.

use crate::check::CheckResult;

/// What starts a scenario line in an explainer.
pub const PREFIX: &str = "Show me:";
/// What separates the scenario from the claim.
pub const CLAIM_SEP: &str = " => ";

/// The outcome a line promises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    AllHold,
    Fails(Vec<String>),
    Holds(Vec<String>),
}

/// Every `Show me:` line of a Markdown text, as what follows the prefix (code blocks
/// included: a reader can see those too).
pub fn lines(markdown: &str) -> Vec<&str> {
    markdown.lines().filter_map(|l| l.trim_start().strip_prefix(PREFIX)).map(str::trim).collect()
}

/// Splits what follows `Show me:` into the scenario JSON and the claim text, if any.
pub fn split(rest: &str) -> (&str, Option<&str>) {
    match rest.rsplit_once(CLAIM_SEP) {
        Some((json, claim)) if json.trim_end().ends_with('}') => (json.trim(), Some(claim.trim())),
        _ => (rest.trim(), None),
    }
}

impl Claim {
    pub fn parse(text: &str) -> Result<Claim, String> {
        let names = |list: &str| -> Result<Vec<String>, String> {
            let v: Vec<String> = list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            if v.is_empty() {
                Err(format!("claim {text:?} names no check"))
            } else {
                Ok(v)
            }
        };
        let text = text.trim();
        if text == "all hold" {
            Ok(Claim::AllHold)
        } else if let Some(list) = text.strip_prefix("fails ") {
            Ok(Claim::Fails(names(list)?))
        } else if let Some(list) = text.strip_prefix("holds ") {
            Ok(Claim::Holds(names(list)?))
        } else {
            Err(format!("claim {text:?} is not `all hold`, `fails CHECK, ...` or `holds CHECK, ...`"))
        }
    }

    /// The check names the claim mentions.
    pub fn checks(&self) -> &[String] {
        match self {
            Claim::AllHold => &[],
            Claim::Fails(v) | Claim::Holds(v) => v,
        }
    }

    /// Whether a run's verdicts bear the claim out; the error says which check disagrees.
    pub fn judge(&self, results: &[CheckResult]) -> Result<(), String> {
        let find = |name: &str| {
            results.iter().find(|r| r.name == name).ok_or_else(|| format!("the run has no check named `{name}`"))
        };
        match self {
            Claim::AllHold => match results.iter().find(|r| !r.ok) {
                Some(r) => Err(format!("claims every check holds, but `{}` failed: {}", r.name, r.detail)),
                None => Ok(()),
            },
            Claim::Fails(names) => names.iter().try_for_each(|n| {
                let r = find(n)?;
                if r.ok {
                    Err(format!("claims `{n}` fails, but it held ({})", r.detail))
                } else {
                    Ok(())
                }
            }),
            Claim::Holds(names) => names.iter().try_for_each(|n| {
                let r = find(n)?;
                if r.ok {
                    Ok(())
                } else {
                    Err(format!("claims `{n}` holds, but it failed: {}", r.detail))
                }
            }),
        }
    }

    /// The claim in words, for the page.
    pub fn describe(&self) -> String {
        match self {
            Claim::AllHold => "every check holds".into(),
            Claim::Fails(v) => format!("{} {}", v.join(" and "), if v.len() == 1 { "fails" } else { "fail" }),
            Claim::Holds(v) => format!("{} {}", v.join(" and "), if v.len() == 1 { "holds" } else { "hold" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, ok: bool) -> CheckResult {
        CheckResult { name: name.into(), ok, detail: "d".into(), samples: 1, violation: None }
    }

    #[test]
    fn splits_scenario_from_claim_and_parses_each_form() {
        let (json, claim) = split(r#"{"version":1,"system":"x"} => fails a, b"#);
        assert_eq!(json, r#"{"version":1,"system":"x"}"#);
        assert_eq!(Claim::parse(claim.unwrap()), Ok(Claim::Fails(vec!["a".into(), "b".into()])));
        assert_eq!(split(r#"{"version":1}"#), (r#"{"version":1}"#, None));
        assert_eq!(Claim::parse("all hold"), Ok(Claim::AllHold));
        assert_eq!(Claim::parse("holds p"), Ok(Claim::Holds(vec!["p".into()])));
        assert!(Claim::parse("fails ").is_err());
        assert!(Claim::parse("probably fine").is_err());
    }

    #[test]
    fn judges_against_the_verdicts() {
        let rs = [result("a", false), result("b", true)];
        assert!(Claim::Fails(vec!["a".into()]).judge(&rs).is_ok());
        assert!(Claim::Fails(vec!["b".into()]).judge(&rs).unwrap_err().contains("it held"));
        assert!(Claim::Holds(vec!["b".into()]).judge(&rs).is_ok());
        assert!(Claim::AllHold.judge(&rs).unwrap_err().contains("`a` failed"));
        assert!(Claim::Holds(vec!["zz".into()]).judge(&rs).unwrap_err().contains("no check named"));
    }
}
