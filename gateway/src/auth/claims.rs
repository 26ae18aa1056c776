//! Quasm's own claims: turning a verified payload into a [`Principal`], and
//! the payload [`super::JwtSigner`] writes.
//!
//! The payload is read as a plain JSON map rather than a typed struct so each
//! problem gets its own precise error instead of a generic serde message.
//! Time, issuer and audience claims are checked by `jsonwebtoken` before this
//! runs.

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{excerpt, AuthError};
use super::role::{Principal, Role};

/// Tenant ids: `^[a-z0-9][a-z0-9_-]{0,62}$`, the rule the controller and the
/// database apply to tenant and function names.
pub fn is_valid_tenant_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Checks `tenant`, failing with [`AuthError::InvalidTenant`].
pub(crate) fn check_tenant(tenant: &str) -> Result<(), AuthError> {
    if is_valid_tenant_id(tenant) {
        Ok(())
    } else {
        Err(AuthError::InvalidTenant(excerpt(tenant)))
    }
}

/// Builds the principal from a payload whose signature and time claims have
/// already been verified.
///
/// Roles come from `roles` (an array of names, or one name as a string) and
/// from `role` (one name); both may be present. A token without roles is
/// valid but authorizes nothing, as [`Principal::has`] is false for it.
///
/// Permissions come from the claim `permissions_claim` (an array of strings,
/// or one string) and pass through untouched.
pub(crate) fn principal_from_claims(
    claims: &Map<String, Value>,
    permissions_claim: &str,
) -> Result<Principal, AuthError> {
    // Tokens without an expiry would be valid forever. (Its value was checked
    // by jsonwebtoken already; only presence is left.)
    if present(claims, "exp").is_none() {
        return Err(AuthError::MissingClaim("exp".into()));
    }
    let subject = required_string(claims, "sub")?;
    if subject.is_empty() {
        return Err(invalid("sub", "must not be empty"));
    }
    let tenant = required_string(claims, "tenant")?;
    check_tenant(tenant)?;
    if let Some(iat) = present(claims, "iat") {
        if !iat.is_number() {
            return Err(invalid("iat", "must be a NumericDate (seconds since the epoch)"));
        }
    }

    let mut roles = Vec::new();
    match present(claims, "roles") {
        None => {}
        Some(Value::String(name)) => roles.push(name.parse::<Role>()?),
        Some(Value::Array(items)) => {
            for item in items {
                let name = item.as_str().ok_or_else(|| invalid("roles", "must be an array of role names"))?;
                roles.push(name.parse::<Role>()?);
            }
        }
        Some(_) => return Err(invalid("roles", "must be an array of role names")),
    }
    match present(claims, "role") {
        None => {}
        Some(Value::String(name)) => roles.push(name.parse::<Role>()?),
        Some(_) => return Err(invalid("role", "must be a role name")),
    }
    let mut unique = Vec::with_capacity(roles.len());
    for role in roles {
        if !unique.contains(&role) {
            unique.push(role);
        }
    }

    let permissions = match present(claims, permissions_claim) {
        None => Vec::new(),
        Some(Value::String(p)) => vec![p.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid(permissions_claim, "must be an array of strings"))?,
        Some(_) => return Err(invalid(permissions_claim, "must be an array of strings")),
    };

    Ok(Principal { tenant: tenant.to_owned(), subject: subject.to_owned(), roles: unique, permissions })
}

/// The payload of tokens Quasm signs itself.
#[derive(Serialize)]
pub(crate) struct SignedClaims<'a> {
    pub sub: &'a str,
    pub tenant: &'a str,
    pub roles: &'a [Role],
    pub iat: u64,
    pub exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<&'a str>,
}

/// A claim's value, treating JSON `null` as absent.
fn present<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    claims.get(name).filter(|v| !v.is_null())
}

fn required_string<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, AuthError> {
    match present(claims, name) {
        None => Err(AuthError::MissingClaim(name.to_owned())),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(name, "must be a string")),
    }
}

fn invalid(claim: &str, reason: &str) -> AuthError {
    AuthError::InvalidClaim { claim: claim.to_owned(), reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Parses `v` with a far-future `exp` added.
    fn parse(v: Value) -> Result<Principal, AuthError> {
        let mut claims = v.as_object().unwrap().clone();
        claims.insert("exp".into(), json!(4_102_444_800u64));
        principal_from_claims(&claims, "permissions")
    }

    #[test]
    fn exp_is_required() {
        let claims = json!({"sub": "u", "tenant": "t", "exp": null});
        let e = principal_from_claims(claims.as_object().unwrap(), "permissions").unwrap_err();
        assert!(matches!(&e, AuthError::MissingClaim(c) if c == "exp"), "{e}");
    }

    #[test]
    fn tenant_ids() {
        for ok in ["a", "0", "acme", "acme-prod_2", &"a".repeat(63)] {
            assert!(is_valid_tenant_id(ok), "{ok}");
        }
        for bad in ["", "-a", "_a", "Acme", "a.b", "a b", "ä", &"a".repeat(64)] {
            assert!(!is_valid_tenant_id(bad), "{bad}");
        }
    }

    #[test]
    fn reads_roles_array_single_string_and_role() {
        let p = parse(json!({"sub": "u", "tenant": "t", "roles": ["viewer", "admin", "viewer"]})).unwrap();
        assert_eq!(p.roles, vec![Role::Viewer, Role::Admin]);
        let p = parse(json!({"sub": "u", "tenant": "t", "role": "operator"})).unwrap();
        assert_eq!(p.roles, vec![Role::Operator]);
        let p = parse(json!({"sub": "u", "tenant": "t", "roles": "developer", "role": "viewer"})).unwrap();
        assert_eq!(p.roles, vec![Role::Developer, Role::Viewer]);
        let p = parse(json!({"sub": "u", "tenant": "t"})).unwrap();
        assert!(p.roles.is_empty());
    }

    #[test]
    fn precise_errors() {
        let e = parse(json!({"tenant": "t"})).unwrap_err();
        assert!(matches!(&e, AuthError::MissingClaim(c) if c == "sub"), "{e}");
        assert_eq!(e.to_string(), "missing claim sub");
        let e = parse(json!({"sub": "u", "tenant": null})).unwrap_err();
        assert!(matches!(&e, AuthError::MissingClaim(c) if c == "tenant"), "{e}");
        let e = parse(json!({"sub": 7, "tenant": "t"})).unwrap_err();
        assert!(matches!(&e, AuthError::InvalidClaim { claim, .. } if claim == "sub"), "{e}");
        let e = parse(json!({"sub": "", "tenant": "t"})).unwrap_err();
        assert!(matches!(&e, AuthError::InvalidClaim { claim, .. } if claim == "sub"), "{e}");
        let e = parse(json!({"sub": "u", "tenant": ""})).unwrap_err();
        assert!(matches!(&e, AuthError::InvalidTenant(t) if t.is_empty()), "{e}");
        let e = parse(json!({"sub": "u", "tenant": "t", "roles": ["viewer", "root"]})).unwrap_err();
        assert!(matches!(&e, AuthError::UnknownRole(r) if r.name() == "root"), "{e}");
        let e = parse(json!({"sub": "u", "tenant": "t", "roles": [1]})).unwrap_err();
        assert!(matches!(&e, AuthError::InvalidClaim { claim, .. } if claim == "roles"), "{e}");
        let e = parse(json!({"sub": "u", "tenant": "t", "role": ["admin"]})).unwrap_err();
        assert!(matches!(&e, AuthError::InvalidClaim { claim, .. } if claim == "role"), "{e}");
        let e = parse(json!({"sub": "u", "tenant": "t", "iat": "yesterday"})).unwrap_err();
        assert!(matches!(&e, AuthError::InvalidClaim { claim, .. } if claim == "iat"), "{e}");
    }
}
