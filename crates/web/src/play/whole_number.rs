//! Reading a whole number typed into a field, within bounds, with a message that says what
//! is wrong — the seed box and the sweep's seed count use it, the same way the parameter
//! form uses `ParamSpec::parse`. Nothing typed is silently clamped or ignored.

/// Parses `text` as a whole number in `min..=max`; the error names `what` and the range.
pub fn parse(text: &str, min: u64, max: u64, what: &str) -> Result<u64, String> {
    let t = text.trim();
    let range = format!("{what} is a whole number from {min} to {max}");
    if t.is_empty() {
        return Err(format!("enter a value: {range}"));
    }
    match t.parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(format!("{t:?} is not allowed: {range}")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn refuses_what_it_cannot_take_and_says_why() {
        let max = sdlab_core::scenario::MAX_SEED;
        assert_eq!(parse(" 42 ", 0, max, "a seed"), Ok(42));
        for bad in ["-1", "99999999999999999999", "1.5", "abc", "9007199254740992"] {
            let e = parse(bad, 0, max, "a seed").unwrap_err();
            assert!(e.contains("a seed is a whole number from 0 to 9007199254740991"), "{bad}: {e}");
        }
        assert!(parse("0", 1, 10_000, "the number of seeds").unwrap_err().contains("from 1 to 10000"));
        assert!(parse("", 1, 10, "x").unwrap_err().starts_with("enter a value"));
    }
}
