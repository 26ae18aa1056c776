//! Extracting the token from an `Authorization` header value.

use super::error::{excerpt, AuthError};

/// The token in `Bearer <token>` (RFC 6750 §2.1; the scheme is
/// case-insensitive, surrounding spaces are ignored).
///
/// Errors never echo the credential: a value that does not even look like
/// `scheme credentials` is reported without quoting it, as it may be a bare
/// token pasted without its scheme.
pub fn bearer(header: &str) -> Result<&str, AuthError> {
    let is_space = |c: char| c == ' ' || c == '\t';
    let value = header.trim_matches(is_space);
    if value.is_empty() {
        return Err(AuthError::MissingCredentials);
    }
    let (scheme, rest) = match value.find(is_space) {
        Some(i) => (&value[..i], value[i..].trim_start_matches(is_space)),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        let plausible_scheme = scheme.len() <= 32 && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        return Err(if plausible_scheme && !rest.is_empty() {
            AuthError::UnsupportedScheme(excerpt(scheme))
        } else {
            AuthError::MalformedHeader("expected \"Bearer <token>\"")
        });
    }
    if rest.is_empty() {
        return Err(AuthError::MalformedHeader("no token after \"Bearer\""));
    }
    if rest.contains(char::is_whitespace) {
        return Err(AuthError::MalformedHeader("the bearer token contains whitespace"));
    }
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bearer_in_any_case() {
        assert_eq!(bearer("Bearer abc.def.ghi").unwrap(), "abc.def.ghi");
        assert_eq!(bearer("bearer abc").unwrap(), "abc");
        assert_eq!(bearer("BEARER  \tabc  ").unwrap(), "abc");
    }

    #[test]
    fn clear_errors() {
        assert!(matches!(bearer(""), Err(AuthError::MissingCredentials)));
        assert!(matches!(bearer("   "), Err(AuthError::MissingCredentials)));
        let e = bearer("Basic dXNlcjpwYXNz").unwrap_err();
        assert!(matches!(&e, AuthError::UnsupportedScheme(s) if s == "Basic"), "{e}");
        assert_eq!(e.to_string(), "unsupported authorization scheme \"Basic\": expected \"Bearer <token>\"");
        assert!(!e.to_string().contains("dXNlcjpwYXNz"));
        assert!(matches!(bearer("Bearer"), Err(AuthError::MalformedHeader(_))));
        assert!(matches!(bearer("Bearer   "), Err(AuthError::MalformedHeader(_))));
        assert!(matches!(bearer("Bearer a b"), Err(AuthError::MalformedHeader(_))));
        // A bare token is not echoed back.
        let e = bearer("eyJhbGciOiJIUzI1NiJ9.e30.sig").unwrap_err();
        assert!(matches!(e, AuthError::MalformedHeader(_)));
        assert!(!e.to_string().contains("eyJ"));
        assert_eq!(e.code(), "invalid_authorization_header");
    }
}
