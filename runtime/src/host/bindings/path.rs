//! Joining a guest-supplied path below a binding's base URL, refusing every
//! way out of it: `..` and `.` segments (also percent-encoded), encoded
//! slashes and backslashes, absolute and protocol-relative URLs, and
//! anything the URL parser would rewrite into another place.

use url::Url;

/// Why a path was refused. Shown to the function as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path must start with \"/\" (it is joined below the binding's URL), got {0:?}")]
    NotRelative(String),
    #[error("the path must not start with \"//\" (a URL of another host), got {0:?}")]
    ProtocolRelative(String),
    #[error("the path must not contain a backslash, got {0:?}")]
    Backslash(String),
    #[error("the path must not contain \".\" or \"..\" segments (plain or percent-encoded), got {0:?}")]
    DotSegment(String),
    #[error("the path must not contain an encoded \"/\" or \"\\\" (%2F, %5C), got {0:?}")]
    EncodedSeparator(String),
    #[error("the path must not contain control characters, spaces or an encoded NUL, got {0:?}")]
    ControlCharacter(String),
    #[error("the path must not contain a fragment (#...), got {0:?}")]
    Fragment(String),
    #[error("the path {0:?} does not stay below the binding's URL")]
    Escapes(String),
}

/// `base` joined with `path` (`/clients?limit=5`): the result always has
/// the base's origin and starts with the base's path.
pub fn join(base: &Url, path: &str) -> Result<Url, PathError> {
    let own = || path.to_owned();
    if !path.starts_with('/') {
        return Err(PathError::NotRelative(own()));
    }
    if path.starts_with("//") {
        return Err(PathError::ProtocolRelative(own()));
    }
    if path.contains('\\') {
        return Err(PathError::Backslash(own()));
    }
    if path.contains('#') {
        return Err(PathError::Fragment(own()));
    }
    if path.chars().any(|c| c.is_control() || c == ' ') {
        return Err(PathError::ControlCharacter(own()));
    }
    let (route, _query) = path.split_once('?').unwrap_or((path, ""));
    let lower = route.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") {
        return Err(PathError::EncodedSeparator(own()));
    }
    if lower.contains("%00") {
        return Err(PathError::ControlCharacter(own()));
    }
    // Segments are compared after decoding the dot (`%2e`), as URL parsers
    // and many servers do.
    if lower.split('/').any(|seg| matches!(seg.replace("%2e", ".").as_str(), "." | "..")) {
        return Err(PathError::DotSegment(own()));
    }
    let prefix = base.path().trim_end_matches('/');
    let mut joined = base.clone();
    joined.set_query(None);
    joined.set_fragment(None);
    let full = format!("{}{prefix}{path}", &joined[..url::Position::BeforePath]);
    let url = Url::parse(&full).map_err(|_| PathError::Escapes(own()))?;
    if !below(base, &url) {
        return Err(PathError::Escapes(own()));
    }
    Ok(url)
}

/// Whether `url` has `base`'s origin and lies at or below its path: also
/// how redirects are judged.
pub fn below(base: &Url, url: &Url) -> bool {
    let prefix = base.path().trim_end_matches('/');
    let path = url.path();
    url.origin() == base.origin()
        && url.username() == base.username()
        && url.password() == base.password()
        && path.starts_with(prefix)
        && (path.len() == prefix.len() || path.as_bytes()[prefix.len()] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:9000/api/v1/").unwrap()
    }

    #[test]
    fn joins_below_the_base() {
        assert_eq!(
            join(&base(), "/clients?limit=100").unwrap().as_str(),
            "http://127.0.0.1:9000/api/v1/clients?limit=100"
        );
        assert_eq!(join(&base(), "/").unwrap().as_str(), "http://127.0.0.1:9000/api/v1/");
        assert_eq!(join(&base(), "/a%20b/c.json").unwrap().as_str(), "http://127.0.0.1:9000/api/v1/a%20b/c.json");
        // Dots in a query are data, not segments.
        assert!(join(&base(), "/x?next=../..").is_ok());
        let root = Url::parse("http://h.example").unwrap();
        assert_eq!(join(&root, "/x").unwrap().as_str(), "http://h.example/x");
    }

    #[test]
    fn refuses_every_escape() {
        type Expect = fn(&PathError) -> bool;
        let cases: &[(&str, Expect)] = &[
            ("clients", |e| matches!(e, PathError::NotRelative(_))),
            ("http://evil.example/x", |e| matches!(e, PathError::NotRelative(_))),
            ("//evil.example/x", |e| matches!(e, PathError::ProtocolRelative(_))),
            ("/\\evil.example", |e| matches!(e, PathError::Backslash(_))),
            ("/../admin", |e| matches!(e, PathError::DotSegment(_))),
            ("/a/../../admin", |e| matches!(e, PathError::DotSegment(_))),
            ("/./x", |e| matches!(e, PathError::DotSegment(_))),
            ("/%2e%2e/admin", |e| matches!(e, PathError::DotSegment(_))),
            ("/%2E./admin", |e| matches!(e, PathError::DotSegment(_))),
            ("/.%2e", |e| matches!(e, PathError::DotSegment(_))),
            ("/a%2f..%2fadmin", |e| matches!(e, PathError::EncodedSeparator(_))),
            ("/a%5C..", |e| matches!(e, PathError::EncodedSeparator(_))),
            ("/a%00", |e| matches!(e, PathError::ControlCharacter(_))),
            ("/a\nb", |e| matches!(e, PathError::ControlCharacter(_))),
            ("/a#frag", |e| matches!(e, PathError::Fragment(_))),
            ("", |e| matches!(e, PathError::NotRelative(_))),
        ];
        for (path, ok) in cases {
            let e = join(&base(), path).unwrap_err();
            assert!(ok(&e), "{path:?}: {e:?}");
        }
    }

    #[test]
    fn redirects_are_judged_by_origin_and_prefix() {
        let b = base();
        assert!(below(&b, &Url::parse("http://127.0.0.1:9000/api/v1/x").unwrap()));
        assert!(below(&b, &Url::parse("http://127.0.0.1:9000/api/v1").unwrap()));
        assert!(!below(&b, &Url::parse("http://127.0.0.1:9000/api/v10").unwrap()));
        assert!(!below(&b, &Url::parse("http://127.0.0.1:9000/admin").unwrap()));
        assert!(!below(&b, &Url::parse("http://127.0.0.1:9001/api/v1/x").unwrap()));
        assert!(!below(&b, &Url::parse("https://127.0.0.1:9000/api/v1/x").unwrap()));
        assert!(!below(&b, &Url::parse("http://u:p@127.0.0.1:9000/api/v1/x").unwrap()));
    }
}
