//! Minting HS256 tokens for `quasm token create`.
//!
//! The signer checks its inputs with the same rules as the verifier, so it
//! never hands out a token the gateway would then refuse.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::claims::{check_tenant, SignedClaims};
use super::error::AuthError;
use super::keys::MIN_HMAC_SECRET_LEN;
use super::role::Role;

/// Signs tokens with a shared HS256 secret.
pub struct JwtSigner {
    key: EncodingKey,
}

impl fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSigner(HS256, <redacted>)")
    }
}

impl JwtSigner {
    /// A signer for `secret`, which must be at least 32 bytes like the
    /// verifier's.
    pub fn hs256(secret: &[u8]) -> Result<Self, AuthError> {
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(AuthError::WeakSecret(secret.len()));
        }
        // As in `JwtVerifier::new`: never rely on the implicit provider choice.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        Ok(Self { key: EncodingKey::from_secret(secret) })
    }

    /// A token for `subject` in `tenant` with `roles`, valid from now for
    /// `ttl` (whole seconds, rounded up). `issuer` and `audience` set `iss`
    /// and `aud` when given.
    pub fn sign(
        &self,
        tenant: &str,
        subject: &str,
        roles: &[Role],
        ttl: Duration,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Result<String, AuthError> {
        check_tenant(tenant)?;
        if subject.is_empty() {
            return Err(AuthError::InvalidClaim { claim: "sub".into(), reason: "must not be empty".into() });
        }
        if ttl.is_zero() {
            return Err(AuthError::Config("token lifetime (ttl) must be positive".into()));
        }
        let ttl_secs = ttl.as_secs().saturating_add(u64::from(ttl.subsec_nanos() > 0));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| AuthError::Signing("system clock is before 1970".into()))?
            .as_secs();
        let exp =
            now.checked_add(ttl_secs).ok_or_else(|| AuthError::Config("token lifetime (ttl) is too large".into()))?;

        let claims = SignedClaims { sub: subject, tenant, roles, iat: now, exp, iss: issuer, aud: audience };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .map_err(|e| AuthError::Signing(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_the_verifier_would_refuse() {
        assert!(matches!(JwtSigner::hs256(b"short"), Err(AuthError::WeakSecret(5))));
        let signer = JwtSigner::hs256(&[3; 32]).unwrap();
        let hour = Duration::from_secs(3600);
        assert!(matches!(signer.sign("Bad Tenant", "u", &[], hour, None, None), Err(AuthError::InvalidTenant(_))));
        assert!(matches!(signer.sign("t", "", &[], hour, None, None), Err(AuthError::InvalidClaim { .. })));
        assert!(matches!(signer.sign("t", "u", &[], Duration::ZERO, None, None), Err(AuthError::Config(_))));
        assert!(matches!(signer.sign("t", "u", &[], Duration::MAX, None, None), Err(AuthError::Config(_))));
        assert_eq!(format!("{signer:?}"), "JwtSigner(HS256, <redacted>)");
    }
}
