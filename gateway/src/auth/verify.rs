//! Verifying bearer JWTs against the configured keys.
//!
//! Order of checks, so each failure gets the most useful error and nothing
//! about the claims is revealed before the signature holds:
//! 1. shape and header (`alg: none`, unknown algorithms, `crit`);
//! 2. key selection: by `kid` when the token names one we know, otherwise
//!    every key whose algorithm equals the token's `alg`. The key decides the
//!    algorithm; a token can only ask for one that some key already has;
//! 3. signature, then `exp`/`nbf`/`iss`/`aud` (by `jsonwebtoken`);
//! 4. Quasm's claims (`sub`, `tenant`, roles) in `claims.rs`.
//!
//! Header parameters that point at keys (`jwk`, `jku`, `x5u`, `x5c`) are
//! ignored: only keys from the configuration are ever used.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use super::claims::principal_from_claims;
use super::error::{excerpt, AuthError};
use super::keys::{self, VerifyKey};
use super::role::Principal;

/// A larger leeway would make `exp` meaningless (and the library's time
/// arithmetic overflow near `u64::MAX`).
pub const MAX_LEEWAY_SECS: u64 = 3600;
/// Longer tokens are refused before any parsing; real ones are < 2 KiB.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Where verification keys come from and which claims to insist on. At least
/// one key source must be set.
#[derive(Clone, Default)]
pub struct JwtConfig {
    /// Shared secret for HS256 (at least 32 bytes), e.g. from
    /// [`super::load_or_create_hs256_secret`].
    pub hs256_secret: Option<Vec<u8>>,
    /// PEM public keys, one per file: RSA → RS256, EC P-256 → ES256
    /// (also EC P-384 → ES384, Ed25519 → EdDSA).
    pub public_key_pems: Vec<PathBuf>,
    /// A JWKS document (`{"keys": [...]}`) of RSA/EC/OKP public keys.
    pub jwks_file: Option<PathBuf>,
    /// When set, `iss` must be present and equal.
    pub issuer: Option<String>,
    /// When set, `aud` must be present and contain it. When unset, `aud` is
    /// not checked.
    pub audience: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`, at most [`MAX_LEEWAY_SECS`].
    pub leeway_secs: u64,
    /// The claim holding the caller's permissions (`ctx.user.permissions`);
    /// `None`: `permissions`.
    pub permissions_claim: Option<String>,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("hs256_secret", &self.hs256_secret.as_ref().map(|_| "<redacted>"))
            .field("public_key_pems", &self.public_key_pems)
            .field("jwks_file", &self.jwks_file)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_secs", &self.leeway_secs)
            .field("permissions_claim", &self.permissions_claim)
            .finish()
    }
}

/// A key with the validation rules for its algorithm.
struct Candidate {
    key: VerifyKey,
    validation: Validation,
}

/// Verifies tokens; build once at startup and share (it is `Send + Sync`).
pub struct JwtVerifier {
    candidates: Vec<Candidate>,
    /// Whether any key has a `kid`; if none does, token `kid`s are ignored.
    any_kid: bool,
    issuer: Option<String>,
    audience: Option<String>,
    permissions_claim: String,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("keys", &self.candidates.iter().map(|c| &c.key).collect::<Vec<_>>())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl JwtVerifier {
    /// Loads and checks every configured key; errors name the offending file.
    pub fn new(config: &JwtConfig) -> Result<Self, AuthError> {
        // Select aws-lc explicitly: should anything else in the build enable
        // jsonwebtoken's `rust_crypto` feature too, the implicit choice would
        // panic on first use. An earlier install (ours or anyone's) is fine.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();

        if config.leeway_secs > MAX_LEEWAY_SECS {
            return Err(AuthError::Config(format!(
                "leeway of {}s is larger than the maximum of {MAX_LEEWAY_SECS}s",
                config.leeway_secs
            )));
        }
        for (name, value) in [("issuer", &config.issuer), ("audience", &config.audience)] {
            if value.as_deref().is_some_and(str::is_empty) {
                return Err(AuthError::Config(format!("{name} is set but empty")));
            }
        }

        let mut loaded = Vec::new();
        if let Some(secret) = &config.hs256_secret {
            loaded.push(keys::hmac(secret)?);
        }
        for path in &config.public_key_pems {
            loaded.push(keys::from_pem_file(path)?);
        }
        if let Some(path) = &config.jwks_file {
            loaded.extend(keys::from_jwks_file(path)?);
        }
        if loaded.is_empty() {
            return Err(AuthError::NoKeys);
        }

        let candidates = loaded
            .into_iter()
            .map(|key| {
                let validation = validation(key.alg, config);
                Candidate { key, validation }
            })
            .collect::<Vec<_>>();
        Ok(Self {
            any_kid: candidates.iter().any(|c| c.key.kid.is_some()),
            candidates,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            permissions_claim: config.permissions_claim.clone().unwrap_or_else(|| "permissions".into()),
        })
    }

    /// Checks `token` (the compact JWS, without "Bearer ") and returns who it
    /// speaks for.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = parse_header(token)?;
        let alg_name = header.alg.as_str();
        if alg_name.eq_ignore_ascii_case("none") {
            return Err(AuthError::AlgorithmNone);
        }
        let alg = Algorithm::from_str(alg_name).map_err(|_| AuthError::UnsupportedAlgorithm(excerpt(alg_name)))?;
        let not_accepted = || AuthError::AlgorithmNotAccepted(excerpt(alg_name));

        let kid = header.kid.as_deref().filter(|_| self.any_kid);
        let known_kid = kid.filter(|kid| self.candidates.iter().any(|c| c.key.kid.as_deref() == Some(*kid)));
        let candidates: Vec<&Candidate> = match (kid, known_kid) {
            // The token names a key we have: only that key may check it.
            (_, Some(kid)) => {
                let found: Vec<_> =
                    self.candidates.iter().filter(|c| c.key.kid.as_deref() == Some(kid) && c.key.alg == alg).collect();
                if found.is_empty() {
                    return Err(not_accepted());
                }
                found
            }
            // An unknown kid may still be meant for a key without one (a PEM
            // file or the HS256 secret); if none of those fits, say so.
            (Some(kid), None) => {
                let found: Vec<_> =
                    self.candidates.iter().filter(|c| c.key.kid.is_none() && c.key.alg == alg).collect();
                if found.is_empty() {
                    return Err(AuthError::UnknownKeyId(excerpt(kid)));
                }
                found
            }
            (None, _) => {
                let found: Vec<_> = self.candidates.iter().filter(|c| c.key.alg == alg).collect();
                if found.is_empty() {
                    return Err(not_accepted());
                }
                found
            }
        };

        for candidate in candidates {
            match jsonwebtoken::decode::<Map<String, Value>>(token, &candidate.key.key, &candidate.validation) {
                Ok(data) => return principal_from_claims(&data.claims, &self.permissions_claim),
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => continue,
                Err(e) => return Err(self.map_error(e)),
            }
        }
        Err(match (kid, known_kid) {
            (Some(kid), None) => AuthError::UnknownKeyId(excerpt(kid)),
            _ => AuthError::SignatureMismatch,
        })
    }

    fn map_error(&self, e: jsonwebtoken::errors::Error) -> AuthError {
        match e.kind() {
            ErrorKind::InvalidSignature => AuthError::SignatureMismatch,
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidIssuer => AuthError::IssuerMismatch(self.issuer.clone().unwrap_or_default()),
            ErrorKind::InvalidAudience => AuthError::AudienceMismatch(self.audience.clone().unwrap_or_default()),
            ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim.clone()),
            ErrorKind::InvalidClaimFormat(claim) => AuthError::InvalidClaim {
                claim: claim.clone(),
                reason: "must be a NumericDate (seconds since the epoch)".into(),
            },
            ErrorKind::Base64(err) => AuthError::Malformed(format!("invalid base64url: {err}")),
            ErrorKind::Json(err) => AuthError::Malformed(format!("invalid JSON: {err}")),
            ErrorKind::Utf8(_) => AuthError::Malformed("not UTF-8".into()),
            ErrorKind::InvalidToken => AuthError::Malformed("expected header.payload.signature".into()),
            _ => AuthError::Malformed(e.to_string()),
        }
    }
}

/// The validation `jsonwebtoken` applies after the signature for one key.
fn validation(alg: Algorithm, config: &JwtConfig) -> Validation {
    let mut v = Validation::new(alg);
    // `exp` presence is checked in claims.rs, which can tell "missing" from
    // "not a number"; the library still rejects a non-numeric or past `exp`.
    v.required_spec_claims.clear();
    v.validate_exp = true;
    v.validate_nbf = true;
    v.leeway = config.leeway_secs;
    if let Some(issuer) = &config.issuer {
        v.set_issuer(&[issuer]);
        v.required_spec_claims.insert("iss".into());
    }
    match &config.audience {
        Some(audience) => {
            v.set_audience(&[audience]);
            v.required_spec_claims.insert("aud".into());
        }
        None => v.validate_aud = false,
    }
    v
}

/// What the verifier needs from the JOSE header.
struct Header {
    alg: String,
    kid: Option<String>,
}

fn parse_header(token: &str) -> Result<Header, AuthError> {
    let malformed = |m: &str| AuthError::Malformed(m.to_owned());
    if token.is_empty() {
        return Err(malformed("empty token"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed(format!("token is longer than {MAX_TOKEN_BYTES} bytes")));
    }
    let parts = token.split('.').count();
    if parts != 3 {
        return Err(AuthError::Malformed(format!(
            "expected 3 dot-separated parts (header.payload.signature), found {parts}"
        )));
    }
    let encoded = token.split('.').next().unwrap_or_default();
    let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| malformed("header is not base64url"))?;
    let header: Map<String, Value> =
        serde_json::from_slice(&json).map_err(|_| malformed("header is not a JSON object"))?;
    if header.contains_key("crit") {
        // RFC 7515 §4.1.11: extensions we do not understand must be refused.
        return Err(malformed("critical header parameters (crit) are not supported"));
    }
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.clone(),
        Some(_) => return Err(malformed("header alg must be a string")),
        None => return Err(malformed("header has no alg")),
    };
    let kid = match header.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(malformed("header kid must be a string")),
    };
    Ok(Header { alg, kid })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn header_errors() {
        let err = |t: &str| parse_header(t).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err(""), "malformed token: empty token");
        assert!(err("a.b").contains("found 2"));
        assert!(err("a.b.c.d.e").contains("found 5"));
        assert!(err("!!.b.c").contains("not base64url"));
        assert!(err(&format!("{}.b.c", b64("[1]"))).contains("not a JSON object"));
        assert!(err(&format!("{}.b.c", b64(r#"{"typ":"JWT"}"#))).contains("no alg"));
        assert!(err(&format!("{}.b.c", b64(r#"{"alg":5}"#))).contains("alg must be a string"));
        assert!(err(&format!("{}.b.c", b64(r#"{"alg":"HS256","kid":1}"#))).contains("kid must be a string"));
        assert!(err(&format!("{}.b.c", b64(r#"{"alg":"HS256","crit":["b64"]}"#))).contains("crit"));
        assert!(err(&"a".repeat(MAX_TOKEN_BYTES + 1)).contains("longer than"));
        let ok = parse_header(&format!("{}.b.c", b64(r#"{"alg":"RS256","kid":"k"}"#))).unwrap();
        assert_eq!((ok.alg.as_str(), ok.kid.as_deref()), ("RS256", Some("k")));
    }

    #[test]
    fn config_debug_hides_the_secret() {
        let config =
            JwtConfig { hs256_secret: Some(b"super-secret-value-0123456789abcdef".to_vec()), ..Default::default() };
        let shown = format!("{config:?}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(!shown.contains("super-secret"), "{shown}");
        let verifier = JwtVerifier::new(&config).unwrap();
        let shown = format!("{verifier:?}");
        assert!(shown.contains("HS256") && !shown.contains("super-secret"), "{shown}");
    }

    #[test]
    fn config_errors() {
        assert!(matches!(JwtVerifier::new(&JwtConfig::default()), Err(AuthError::NoKeys)));
        let secret = Some(vec![1; 32]);
        let too_lenient =
            JwtConfig { hs256_secret: secret.clone(), leeway_secs: MAX_LEEWAY_SECS + 1, ..Default::default() };
        assert!(matches!(JwtVerifier::new(&too_lenient), Err(AuthError::Config(_))));
        let empty_iss = JwtConfig { hs256_secret: secret, issuer: Some(String::new()), ..Default::default() };
        assert!(matches!(JwtVerifier::new(&empty_iss), Err(AuthError::Config(m)) if m.contains("issuer")));
    }

    #[test]
    fn verifier_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<JwtVerifier>();
    }
}

/// Arbitrary tokens (proptest): verification never panics, only refuses.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn any_token_is_refused_without_panic(t in "\\PC{0,200}", parts in proptest::collection::vec("[A-Za-z0-9_-]{0,40}", 0..5)) {
            let v = JwtVerifier::new(&JwtConfig {
                hs256_secret: Some(b"0123456789abcdef0123456789abcdef".to_vec()),
                ..Default::default()
            })
            .unwrap();
            prop_assert!(v.verify(&t).is_err());
            prop_assert!(v.verify(&parts.join(".")).is_err());
            let _ = crate::auth::bearer::bearer(&t);
        }
    }
}
