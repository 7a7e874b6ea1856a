//! The W3C Trace Context `traceparent` header (W3C Recommendation "Trace Context",
//! Level 1, 23 November 2021, §3.2 <https://www.w3.org/TR/trace-context/#traceparent-header>):
//! `version "-" trace-id "-" parent-id "-" trace-flags`, all lowercase hex —
//! 2 + 32 + 16 + 2 digits, 55 characters for version `00`.
//!
//! This is the one piece of a tracing system every service must agree on: the caller
//! writes the trace it belongs to and its own span id (the callee's parent), and whether
//! the trace is sampled; the callee parses it and continues the trace instead of starting
//! a new one. A header that does not parse must be ignored (the callee starts a new trace),
//! never half-trusted, so the parser is strict exactly where the spec is:
//! - lowercase hex only; the version `ff` is invalid;
//! - an all-zero trace-id or parent-id is invalid;
//! - version `00` is exactly 55 characters;
//! - a higher (future) version is parsed by its first four fields, and whatever follows
//!   must start with `-` (§3.2.4, "versioning of traceparent").
//!
//! Flags: bit 0 is `sampled`; other bits are kept as received (§3.2.2.5) but mean nothing
//! to version 00.

/// A parsed `traceparent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    pub version: u8,
    pub trace_id: u128,
    pub parent_id: u64,
    pub flags: u8,
}

/// The `sampled` bit of `trace-flags`.
pub const SAMPLED: u8 = 0x01;

/// Why a header was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    Length,
    Delimiter,
    Hex,
    ForbiddenVersion,
    ZeroTraceId,
    ZeroParentId,
}

impl TraceParent {
    /// A version-00 header for `trace_id`, with `parent_id` as the caller's span.
    pub fn new(trace_id: u128, parent_id: u64, sampled: bool) -> TraceParent {
        TraceParent { version: 0, trace_id, parent_id, flags: if sampled { SAMPLED } else { 0 } }
    }

    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The same trace, as seen by a child: `span` becomes the parent id, flags carry over
    /// (a service forwards what it received, it does not re-decide sampling).
    pub fn child(&self, span: u64) -> TraceParent {
        TraceParent { parent_id: span, version: 0, ..*self }
    }

    /// The header value, always written as version 00 (§3.2: "vendors MUST … send
    /// the version they support", and the only one defined is 00).
    pub fn format(&self) -> String {
        format!("00-{:032x}-{:016x}-{:02x}", self.trace_id, self.parent_id, self.flags)
    }

    /// Parses a header value (surrounding whitespace is the HTTP layer's business, and
    /// is refused here).
    pub fn parse(s: &str) -> Result<TraceParent, ParseError> {
        let b = s.as_bytes();
        if b.len() < 55 {
            return Err(ParseError::Length);
        }
        let version = hex_field(&b[0..2])? as u8;
        if version == 0xff {
            return Err(ParseError::ForbiddenVersion);
        }
        if version == 0 && b.len() != 55 {
            return Err(ParseError::Length);
        }
        if version > 0 && b.len() > 55 && b[55] != b'-' {
            return Err(ParseError::Delimiter);
        }
        if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return Err(ParseError::Delimiter);
        }
        let trace_id = hex_field(&b[3..35])?;
        let parent_id = hex_field(&b[36..52])? as u64;
        let flags = hex_field(&b[53..55])? as u8;
        if trace_id == 0 {
            return Err(ParseError::ZeroTraceId);
        }
        if parent_id == 0 {
            return Err(ParseError::ZeroParentId);
        }
        Ok(TraceParent { version, trace_id, parent_id, flags })
    }
}

/// Lowercase hex digits (at most 32) as a number.
fn hex_field(digits: &[u8]) -> Result<u128, ParseError> {
    let mut v: u128 = 0;
    for &d in digits {
        let x = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return Err(ParseError::Hex),
        };
        v = (v << 4) | u128::from(x);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    /// The examples of the spec, §3.2.2 ("traceparent header field values").
    #[test]
    fn the_specs_examples() {
        let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(tp.version, 0);
        assert_eq!(tp.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(tp.parent_id, 0x00f067aa0ba902b7);
        assert!(tp.sampled());
        assert_eq!(tp.format(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        let not = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap();
        assert!(!not.sampled());
        // §3.2.2.3 / §3.2.2.4: all-zero ids are invalid.
        assert_eq!(
            TraceParent::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            Err(ParseError::ZeroTraceId)
        );
        assert_eq!(
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
            Err(ParseError::ZeroParentId)
        );
    }

    #[test]
    fn refuses_what_the_spec_refuses() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        // Uppercase hex, a forbidden version, a wrong delimiter, extra or missing characters.
        assert_eq!(TraceParent::parse(&ok.to_uppercase()), Err(ParseError::Hex));
        assert_eq!(TraceParent::parse(&ok.replacen("00", "ff", 1)), Err(ParseError::ForbiddenVersion));
        assert_eq!(TraceParent::parse(&ok.replacen('-', "_", 1)), Err(ParseError::Delimiter));
        assert_eq!(TraceParent::parse(&format!("{ok}-extra")), Err(ParseError::Length));
        assert_eq!(TraceParent::parse(&ok[..54]), Err(ParseError::Length));
        assert_eq!(TraceParent::parse(""), Err(ParseError::Length));
        // A future version may carry more fields after a dash; a version-00 header may not.
        let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds";
        let tp = TraceParent::parse(future).unwrap();
        assert_eq!((tp.version, tp.parent_id), (0xcc, 0x00f067aa0ba902b7));
        assert_eq!(tp.child(7).format(), "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000007-01");
        assert_eq!(
            TraceParent::parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.what"),
            Err(ParseError::Delimiter)
        );
    }

    /// Round trip against an independent formatter (each field printed on its own).
    #[test]
    fn round_trips_random_headers() {
        let mut rng = Prng::new(7);
        for _ in 0..2_000 {
            let trace = (u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())).max(1);
            let parent = rng.next_u64().max(1);
            let flags = (rng.next_u64() & 0xff) as u8;
            let tp = TraceParent { version: 0, trace_id: trace, parent_id: parent, flags };
            let text = tp.format();
            let twin = format!("00-{}-{}-{}", hex(trace.to_be_bytes()), hex(parent.to_be_bytes()), hex([flags]));
            assert_eq!(text, twin);
            assert_eq!(TraceParent::parse(&text), Ok(tp));
            assert_eq!(tp.sampled(), flags & 1 == 1);
        }
    }

    fn hex<const N: usize>(bytes: [u8; N]) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        bytes.iter().flat_map(|b| [DIGITS[(b >> 4) as usize] as char, DIGITS[(b & 15) as usize] as char]).collect()
    }
}
