//! The link codec: `ScenarioSpec` ⇄ a short URL-safe string.
//!
//! Format: `v2.` + base64url (no padding) of raw DEFLATE of the spec's JSON + `.` + a
//! six-character checksum (base64url of the top 32 bits of the FNV-1a 64 hash of
//! everything before the last dot). The checksum turns a mistyped or truncated link into a
//! clear error instead of a silently different scenario (a deflate stream survives many
//! one-character edits). `v1.` links — the same without the checksum — still decode. The
//! prefix names the *codec* version so a future codec can change the container without
//! ambiguity; the spec inside carries its own schema version. Decoding is defensive in
//! layers, each with a hard cap applied before any work: link length, then decoded bytes,
//! then inflated bytes (`decompress_to_vec_with_limit`), then JSON (serde_json's recursion
//! limit), then validation against the catalog. A hostile link costs at most a few
//! hundred kilobytes and a clear error.

use super::spec::{ScenarioSpec, SPEC_VERSION};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::fmt;

/// Longest link accepted (characters after any `#...?`), checked before decoding.
pub const MAX_LINK_CHARS: usize = 8_192;
/// Most bytes a link may inflate to.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
const PREFIX: &str = "v2.";
/// The first codec: no checksum. Still decoded, never written.
const PREFIX_V1: &str = "v1.";
const CHECKSUM_CHARS: usize = 6;

/// Everything that can be wrong with a link, each with a message a user can act on.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkError {
    Empty,
    TooLong { chars: usize },
    UnknownCodec { prefix: String },
    NotBase64 { at: usize },
    Corrupt,
    TooBig,
    NotUtf8,
    NotJson { line: usize, column: usize, reason: String },
    TooNew { version: u32 },
    NoVersion,
    BadVersion,
    Checksum,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Empty => write!(f, "the link holds no scenario"),
            LinkError::TooLong { chars } => {
                write!(f, "the link is {chars} characters long; scenario links are at most {MAX_LINK_CHARS}")
            }
            LinkError::UnknownCodec { prefix } => write!(
                f,
                "the link starts with {prefix:?}, which this version of sdlab does not know (expected \"v2.\" or \"v1.\"); it may come from a newer sdlab"
            ),
            LinkError::NotBase64 { at } => {
                write!(f, "the link is damaged: character {at} is not valid base64url (was it cut or edited?)")
            }
            LinkError::Corrupt => write!(f, "the link is damaged: its compressed data does not decode (was it cut short?)"),
            LinkError::TooBig => write!(f, "the link expands to more than {} KiB; refusing to read it", MAX_JSON_BYTES / 1024),
            LinkError::NotUtf8 => write!(f, "the link decodes to bytes that are not text"),
            LinkError::NotJson { line: 0, reason, .. } => write!(f, "the link's scenario is not valid: {reason}"),
            LinkError::NotJson { line, column, reason } => {
                write!(f, "the link's scenario is not valid (line {line}, column {column}): {reason}")
            }
            LinkError::Checksum => {
                write!(f, "the link is damaged: its checksum does not match (was a character changed, added or cut?)")
            }
            LinkError::NoVersion => write!(
                f,
                "the scenario has no \"version\" field; sdlab scenarios start with \"version\": {SPEC_VERSION}"
            ),
            LinkError::BadVersion => write!(
                f,
                "the scenario's \"version\" must be a whole number from 1 to {SPEC_VERSION}; sdlab has never written version 0"
            ),
            LinkError::TooNew { version } => write!(
                f,
                "the scenario has version {version}, newer than this sdlab understands ({SPEC_VERSION}); update sdlab to open it"
            ),
        }
    }
}

impl std::error::Error for LinkError {}

/// Encodes a spec as a link. Use [`try_encode`] where the spec may be larger than a link
/// can carry (decoding would refuse the result).
pub fn encode(spec: &ScenarioSpec) -> String {
    seal(spec.to_json().as_bytes())
}

/// Encodes a spec, refusing — with the very message decoding would give — a scenario whose
/// JSON or link is past the caps [`decode`] enforces.
pub fn try_encode(spec: &ScenarioSpec) -> Result<String, LinkError> {
    // In the order `decode` checks: the link's length first, then what it expands to.
    let json = spec.to_json();
    let link = seal(json.as_bytes());
    if link.len() > MAX_LINK_CHARS {
        return Err(LinkError::TooLong { chars: link.chars().count() });
    }
    if json.len() > MAX_JSON_BYTES {
        return Err(LinkError::TooBig);
    }
    Ok(link)
}

fn seal(json: &[u8]) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(json, 9);
    let body = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(packed));
    let sum = checksum(&body);
    format!("{body}.{sum}")
}

/// FNV-1a 64 (Fowler, Noll, Vo; offset basis 0xcbf29ce484222325, prime 0x100000001b3) of
/// the text, its top 32 bits as six base64url characters.
fn checksum(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    URL_SAFE_NO_PAD.encode(((h >> 32) as u32).to_be_bytes())
}

/// Decodes a link (or a full URL whose query is a link) into a spec, without validating
/// it against a system.
pub fn decode(link: &str) -> Result<ScenarioSpec, LinkError> {
    let link = strip_url(link.trim());
    if link.is_empty() {
        return Err(LinkError::Empty);
    }
    if link.len() > MAX_LINK_CHARS {
        return Err(LinkError::TooLong { chars: link.chars().count() });
    }
    let (prefix, body) = if let Some(rest) = link.strip_prefix(PREFIX) {
        let Some((body, sum)) = rest.rsplit_once('.') else { return Err(LinkError::Checksum) };
        if sum.len() != CHECKSUM_CHARS || checksum(&link[..PREFIX.len() + body.len()]) != sum {
            return Err(LinkError::Checksum);
        }
        (PREFIX, body)
    } else if let Some(body) = link.strip_prefix(PREFIX_V1) {
        (PREFIX_V1, body)
    } else {
        let prefix: String = link.chars().take_while(|c| *c != '.').take(12).collect();
        return Err(LinkError::UnknownCodec { prefix });
    };
    if let Some(at) = body.bytes().position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_')) {
        return Err(LinkError::NotBase64 { at: at + prefix.len() });
    }
    let packed = URL_SAFE_NO_PAD.decode(body).map_err(|_| LinkError::NotBase64 { at: link.len() })?;
    let json =
        miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_JSON_BYTES).map_err(|e| match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => LinkError::TooBig,
            _ => LinkError::Corrupt,
        })?;
    let text = String::from_utf8(json).map_err(|_| LinkError::NotUtf8)?;
    parse_json(&text)
}

/// Parses a scenario from JSON (an imported file or a decoded link). Every spec sdlab ever
/// wrote carries `"version"` from 1 up; one without it, or with 0, was written by hand or
/// by something else, and is refused with a reason rather than guessed at. When a version 2
/// of the spec exists, its migration from 1 goes here.
pub fn parse_json(text: &str) -> Result<ScenarioSpec, LinkError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
    if let Some(obj) = value.as_object() {
        match obj.get("version") {
            None => return Err(LinkError::NoVersion),
            Some(v) => match v.as_u64() {
                Some(0) | None => return Err(LinkError::BadVersion),
                Some(n) if n > u64::from(SPEC_VERSION) => {
                    return Err(LinkError::TooNew { version: n.min(u64::from(u32::MAX)) as u32 })
                }
                Some(_) => {}
            },
        }
    }
    serde_json::from_value(value).map_err(json_error)
}

fn json_error(e: serde_json::Error) -> LinkError {
    LinkError::NotJson { line: e.line(), column: e.column(), reason: strip_position(&e.to_string()) }
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Accepts a whole URL (`…#/s/id?v1.xxx` or `…?v1.xxx`) as well as the bare link.
fn strip_url(link: &str) -> &str {
    match link.rfind('?') {
        Some(i) if link.contains("://") || link.starts_with('#') || link.starts_with('/') => &link[i + 1..],
        _ => link,
    }
}
