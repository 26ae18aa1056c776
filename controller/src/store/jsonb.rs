//! JSON stored faithfully in `jsonb` columns. Postgres refuses the NUL
//! character (`\u0000`) in `jsonb` strings, but what a function logs,
//! returns or is given may hold one (a binary request body logged as text,
//! say), and one such value must neither fail a write nor be altered.
//!
//! Strings (and object keys) that hold a NUL, or that begin with the marker
//! below, are stored as the marker followed by the string with NUL written
//! `ESC 0` and `ESC` written `ESC 1`; every other string is stored as is, so
//! `payload @> filter` still matches ordinary values. The marker and `ESC`
//! are Unicode noncharacters, which Postgres accepts.
//!
//! Write with [`Jsonb`] (borrowing) and read with [`JsonbOwned`]; both wrap
//! `serde_json::Value` and encode or decode on the way.

use std::borrow::Cow;
use std::error::Error;

use bytes::BytesMut;
use serde_json::{Map, Value};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

const MARKER: char = '\u{FDD0}';
const ESC: char = '\u{FDD1}';
const MARKER_UTF8: [u8; 3] = [0xEF, 0xB7, 0x90];

fn needs_encoding(s: &str) -> bool {
    s.contains('\0') || s.starts_with(MARKER)
}

fn encode_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    out.push(MARKER);
    for c in s.chars() {
        match c {
            '\0' => {
                out.push(ESC);
                out.push('0');
            }
            ESC => {
                out.push(ESC);
                out.push('1');
            }
            c => out.push(c),
        }
    }
    out
}

fn decode_str(s: &str) -> Option<String> {
    let rest = s.strip_prefix(MARKER)?;
    let mut out = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c == ESC {
            match chars.next() {
                Some('0') => out.push('\0'),
                Some('1') => out.push(ESC),
                // Not written by `encode_str`: keep what is there.
                Some(other) => {
                    out.push(ESC);
                    out.push(other);
                }
                None => out.push(ESC),
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn any_needs_encoding(v: &Value) -> bool {
    match v {
        Value::String(s) => needs_encoding(s),
        Value::Array(a) => a.iter().any(any_needs_encoding),
        Value::Object(m) => m.iter().any(|(k, v)| needs_encoding(k) || any_needs_encoding(v)),
        _ => false,
    }
}

fn encode_value(v: &Value) -> Value {
    match v {
        Value::String(s) if needs_encoding(s) => Value::String(encode_str(s)),
        Value::Array(a) => Value::Array(a.iter().map(encode_value).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (if needs_encoding(k) { encode_str(k) } else { k.clone() }, encode_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The value as it is stored: unchanged (borrowed) unless a string in it
/// needs encoding.
pub fn encode(v: &Value) -> Cow<'_, Value> {
    if any_needs_encoding(v) {
        Cow::Owned(encode_value(v))
    } else {
        Cow::Borrowed(v)
    }
}

/// The value as it was before [`encode`].
pub fn decode(v: Value) -> Value {
    match v {
        Value::String(s) => match decode_str(&s) {
            Some(d) => Value::String(d),
            None => Value::String(s),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(decode).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter().map(|(k, v)| (decode_str(&k).unwrap_or(k), decode(v))).collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

/// A JSON parameter written faithfully (see the module docs).
#[derive(Debug)]
pub struct Jsonb<'a>(pub &'a Value);

impl ToSql for Jsonb<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        encode(self.0).as_ref().to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <Value as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// Wraps an optional value for writing.
pub fn opt(v: &Option<Value>) -> Option<Jsonb<'_>> {
    v.as_ref().map(Jsonb)
}

/// A JSON column read back as it was written.
#[derive(Debug)]
pub struct JsonbOwned(pub Value);

impl<'a> FromSql<'a> for JsonbOwned {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        let v = Value::from_sql(ty, raw)?;
        // Only values that may hold encoded strings are walked.
        let marked = raw.windows(3).any(|w| w == MARKER_UTF8);
        Ok(JsonbOwned(if marked { decode(v) } else { v }))
    }

    fn accepts(ty: &Type) -> bool {
        <Value as FromSql>::accepts(ty)
    }
}

/// Reads a nullable JSON column.
pub fn get_opt(row: &tokio_postgres::Row, idx: usize) -> Option<Value> {
    row.get::<_, Option<JsonbOwned>>(idx).map(|j| j.0)
}

/// Reads a non-null JSON column.
pub fn get(row: &tokio_postgres::Row, idx: usize) -> Value {
    row.get::<_, JsonbOwned>(idx).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_every_awkward_string() {
        let values = [
            json!("a\0b"),
            json!({"k\0": ["\0", "\u{FDD0}x", "\u{FDD1}", "\u{FDD0}\u{FDD1}0\0", "plain"]}),
            json!(["\u{FDD1}0", "\u{FDD0}", 1, null, true, {"\u{FDD0}": "\0\0"}]),
        ];
        for v in values {
            let stored = encode(&v).into_owned();
            assert!(!stored.to_string().contains("\\u0000"), "no NUL reaches Postgres: {stored}");
            assert_eq!(decode(stored), v);
        }
    }

    #[test]
    fn the_marker_bytes_are_its_utf8() {
        let mut buf = [0u8; 4];
        assert_eq!(MARKER.encode_utf8(&mut buf).as_bytes(), MARKER_UTF8);
    }

    #[test]
    fn ordinary_values_are_stored_as_they_are() {
        let v = json!({"type": "order", "lines": [{"sku": "x", "qty": 2}], "note": "ünïcode \u{FDD1}"});
        assert!(matches!(encode(&v), Cow::Borrowed(_)));
        assert_eq!(decode(v.clone()), v);
    }
}
