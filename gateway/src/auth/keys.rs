//! Loading verification keys.
//!
//! Each key is bound here to the one algorithm it accepts, decided from the
//! key material (and, for a JWK, its own `alg`), never from a token. That is
//! what defeats algorithm confusion: an HMAC secret only ever checks HS256,
//! an RSA key only RS/PS, an EC key only the ES algorithm of its curve.
//! Keys are validated at load time so a bad file fails startup with its name
//! rather than every request with "signature does not match".

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
use serde_json::Value;

use super::error::AuthError;

/// HS256 secrets shorter than the SHA-256 output are refused (RFC 7518 §3.2).
pub(crate) const MIN_HMAC_SECRET_LEN: usize = 32;
/// The verifier (aws-lc) refuses smaller RSA keys; refuse them at load time.
const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;

/// DER of the curve OIDs in an EC SubjectPublicKeyInfo.
const OID_P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22];

/// A key and the single algorithm it verifies.
pub(crate) struct VerifyKey {
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub key: DecodingKey,
    /// Where it came from, for `Debug` and errors; never the key itself.
    pub source: String,
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} from {}", self.alg, self.source)?;
        if let Some(kid) = &self.kid {
            write!(f, " (kid {kid:?})")?;
        }
        Ok(())
    }
}

/// The HS256 key for a shared secret.
pub(crate) fn hmac(secret: &[u8]) -> Result<VerifyKey, AuthError> {
    if secret.len() < MIN_HMAC_SECRET_LEN {
        return Err(AuthError::WeakSecret(secret.len()));
    }
    Ok(VerifyKey {
        kid: None,
        alg: Algorithm::HS256,
        key: DecodingKey::from_secret(secret),
        source: "HS256 secret".into(),
    })
}

/// One PEM public key: RSA (SPKI or PKCS#1) → RS256, EC P-256 → ES256,
/// EC P-384 → ES384, Ed25519 → EdDSA.
pub(crate) fn from_pem_file(path: &Path) -> Result<VerifyKey, AuthError> {
    let bytes = std::fs::read(path).map_err(|error| AuthError::Io { action: "read", path: path.into(), error })?;
    let bad = |reason: String| AuthError::InvalidKey { path: path.into(), reason };
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("not a PEM file (not text)".into()))?;
    let (label, der) = single_pem_block(text).map_err(bad)?;
    match label {
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {}
        l if l.contains("PRIVATE KEY") => {
            return Err(bad(format!(
                "this is a private key ({l}); configure its public half (openssl pkey -in KEY -pubout)"
            )))
        }
        "CERTIFICATE" => {
            return Err(bad(
                "certificates are not supported; extract the public key with openssl x509 -in CERT -pubkey -noout"
                    .into(),
            ))
        }
        l => return Err(bad(format!("unsupported PEM block {l:?}; expected \"PUBLIC KEY\""))),
    }

    let source = path.display().to_string();
    if let Ok(key) = DecodingKey::from_rsa_pem(&bytes) {
        check_rsa(&key).map_err(bad)?;
        return Ok(VerifyKey { kid: None, alg: Algorithm::RS256, key, source });
    }
    if let Ok(key) = DecodingKey::from_ec_pem(&bytes) {
        let point_len = key.try_get_as_bytes().map(<[u8]>::len).unwrap_or(0);
        let alg = if contains(&der, OID_P256) && point_len == 65 {
            Algorithm::ES256
        } else if contains(&der, OID_P384) && point_len == 97 {
            Algorithm::ES384
        } else {
            return Err(bad("unsupported EC key: use curve P-256 (ES256) or P-384 (ES384)".into()));
        };
        return Ok(VerifyKey { kid: None, alg, key, source });
    }
    if let Ok(key) = DecodingKey::from_ed_pem(&bytes) {
        if key.try_get_as_bytes().map(<[u8]>::len).unwrap_or(0) != 32 {
            return Err(bad("unsupported Edwards key: only Ed25519 is supported".into()));
        }
        return Ok(VerifyKey { kid: None, alg: Algorithm::EdDSA, key, source });
    }
    Err(bad("not an RSA, EC (P-256/P-384) or Ed25519 public key".into()))
}

/// All signature keys of a JWKS file (`{"keys": [...]}`). Keys marked
/// `"use": "enc"` are skipped; symmetric (`oct`) keys are refused because a
/// JWKS is normally public and the HS256 secret has its own setting.
pub(crate) fn from_jwks_file(path: &Path) -> Result<Vec<VerifyKey>, AuthError> {
    let bytes = std::fs::read(path).map_err(|error| AuthError::Io { action: "read", path: path.into(), error })?;
    let bad = |reason: String| AuthError::InvalidKey { path: path.into(), reason };
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let entries = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("expected a JSON object with a \"keys\" array".into()))?;

    let mut keys: Vec<VerifyKey> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let kid = entry.get("kid").and_then(Value::as_str);
        let which = match kid {
            Some(kid) => format!("key #{i} (kid {kid:?})"),
            None => format!("key #{i}"),
        };
        let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|e| bad(format!("{which}: {e}")))?;
        if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
            continue;
        }
        let key = jwk_key(&jwk, path).map_err(|reason| bad(format!("{which}: {reason}")))?;
        if key.kid.is_some() && keys.iter().any(|k| k.kid == key.kid) {
            return Err(bad(format!("{which}: duplicate kid")));
        }
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(bad("contains no signature keys".into()));
    }
    Ok(keys)
}

fn jwk_key(jwk: &Jwk, path: &Path) -> Result<VerifyKey, String> {
    let declared = match jwk.common.key_algorithm {
        None => None,
        Some(a) => Some(Algorithm::try_from(a).map_err(|_| format!("unsupported alg {a}"))?),
    };
    let (key, default_alg) = match &jwk.algorithm {
        AlgorithmParameters::RSA(p) => {
            let key = DecodingKey::from_rsa_components(&p.n, &p.e).map_err(|e| format!("invalid RSA key: {e}"))?;
            check_rsa(&key)?;
            (key, Algorithm::RS256)
        }
        AlgorithmParameters::EllipticCurve(p) => {
            let (alg, len) = match p.curve {
                EllipticCurve::P256 => (Algorithm::ES256, 65),
                EllipticCurve::P384 => (Algorithm::ES384, 97),
                ref c => return Err(format!("unsupported EC curve {c:?}: use P-256 or P-384")),
            };
            let key = DecodingKey::from_ec_components(&p.x, &p.y).map_err(|e| format!("invalid EC key: {e}"))?;
            if key.try_get_as_bytes().map(<[u8]>::len).unwrap_or(0) != len {
                return Err("EC x/y coordinates have the wrong length for the curve".into());
            }
            (key, alg)
        }
        AlgorithmParameters::OctetKeyPair(p) => {
            if p.curve != EllipticCurve::Ed25519 {
                return Err(format!("unsupported OKP curve {:?}: only Ed25519", p.curve));
            }
            let key = DecodingKey::from_ed_components(&p.x).map_err(|e| format!("invalid Ed25519 key: {e}"))?;
            if key.try_get_as_bytes().map(<[u8]>::len).unwrap_or(0) != 32 {
                return Err("Ed25519 x must be 32 bytes".into());
            }
            (key, Algorithm::EdDSA)
        }
        AlgorithmParameters::OctetKey(_) => {
            return Err("symmetric (oct) keys are not accepted from a JWKS file; configure the HS256 secret".into())
        }
        _ => return Err("unsupported key type (use RSA, EC or OKP)".into()),
    };

    // A declared alg may pick another algorithm of the key's family (e.g. PS256
    // for an RSA key), or, for EC, must agree with the curve.
    let alg = match declared {
        None => default_alg,
        Some(a) if key.family() == AlgorithmFamily::Rsa && a.family() == AlgorithmFamily::Rsa => a,
        Some(a) if a == default_alg => a,
        Some(a) => return Err(format!("alg {a:?} does not fit this key (expected {default_alg:?})")),
    };
    let source = match &jwk.common.key_id {
        Some(kid) => format!("{} kid {kid:?}", path.display()),
        None => path.display().to_string(),
    };
    Ok(VerifyKey { kid: jwk.common.key_id.clone(), alg, key, source })
}

/// Refuses RSA keys the verifier cannot use, so the problem shows at startup.
fn check_rsa(key: &DecodingKey) -> Result<(), String> {
    let modulus = match key.kind() {
        DecodingKeyKind::RsaModulusExponent { n, .. } => n.clone(),
        DecodingKeyKind::SecretOrDer(der) => {
            let components =
                jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.key_utils.rsa_pub_components_from_public_key;
            components(der).map_err(|e| format!("not a valid RSA public key: {e}"))?.0
        }
    };
    let bits = bit_len(&modulus);
    if bits < MIN_RSA_BITS {
        return Err(format!("RSA key is {bits} bits; at least {MIN_RSA_BITS} are required"));
    }
    if bits > MAX_RSA_BITS {
        return Err(format!("RSA key is {bits} bits; at most {MAX_RSA_BITS} are supported"));
    }
    Ok(())
}

fn bit_len(big_endian: &[u8]) -> usize {
    match big_endian.iter().position(|&b| b != 0) {
        Some(i) => (big_endian.len() - i) * 8 - big_endian[i].leading_zeros() as usize,
        None => 0,
    }
}

/// The label and DER of the only PEM block in `text`.
fn single_pem_block(text: &str) -> Result<(&str, Vec<u8>), String> {
    let mut label = None;
    let mut body = String::new();
    let mut blocks = 0;
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if let Some(l) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) {
            blocks += 1;
            inside = blocks == 1;
            label.get_or_insert(l);
        } else if line.starts_with("-----END ") {
            inside = false;
        } else if inside {
            body.push_str(line);
        }
    }
    let label = label.ok_or("not a PEM file (no -----BEGIN line)")?;
    if blocks > 1 {
        return Err(format!("contains {blocks} PEM blocks; give one public key per file"));
    }
    let der = STANDARD.decode(body).map_err(|e| format!("PEM body is not valid base64: {e}"))?;
    Ok((label, der))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[0, 0]), 0);
        assert_eq!(bit_len(&[0x01]), 1);
        assert_eq!(bit_len(&[0x00, 0x80, 0x00]), 16);
    }

    #[test]
    fn pem_blocks() {
        let one = "-----BEGIN PUBLIC KEY-----\nAAEC\n-----END PUBLIC KEY-----\n";
        assert_eq!(single_pem_block(one).unwrap(), ("PUBLIC KEY", vec![0, 1, 2]));
        assert!(single_pem_block("hello").unwrap_err().contains("no -----BEGIN line"));
        let two = format!("{one}{one}");
        assert!(single_pem_block(&two).unwrap_err().contains("2 PEM blocks"));
        let bad = "-----BEGIN PUBLIC KEY-----\n@@@@\n-----END PUBLIC KEY-----\n";
        assert!(single_pem_block(bad).unwrap_err().contains("base64"));
    }

    #[test]
    fn short_hmac_secret_is_refused() {
        assert!(matches!(hmac(&[7; 31]), Err(AuthError::WeakSecret(31))));
        assert_eq!(hmac(&[7; 32]).unwrap().alg, Algorithm::HS256);
    }
}
