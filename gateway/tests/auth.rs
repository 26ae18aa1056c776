//! End-to-end tests of `quasm_gateway::auth` with real keys from
//! `tests/fixtures/` (see its README). Test tokens are signed with
//! `jsonwebtoken` directly, so the verifier is checked against an independent
//! encoder, not only against `JwtSigner`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use quasm_gateway::auth::{
    bearer, load_or_create_hs256_secret, AuthError, JwtConfig, JwtSigner, JwtVerifier, Principal, Role,
};
use serde_json::{json, Value};

const SECRET: &[u8] = b"test-secret-0123456789-abcdefghij";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Valid claims for tenant `acme`, subject `alice`, role developer.
fn claims() -> Value {
    json!({"sub": "alice", "tenant": "acme", "roles": ["developer"], "iat": now(), "exp": now() + 600})
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn hs(claims: &Value) -> String {
    sign(Algorithm::HS256, &EncodingKey::from_secret(SECRET), None, claims)
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn rsa_key(name: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(&pem(name)).unwrap()
}

fn rs(claims: &Value) -> String {
    sign(Algorithm::RS256, &rsa_key("rsa-private.pem"), None, claims)
}

/// A token with arbitrary header, claims and signature bytes.
fn raw(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.{}", part(header), part(claims), URL_SAFE_NO_PAD.encode(signature))
}

fn hs_config() -> JwtConfig {
    JwtConfig { hs256_secret: Some(SECRET.to_vec()), ..Default::default() }
}

fn pem_config(names: &[&str]) -> JwtConfig {
    JwtConfig { public_key_pems: names.iter().map(|n| fixture(n)).collect(), ..Default::default() }
}

fn verifier(config: JwtConfig) -> JwtVerifier {
    JwtVerifier::new(&config).unwrap()
}

fn acme_alice(roles: Vec<Role>) -> Principal {
    Principal { tenant: "acme".into(), subject: "alice".into(), roles, permissions: vec![] }
}

// --- Round trips per key type -------------------------------------------

#[test]
fn hs256_round_trip_through_signer_and_verifier() {
    let signer = JwtSigner::hs256(SECRET).unwrap();
    let token =
        signer.sign("acme", "alice", &[Role::Operator], Duration::from_secs(3600), Some("quasm"), Some("api")).unwrap();
    let config = JwtConfig { issuer: Some("quasm".into()), audience: Some("api".into()), ..hs_config() };
    let principal = verifier(config).verify(&token).unwrap();
    assert_eq!(principal, acme_alice(vec![Role::Operator]));
    assert!(principal.has(Role::Developer) && !principal.has(Role::Admin));

    // The payload carries iat and exp = iat + ttl, and nothing secret.
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let iat = claims["iat"].as_u64().unwrap();
    assert!(iat.abs_diff(now()) <= 5);
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 3600);
    assert_eq!(claims["roles"], json!(["operator"]));
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some("quasm"), Some("api")));

    // A different secret does not verify it.
    let other = JwtConfig { hs256_secret: Some(vec![9; 32]), ..Default::default() };
    assert!(matches!(verifier(other).verify(&token), Err(AuthError::SignatureMismatch)));
}

#[test]
fn hs256_token_from_another_encoder_verifies() {
    let principal = verifier(hs_config()).verify(&hs(&claims())).unwrap();
    assert_eq!(principal, acme_alice(vec![Role::Developer]));
}

#[test]
fn embedded_key_file_signs_tokens_its_verifier_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let secret = load_or_create_hs256_secret(dir.path()).unwrap();
    let token =
        JwtSigner::hs256(&secret).unwrap().sign("acme", "ci", &[Role::Admin], Duration::from_secs(60), None, None);
    let again = load_or_create_hs256_secret(dir.path()).unwrap();
    let config = JwtConfig { hs256_secret: Some(again), ..Default::default() };
    let principal = verifier(config).verify(&token.unwrap()).unwrap();
    assert_eq!(principal.subject, "ci");
    assert!(principal.has(Role::Viewer));
}

#[test]
fn rs256_with_pem_keys() {
    let v = verifier(pem_config(&["rsa-public.pem"]));
    assert_eq!(v.verify(&rs(&claims())).unwrap(), acme_alice(vec![Role::Developer]));
    // Signed by another RSA key: refused.
    let other = sign(Algorithm::RS256, &rsa_key("rsa2-private.pem"), None, &claims());
    assert!(matches!(v.verify(&other), Err(AuthError::SignatureMismatch)));
    // The PKCS#1 ("RSA PUBLIC KEY") form of the same key works too.
    let pkcs1 = verifier(pem_config(&["rsa-public-pkcs1.pem"]));
    assert!(pkcs1.verify(&rs(&claims())).is_ok());
}

#[test]
fn rs256_with_several_pem_keys_tries_each() {
    let v = verifier(pem_config(&["rsa-public.pem", "rsa2-public.pem"]));
    let by_second = sign(Algorithm::RS256, &rsa_key("rsa2-private.pem"), None, &claims());
    assert!(v.verify(&by_second).is_ok());
    assert!(v.verify(&rs(&claims())).is_ok());
}

#[test]
fn es256_with_pem_keys() {
    let v = verifier(pem_config(&["ec-public.pem"]));
    let key = EncodingKey::from_ec_pem(&pem("ec-private.pem")).unwrap();
    assert_eq!(v.verify(&sign(Algorithm::ES256, &key, None, &claims())).unwrap(), acme_alice(vec![Role::Developer]));
    // RS256 is not accepted by an EC key, whatever the token says.
    let e = v.verify(&rs(&claims())).unwrap_err();
    assert!(matches!(&e, AuthError::AlgorithmNotAccepted(a) if a == "RS256"), "{e}");
    assert_eq!(e.to_string(), "token algorithm RS256 is not accepted for this key");
}

#[test]
fn eddsa_with_pem_keys() {
    let v = verifier(pem_config(&["ed25519-public.pem"]));
    let key = EncodingKey::from_ed_pem(&pem("ed25519-private.pem")).unwrap();
    assert!(v.verify(&sign(Algorithm::EdDSA, &key, None, &claims())).is_ok());
}

#[test]
fn jwks_honours_kid() {
    let v = verifier(JwtConfig { jwks_file: Some(fixture("jwks.json")), ..Default::default() });
    let rsa1 = rsa_key("rsa-private.pem");
    let rsa2 = rsa_key("rsa2-private.pem");
    let ec = EncodingKey::from_ec_pem(&pem("ec-private.pem")).unwrap();

    assert!(v.verify(&sign(Algorithm::RS256, &rsa1, Some("rsa-1"), &claims())).is_ok());
    assert!(v.verify(&sign(Algorithm::RS256, &rsa2, Some("rsa-2"), &claims())).is_ok());
    assert!(v.verify(&sign(Algorithm::ES256, &ec, Some("ec-1"), &claims())).is_ok());
    // The kid picks the key: signed by rsa-2 but naming rsa-1 fails, although
    // rsa-2 is in the set.
    let wrong_kid = sign(Algorithm::RS256, &rsa2, Some("rsa-1"), &claims());
    assert!(matches!(v.verify(&wrong_kid), Err(AuthError::SignatureMismatch)));
    // Without a kid, keys of the token's type are tried.
    assert!(v.verify(&sign(Algorithm::RS256, &rsa2, None, &claims())).is_ok());
    assert!(v.verify(&sign(Algorithm::ES256, &ec, None, &claims())).is_ok());
    // Unknown kid.
    let e = v.verify(&sign(Algorithm::RS256, &rsa1, Some("rotated-away"), &claims())).unwrap_err();
    assert!(matches!(&e, AuthError::UnknownKeyId(k) if k == "rotated-away"), "{e}");
    assert_eq!(e.code(), "unknown_key_id");
    // A known kid whose key has another algorithm.
    let e = v.verify(&sign(Algorithm::RS256, &rsa1, Some("ec-1"), &claims())).unwrap_err();
    assert!(matches!(&e, AuthError::AlgorithmNotAccepted(a) if a == "RS256"), "{e}");
}

#[test]
fn unknown_kid_still_reaches_keys_without_kid() {
    // JWKS plus the HS256 secret: an HS token whose kid is not in the JWKS is
    // meant for the secret.
    let config = JwtConfig { jwks_file: Some(fixture("jwks.json")), ..hs_config() };
    let v = verifier(config);
    let token = sign(Algorithm::HS256, &EncodingKey::from_secret(SECRET), Some("local"), &claims());
    assert!(v.verify(&token).is_ok());
    let forged = sign(Algorithm::HS256, &EncodingKey::from_secret(&[1; 32]), Some("local"), &claims());
    assert!(matches!(v.verify(&forged), Err(AuthError::UnknownKeyId(_))));
}

// --- Algorithm attacks ----------------------------------------------------

#[test]
fn alg_none_is_rejected() {
    for alg in ["none", "None", "NONE"] {
        let unsigned = raw(&json!({"alg": alg, "typ": "JWT"}), &claims(), b"");
        for v in [verifier(hs_config()), verifier(pem_config(&["rsa-public.pem"]))] {
            let e = v.verify(&unsigned).unwrap_err();
            assert!(matches!(e, AuthError::AlgorithmNone), "{alg}: {e}");
            assert_eq!(e.to_string(), "algorithm none is not accepted");
            assert_eq!(e.code(), "algorithm_not_accepted");
        }
    }
}

#[test]
fn unsupported_alg_is_rejected() {
    let token = raw(&json!({"alg": "HS1024"}), &claims(), b"sig");
    assert!(matches!(verifier(hs_config()).verify(&token), Err(AuthError::UnsupportedAlgorithm(a)) if a == "HS1024"));
}

#[test]
fn algorithm_confusion_is_rejected() {
    // The classic attack: HS256 with the RSA public key's PEM bytes as the
    // HMAC secret, sent to a verifier configured with that RSA key.
    let public_pem = pem("rsa-public.pem");
    let forged = sign(Algorithm::HS256, &EncodingKey::from_secret(&public_pem), None, &claims());

    let e = verifier(pem_config(&["rsa-public.pem"])).verify(&forged).unwrap_err();
    assert!(matches!(&e, AuthError::AlgorithmNotAccepted(a) if a == "HS256"), "{e}");
    assert_eq!(e.to_string(), "token algorithm HS256 is not accepted for this key");

    // With an HMAC secret configured as well, the HS256 token is checked
    // against that secret only, never against the RSA key.
    let both = JwtConfig { public_key_pems: vec![fixture("rsa-public.pem")], ..hs_config() };
    assert!(matches!(verifier(both).verify(&forged), Err(AuthError::SignatureMismatch)));

    // Control: the forged token is well-formed, and would pass a verifier
    // that (wrongly) used the PEM bytes as its secret.
    let naive = JwtConfig { hs256_secret: Some(public_pem), ..Default::default() };
    assert!(verifier(naive).verify(&forged).is_ok());
}

#[test]
fn hs_token_to_rs_only_verifier_is_rejected() {
    let e = verifier(pem_config(&["rsa-public.pem"])).verify(&hs(&claims())).unwrap_err();
    assert!(matches!(&e, AuthError::AlgorithmNotAccepted(a) if a == "HS256"), "{e}");
    assert_eq!(e.http_status(), 401);
}

#[test]
fn rs_token_to_hs_only_verifier_is_rejected() {
    let e = verifier(hs_config()).verify(&rs(&claims())).unwrap_err();
    assert!(matches!(&e, AuthError::AlgorithmNotAccepted(a) if a == "RS256"), "{e}");
}

// --- Time, issuer and audience -------------------------------------------

#[test]
fn expired_token_is_rejected() {
    let expired = hs(&with(claims(), "exp", json!(now() - 120)));
    let e = verifier(hs_config()).verify(&expired).unwrap_err();
    assert!(matches!(e, AuthError::Expired), "{e}");
    assert_eq!((e.to_string().as_str(), e.code()), ("token expired", "token_expired"));
    // Within the leeway it is still accepted.
    let lenient = JwtConfig { leeway_secs: 300, ..hs_config() };
    assert!(verifier(lenient).verify(&expired).is_ok());
}

#[test]
fn missing_or_malformed_exp_is_rejected() {
    let e = verifier(hs_config()).verify(&hs(&without(claims(), "exp"))).unwrap_err();
    assert!(matches!(&e, AuthError::MissingClaim(c) if c == "exp"), "{e}");
    let e = verifier(hs_config()).verify(&hs(&with(claims(), "exp", json!("tomorrow")))).unwrap_err();
    assert!(matches!(&e, AuthError::InvalidClaim { claim, .. } if claim == "exp"), "{e}");
}

#[test]
fn not_yet_valid_token_is_rejected() {
    let early = hs(&with(claims(), "nbf", json!(now() + 600)));
    let e = verifier(hs_config()).verify(&early).unwrap_err();
    assert!(matches!(e, AuthError::NotYetValid), "{e}");
    assert_eq!(e.code(), "token_not_yet_valid");
    assert!(verifier(hs_config()).verify(&hs(&with(claims(), "nbf", json!(now() - 5)))).is_ok());
}

#[test]
fn issuer_is_checked_when_configured() {
    let v = verifier(JwtConfig { issuer: Some("https://id.example".into()), ..hs_config() });
    assert!(v.verify(&hs(&with(claims(), "iss", json!("https://id.example")))).is_ok());
    let e = v.verify(&hs(&with(claims(), "iss", json!("https://evil.example")))).unwrap_err();
    assert!(matches!(&e, AuthError::IssuerMismatch(x) if x == "https://id.example"), "{e}");
    assert_eq!(e.to_string(), "issuer mismatch: expected \"https://id.example\"");
    let e = v.verify(&hs(&claims())).unwrap_err();
    assert!(matches!(&e, AuthError::MissingClaim(c) if c == "iss"), "{e}");
    // Not configured: any issuer passes.
    assert!(verifier(hs_config()).verify(&hs(&with(claims(), "iss", json!("anyone")))).is_ok());
}

#[test]
fn audience_is_checked_when_configured() {
    let v = verifier(JwtConfig { audience: Some("quasm".into()), ..hs_config() });
    assert!(v.verify(&hs(&with(claims(), "aud", json!("quasm")))).is_ok());
    assert!(v.verify(&hs(&with(claims(), "aud", json!(["other", "quasm"])))).is_ok());
    let e = v.verify(&hs(&with(claims(), "aud", json!("other")))).unwrap_err();
    assert!(matches!(&e, AuthError::AudienceMismatch(x) if x == "quasm"), "{e}");
    assert_eq!(e.code(), "invalid_audience");
    let e = v.verify(&hs(&claims())).unwrap_err();
    assert!(matches!(&e, AuthError::MissingClaim(c) if c == "aud"), "{e}");
    // Not configured: aud is ignored.
    assert!(verifier(hs_config()).verify(&hs(&with(claims(), "aud", json!("other")))).is_ok());
}

// --- Quasm's claims ---------------------------------------------------------

#[test]
fn missing_sub_or_tenant_is_rejected() {
    for claim in ["sub", "tenant"] {
        let e = verifier(hs_config()).verify(&hs(&without(claims(), claim))).unwrap_err();
        assert!(matches!(&e, AuthError::MissingClaim(c) if c == claim), "{e}");
        assert_eq!(e.to_string(), format!("missing claim {claim}"));
        assert_eq!(e.code(), "missing_claim");
    }
}

#[test]
fn bad_tenant_id_is_rejected() {
    for tenant in ["Acme Corp", "", "-acme", "acme/../other"] {
        let e = verifier(hs_config()).verify(&hs(&with(claims(), "tenant", json!(tenant)))).unwrap_err();
        assert!(matches!(&e, AuthError::InvalidTenant(t) if t == tenant), "{tenant}: {e}");
        assert_eq!(e.code(), "invalid_tenant");
    }
    let e = verifier(hs_config()).verify(&hs(&with(claims(), "tenant", json!(42)))).unwrap_err();
    assert!(matches!(&e, AuthError::InvalidClaim { claim, .. } if claim == "tenant"), "{e}");
}

#[test]
fn unknown_role_is_named() {
    let token = hs(&with(claims(), "roles", json!(["viewer", "superuser"])));
    let e = verifier(hs_config()).verify(&token).unwrap_err();
    assert!(matches!(&e, AuthError::UnknownRole(r) if r.name() == "superuser"), "{e}");
    assert_eq!(e.to_string(), "unknown role \"superuser\" (valid roles: viewer, developer, operator, admin)");
    assert_eq!(e.code(), "unknown_role");
}

#[test]
fn single_role_claim_is_accepted() {
    let token = hs(&with(without(claims(), "roles"), "role", json!("admin")));
    assert_eq!(verifier(hs_config()).verify(&token).unwrap(), acme_alice(vec![Role::Admin]));
}

// --- Broken tokens ----------------------------------------------------------

#[test]
fn garbage_is_rejected_as_malformed() {
    let v = verifier(hs_config());
    for garbage in ["", "garbage", "a.b", "a.b.c", "...", "a.b.c.d.e", "eyJhbGciOiJIUzI1NiJ9.!!!.x"] {
        let e = v.verify(garbage).unwrap_err();
        assert!(matches!(e, AuthError::Malformed(_)), "{garbage:?}: {e}");
        assert!(e.to_string().starts_with("malformed token: "), "{e}");
        assert_eq!(e.code(), "invalid_token");
    }
    // Valid header and signature shape, payload not a JSON object.
    let token = sign(Algorithm::HS256, &EncodingKey::from_secret(SECRET), None, &json!([1, 2]));
    assert!(matches!(v.verify(&token), Err(AuthError::Malformed(_))));
}

#[test]
fn tampered_tokens_are_rejected() {
    let v = verifier(hs_config());
    let token = hs(&claims());
    let parts: Vec<&str> = token.split('.').collect();

    // Payload swapped for another tenant, original signature kept.
    let evil = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&with(claims(), "tenant", json!("victim"))).unwrap());
    let tampered = format!("{}.{evil}.{}", parts[0], parts[2]);
    let e = v.verify(&tampered).unwrap_err();
    assert!(matches!(e, AuthError::SignatureMismatch), "{e}");
    assert_eq!((e.to_string().as_str(), e.code()), ("signature does not match", "invalid_signature"));

    // Signature altered.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[0] ^= 1;
    let tampered = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert!(matches!(v.verify(&tampered), Err(AuthError::SignatureMismatch)));

    // Same for RSA.
    let rsa = verifier(pem_config(&["rsa-public.pem"]));
    let token = rs(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{evil}.{}", parts[0], parts[2]);
    assert!(matches!(rsa.verify(&tampered), Err(AuthError::SignatureMismatch)));
}

#[test]
fn secret_never_appears_in_errors() {
    let v = verifier(hs_config());
    let secret = std::str::from_utf8(SECRET).unwrap();
    let forged = sign(Algorithm::HS256, &EncodingKey::from_secret(&[1; 32]), None, &claims());
    for token in [forged, hs(&without(claims(), "exp")), "x.y.z".into(), rs(&claims())] {
        let e = v.verify(&token).unwrap_err();
        assert!(!e.to_string().contains(secret) && !format!("{e:?}").contains(secret));
    }
    assert!(!format!("{v:?}").contains(secret));
}

#[test]
fn bearer_header_to_principal() {
    let header = format!("Bearer {}", hs(&claims()));
    let principal = verifier(hs_config()).verify(bearer(&header).unwrap()).unwrap();
    assert_eq!(principal.tenant, "acme");
    assert!(matches!(bearer("Basic Zm9vOmJhcg=="), Err(AuthError::UnsupportedScheme(s)) if s == "Basic"));
}

// --- Key loading ------------------------------------------------------------

fn load_error(config: JwtConfig) -> AuthError {
    JwtVerifier::new(&config).unwrap_err()
}

#[test]
fn unreadable_or_invalid_pem_names_the_file() {
    let missing = fixture("does-not-exist.pem");
    let e = load_error(JwtConfig { public_key_pems: vec![missing.clone()], ..Default::default() });
    assert!(matches!(&e, AuthError::Io { path, .. } if *path == missing), "{e}");
    assert!(e.to_string().contains("does-not-exist.pem"), "{e}");

    let e = load_error(pem_config(&["rsa-private.pem"]));
    assert!(
        matches!(&e, AuthError::InvalidKey { path, reason } if path.ends_with("rsa-private.pem") && reason.contains("private key")),
        "{e}"
    );

    let e = load_error(pem_config(&["README.md"]));
    assert!(matches!(&e, AuthError::InvalidKey { reason, .. } if reason.contains("not a PEM file")), "{e}");
    assert!(e.to_string().contains("README.md"), "{e}");

    let e = load_error(pem_config(&["rsa1024-public.pem"]));
    assert!(matches!(&e, AuthError::InvalidKey { reason, .. } if reason.contains("1024 bits")), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.pem");
    std::fs::write(&corrupt, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").unwrap();
    let e = load_error(JwtConfig { public_key_pems: vec![corrupt], ..Default::default() });
    assert!(matches!(&e, AuthError::InvalidKey { path, .. } if path.ends_with("corrupt.pem")), "{e}");
}

#[test]
fn invalid_jwks_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let cases = [
        ("not-json.json", "{".to_owned(), "not valid JSON"),
        ("no-keys.json", "{}".to_owned(), "\"keys\" array"),
        ("empty.json", r#"{"keys": []}"#.to_owned(), "no signature keys"),
        ("oct.json", r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#.to_owned(), "symmetric"),
        ("bad-rsa.json", r#"{"keys": [{"kty": "RSA", "kid": "x", "n": "AQAB", "e": "AQAB"}]}"#.to_owned(), "bits"),
        (
            "dup.json",
            {
                let jwks: Value = serde_json::from_slice(&pem("jwks.json")).unwrap();
                let first = jwks["keys"][0].clone();
                json!({"keys": [first.clone(), first]}).to_string()
            },
            "duplicate kid",
        ),
        (
            "alg-mismatch.json",
            {
                let jwks: Value = serde_json::from_slice(&pem("jwks.json")).unwrap();
                json!({"keys": [with(jwks["keys"][2].clone(), "alg", json!("RS256"))]}).to_string()
            },
            "does not fit",
        ),
    ];
    for (name, body, expected) in cases {
        let path = write(name, &body);
        let e = load_error(JwtConfig { jwks_file: Some(path.clone()), ..Default::default() });
        assert!(
            matches!(&e, AuthError::InvalidKey { path: p, reason } if *p == path && reason.contains(expected)),
            "{name}: {e}"
        );
        assert!(e.to_string().contains(name), "{e}");
    }
    let missing = dir.path().join("missing.json");
    let e = load_error(JwtConfig { jwks_file: Some(missing), ..Default::default() });
    assert!(matches!(e, AuthError::Io { .. }), "{e}");

    // Encryption keys are skipped rather than refused.
    let jwks: Value = serde_json::from_slice(&pem("jwks.json")).unwrap();
    let enc = with(jwks["keys"][1].clone(), "use", json!("enc"));
    let path = write("with-enc.json", &json!({"keys": [jwks["keys"][0].clone(), enc]}).to_string());
    let v = verifier(JwtConfig { jwks_file: Some(path), ..Default::default() });
    let by_enc_key = sign(Algorithm::RS256, &rsa_key("rsa2-private.pem"), None, &claims());
    assert!(matches!(v.verify(&by_enc_key), Err(AuthError::SignatureMismatch)));
}

#[test]
fn weak_hs256_secret_is_refused() {
    let e = load_error(JwtConfig { hs256_secret: Some(b"short".to_vec()), ..Default::default() });
    assert!(matches!(e, AuthError::WeakSecret(5)), "{e}");
    assert_eq!(e.http_status(), 500);
}
