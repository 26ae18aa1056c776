//! Stricter decoding of nested request objects. Serde's derived structs
//! also accept a JSON array and read it by position (`"limits": [1000, 64]`
//! would mean timeout 1000, memory 64); request bodies are objects with
//! named fields, so these helpers refuse anything but an object while
//! keeping the error paths `serde_path_to_error` reports (`limits.memory_mb`).
//!
//! Use with `#[serde(deserialize_with = "...")]` on fields of struct type.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

/// A struct-typed field that must be a JSON object.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(ObjectVisitor(PhantomData))
}

struct OptionVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for OptionVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        object(d).map(Some)
    }
}

/// An optional struct-typed field: absent or `null`, else an object.
/// Needs `#[serde(default)]` beside it.
pub fn option_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_option(OptionVisitor(PhantomData))
}

/// One element of a list of objects.
struct Element<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Element<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Element)
    }
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
        let items: Vec<Element<T>> = Deserialize::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(items.into_iter().map(|e| e.0).collect())
    }
}

/// A list whose every element must be a JSON object.
pub fn list_of_objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(ListVisitor(PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        a: u32,
        #[serde(default)]
        b: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[serde(deserialize_with = "super::object")]
        required: Inner,
        #[serde(default, deserialize_with = "super::option_object")]
        optional: Option<Inner>,
        #[serde(default, deserialize_with = "super::list_of_objects")]
        list: Vec<Inner>,
    }

    fn parse(s: &str) -> Result<Outer, String> {
        let de = &mut serde_json::Deserializer::from_str(s);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            format!("{path}: {}", e.into_inner())
        })
    }

    #[test]
    fn objects_are_accepted_and_arrays_refused() {
        let o = parse(r#"{"required": {"a": 1}, "optional": {"a": 2, "b": 3}, "list": [{"a": 4}]}"#).unwrap();
        assert_eq!(
            (o.required, o.optional, o.list),
            (Inner { a: 1, b: 0 }, Some(Inner { a: 2, b: 3 }), vec![Inner { a: 4, b: 0 }])
        );
        let o = parse(r#"{"required": {"a": 1}, "optional": null}"#).unwrap();
        assert_eq!(o.optional, None);
        let e = parse(r#"{"required": [1, 2]}"#).unwrap_err();
        assert!(e.starts_with("required: invalid type: sequence, expected an object"), "{e}");
        let e = parse(r#"{"required": {"a": 1}, "optional": []}"#).unwrap_err();
        assert!(e.starts_with("optional: invalid type: sequence, expected an object"), "{e}");
        let e = parse(r#"{"required": {"a": 1}, "list": [[4]]}"#).unwrap_err();
        assert!(e.contains("expected an object"), "{e}");
        assert!(e.starts_with("list[0]"), "{e}");
    }

    #[test]
    fn nested_errors_keep_their_path() {
        let e = parse(r#"{"required": {"a": "x"}}"#).unwrap_err();
        assert!(e.starts_with("required.a: invalid type"), "{e}");
        let e = parse(r#"{"required": {"a": 1, "c": 1}}"#).unwrap_err();
        assert!(e.starts_with("required.c") || e.starts_with("required: unknown field"), "{e}");
    }
}
