//! Every way authentication can fail. Messages reach API clients and
//! operators, so each says exactly what is wrong; `code()` gives a stable
//! machine-readable name for clients and metrics.
//!
//! No variant carries key material. Values copied from a token (tenant, role,
//! kid, alg) are shortened and `{:?}`-quoted so a hostile token cannot flood
//! or forge log lines.

use std::path::PathBuf;

use thiserror::Error;

use super::role::{ParseRoleError, Role};

/// Why a credential, token or key was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AuthError {
    // --- The Authorization header.
    /// The header is absent or blank.
    #[error("missing credentials: send \"Authorization: Bearer <token>\"")]
    MissingCredentials,
    /// A scheme other than Bearer (e.g. Basic).
    #[error("unsupported authorization scheme {0:?}: expected \"Bearer <token>\"")]
    UnsupportedScheme(String),
    /// The header is not of the form `Bearer <token>`.
    #[error("malformed Authorization header: {0}")]
    MalformedHeader(&'static str),

    // --- Token structure, algorithm and signature.
    /// Not a well-formed JWS compact token.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// `alg: none` (unsigned) tokens are never accepted.
    #[error("algorithm none is not accepted")]
    AlgorithmNone,
    /// An `alg` this gateway does not implement.
    #[error("unsupported token algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The token's `alg` does not belong to any key that could check it: the
    /// key decides the algorithm, never the token.
    #[error("token algorithm {0} is not accepted for this key")]
    AlgorithmNotAccepted(String),
    /// The token names a `kid` that no configured key has.
    #[error("unknown key id {0:?}")]
    UnknownKeyId(String),
    /// No candidate key produced this signature.
    #[error("signature does not match")]
    SignatureMismatch,

    // --- Claims.
    /// `exp` is in the past (beyond the configured leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the configured leeway).
    #[error("token not yet valid (nbf is in the future)")]
    NotYetValid,
    /// `iss` differs from the configured issuer.
    #[error("issuer mismatch: expected {0:?}")]
    IssuerMismatch(String),
    /// `aud` does not contain the configured audience.
    #[error("audience mismatch: expected {0:?}")]
    AudienceMismatch(String),
    /// A required claim is absent (or null).
    #[error("missing claim {0}")]
    MissingClaim(String),
    /// A claim is present but has the wrong type or value.
    #[error("invalid claim {claim}: {reason}")]
    InvalidClaim { claim: String, reason: String },
    /// The `tenant` claim is not a valid tenant id.
    #[error("invalid tenant id {0:?}: use 1-63 characters a-z, 0-9, '_' and '-', starting with a letter or digit")]
    InvalidTenant(String),
    /// A role name outside [`Role`].
    #[error(transparent)]
    UnknownRole(#[from] ParseRoleError),

    // --- Authorization.
    /// Authenticated, but no role reaches the one needed.
    #[error("forbidden: role {0} or higher is required")]
    Forbidden(Role),

    // --- Configuration and key material (operator-facing).
    /// A verifier with nothing to verify against would reject everything.
    #[error("no JWT verification key configured: set an HS256 secret, public key PEM files or a JWKS file")]
    NoKeys,
    /// RFC 7518 §3.2: an HS256 key must be at least as long as the hash.
    #[error("HS256 secret is too short: {0} bytes, at least 32 are required")]
    WeakSecret(usize),
    /// A key file could not be read or written.
    #[error("cannot {action} {path}: {error}")]
    Io { action: &'static str, path: PathBuf, error: std::io::Error },
    /// A key file was read but does not hold a usable key.
    #[error("invalid key in {path}: {reason}")]
    InvalidKey { path: PathBuf, reason: String },
    /// Other configuration mistakes (empty issuer, absurd leeway, bad TTL).
    #[error("invalid auth configuration: {0}")]
    Config(String),
    /// Encoding a token failed.
    #[error("cannot sign token: {0}")]
    Signing(String),
}

impl AuthError {
    /// A stable machine code for API responses and metrics; unlike the
    /// message, it never changes wording.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::UnsupportedScheme(_) => "unsupported_scheme",
            Self::MalformedHeader(_) => "invalid_authorization_header",
            Self::Malformed(_) => "invalid_token",
            Self::AlgorithmNone | Self::UnsupportedAlgorithm(_) | Self::AlgorithmNotAccepted(_) => {
                "algorithm_not_accepted"
            }
            Self::UnknownKeyId(_) => "unknown_key_id",
            Self::SignatureMismatch => "invalid_signature",
            Self::Expired => "token_expired",
            Self::NotYetValid => "token_not_yet_valid",
            Self::IssuerMismatch(_) => "invalid_issuer",
            Self::AudienceMismatch(_) => "invalid_audience",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidClaim { .. } => "invalid_claim",
            Self::InvalidTenant(_) => "invalid_tenant",
            Self::UnknownRole(_) => "unknown_role",
            Self::Forbidden(_) => "forbidden",
            Self::NoKeys | Self::WeakSecret(_) | Self::Config(_) => "auth_config",
            Self::Io { .. } => "key_file_io",
            Self::InvalidKey { .. } => "invalid_key",
            Self::Signing(_) => "signing_failed",
        }
    }

    /// The HTTP status this error maps to: 401 for a bad or missing
    /// credential, 403 for a valid one lacking a role, 500 for server-side
    /// key or configuration problems.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Forbidden(_) => 403,
            Self::NoKeys
            | Self::WeakSecret(_)
            | Self::Io { .. }
            | Self::InvalidKey { .. }
            | Self::Config(_)
            | Self::Signing(_) => 500,
            _ => 401,
        }
    }
}

/// At most this many characters of a token-supplied value go into a message.
const EXCERPT_CHARS: usize = 64;

/// Shortens an untrusted value for inclusion in an error message.
pub(crate) fn excerpt(value: &str) -> String {
    match value.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_short_values_and_cuts_long_ones() {
        assert_eq!(excerpt("acme"), "acme");
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn codes_and_statuses() {
        assert_eq!(AuthError::Expired.code(), "token_expired");
        assert_eq!(AuthError::Malformed("x".into()).code(), "invalid_token");
        assert_eq!(AuthError::Expired.http_status(), 401);
        assert_eq!(AuthError::Forbidden(Role::Admin).http_status(), 403);
        assert_eq!(AuthError::NoKeys.http_status(), 500);
        assert_eq!(AuthError::Forbidden(Role::Operator).to_string(), "forbidden: role operator or higher is required");
    }
}
