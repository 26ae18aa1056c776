//! `crypto.subtle` beyond digest and HMAC, with aws-lc-rs (already in the
//! workspace through the gateway's JWT signing; FIPS-validated lineage).
//!
//! Stateless: the guest keeps each key's material in its CryptoKey (secret
//! bytes, PKCS#8 DER for private keys, SPKI DER for public ones, the forms
//! this module hands out) and passes it with every operation. Keys created
//! while a function loads thus live on in every sandbox restored from the
//! version's snapshot, and nothing outlives the sandbox. Errors carry the
//! DOMException name the guest throws ("DataError: ...").

use std::num::NonZeroU32;

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use aws_lc_rs::{aead, agreement, cipher, hkdf, pbkdf2, rand::SystemRandom, rsa};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::der;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("DataError: {0}")]
    Data(String),
    #[error("OperationError: {0}")]
    Operation(String),
    #[error("NotSupportedError: {0}")]
    NotSupported(String),
}
use CryptoError::{Data, NotSupported, Operation};

type R<T> = Result<T, CryptoError>;

/// One `crypto` host call (see prelude-crypto.js for who sends what).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Args {
    op: String,
    alg: String,
    format: String,
    curve: Option<String>,
    jwk: Option<Map<String, Value>>,
    key: String,
    kind: String,
    hash: Option<String>,
    salt_length: Option<usize>,
    signature: String,
    iv: String,
    aad: Option<String>,
    salt: String,
    info: String,
    iterations: u32,
    public: String,
    length: Option<usize>,
    modulus_length: u32,
    public_exponent: String,
}

pub fn call(arg: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    let a: Args = serde_json::from_slice(arg).map_err(|e| format!("bad crypto argument: {e}"))?;
    run(&a, data).map_err(|e| e.to_string())
}

fn run(a: &Args, data: &[u8]) -> R<Vec<u8>> {
    let key = || b64(&a.key, "key");
    let as_json = |v: Value| Ok(v.to_string().into_bytes());
    match a.op.as_str() {
        "import" => as_json(import(a, data)?),
        "export" if a.format == "jwk" => as_json(export_jwk(a, &key()?)?),
        "export" => export(a, &key()?),
        "generate" => as_json(generate(a)?),
        "sign" => sign(a, &key()?, data),
        "verify" => Ok(vec![u8::from(verify(a, &key()?, &b64(&a.signature, "signature")?, data)?)]),
        "encrypt" | "decrypt" => aes(a, &key()?, data),
        "derive" => derive(a, &key()?),
        other => Err(NotSupported(format!("unknown crypto operation {other:?}"))),
    }
}

fn b64(s: &str, what: &str) -> R<Vec<u8>> {
    STANDARD.decode(s).map_err(|e| Data(format!("{what} is not base64: {e}")))
}
fn b64u(s: Option<&Value>, what: &str) -> R<Vec<u8>> {
    let s = s.and_then(Value::as_str).ok_or_else(|| Data(format!("the JWK has no \"{what}\"")))?;
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).map_err(|_| Data(format!("JWK \"{what}\" is not base64url")))
}
fn enc(b: &[u8]) -> String {
    STANDARD.encode(b)
}
fn encu(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}
fn rejected(what: &str) -> impl Fn(aws_lc_rs::error::KeyRejected) -> CryptoError + '_ {
    move |e| Data(format!("invalid {what}: {e}"))
}
/// The bytes of an encoding aws-lc-rs hands out (a `Document`, or a DER
/// buffer behind a `Deref`).
fn der_of<T: DerBytes>(r: Result<T, aws_lc_rs::error::Unspecified>) -> R<Vec<u8>> {
    r.map(|d| d.der_bytes().to_vec()).map_err(|_| Operation("key encoding failed".into()))
}
trait DerBytes {
    fn der_bytes(&self) -> &[u8];
}
impl DerBytes for aws_lc_rs::pkcs8::Document {
    fn der_bytes(&self) -> &[u8] {
        self.as_ref()
    }
}
impl DerBytes for aws_lc_rs::encoding::Pkcs8V1Der<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.as_ref()
    }
}
impl DerBytes for aws_lc_rs::encoding::PublicKeyX509Der<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.as_ref()
    }
}

enum Family {
    Rsa,
    Ec,
    Ed25519,
    X25519,
}
fn family(alg: &str) -> R<Family> {
    Ok(match alg {
        "RSASSA-PKCS1-v1_5" | "RSA-PSS" => Family::Rsa,
        "ECDSA" | "ECDH" => Family::Ec,
        "Ed25519" => Family::Ed25519,
        "X25519" => Family::X25519,
        other => return Err(NotSupported(format!("{other} keys are not handled by the host"))),
    })
}

/// A curve's signing algorithm, ECDH algorithm, SPKI header and coordinate size.
struct Curve {
    name: &'static str,
    signing: &'static signature::EcdsaSigningAlgorithm,
    verifying: &'static signature::EcdsaVerificationAlgorithm,
    ecdh: &'static agreement::Algorithm,
    spki: &'static [u8],
    size: usize,
    hash: &'static str,
}
fn curve(name: Option<&str>) -> R<Curve> {
    match name {
        Some("P-256") => Ok(Curve {
            name: "P-256",
            signing: &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            verifying: &signature::ECDSA_P256_SHA256_FIXED,
            ecdh: &agreement::ECDH_P256,
            spki: der::SPKI_P256,
            size: 32,
            hash: "SHA-256",
        }),
        Some("P-384") => Ok(Curve {
            name: "P-384",
            signing: &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            verifying: &signature::ECDSA_P384_SHA384_FIXED,
            ecdh: &agreement::ECDH_P384,
            spki: der::SPKI_P384,
            size: 48,
            hash: "SHA-384",
        }),
        other => Err(NotSupported(format!("unsupported namedCurve {other:?} (use P-256 or P-384)"))),
    }
}
/// The public key bytes after a fixed SPKI header.
fn strip<'a>(spki: &'a [u8], header: &[u8], len: usize, what: &str) -> R<&'a [u8]> {
    match spki.strip_prefix(header) {
        Some(k) if k.len() == len => Ok(k),
        _ => Err(Data(format!("not a {what} public key (SPKI)"))),
    }
}
fn check_point(c: &Curve, point: &[u8]) -> R<()> {
    let p = agreement::UnparsedPublicKey::new(c.ecdh, point);
    agreement::ParsedPublicKey::try_from(&p).map(|_| ()).map_err(|_| Data(format!("not a valid {} point", c.name)))
}

fn rsa_info(public: &rsa::PublicKey) -> Value {
    json!({
        "modulusLength": public.modulus_len() * 8,
        "publicExponent": enc(public.exponent().big_endian_without_leading_zero()),
    })
}
fn with_key(mut info: Value, kind: &str, key: &[u8]) -> Value {
    info["type"] = json!(kind);
    info["key"] = json!(enc(key));
    info
}

fn import(a: &Args, data: &[u8]) -> R<Value> {
    let fam = family(&a.alg)?;
    if a.format == "jwk" {
        let jwk = a.jwk.as_ref().ok_or_else(|| Data("no JWK given".into()))?;
        return import_jwk(a, fam, jwk);
    }
    let bad_format = || NotSupported(format!("{} keys do not import from {:?}", a.alg, a.format));
    match (fam, a.format.as_str()) {
        (Family::Rsa, "pkcs8") => {
            let k = rsa::KeyPair::from_pkcs8(data).map_err(rejected("RSA private key (PKCS#8)"))?;
            Ok(with_key(rsa_info(k.public_key()), "private", &der_of(k.as_der())?))
        }
        (Family::Rsa, "spki") => {
            let k = rsa::PublicKey::from_der(data).map_err(rejected("RSA public key (SPKI)"))?;
            Ok(with_key(rsa_info(&k), "public", &der_of(k.as_der())?))
        }
        (Family::Ec, "pkcs8") => {
            let c = curve(a.curve.as_deref())?;
            let k = EcdsaKeyPair::from_pkcs8(c.signing, data)
                .map_err(rejected("EC private key (PKCS#8) for this curve"))?;
            Ok(with_key(json!({}), "private", &der_of(k.to_pkcs8v1())?))
        }
        (Family::Ec, f @ ("spki" | "raw")) => {
            let c = curve(a.curve.as_deref())?;
            let point = if f == "raw" { data } else { strip(data, c.spki, 2 * c.size + 1, c.name)? };
            check_point(&c, point)?;
            Ok(with_key(json!({}), "public", &[c.spki, point].concat()))
        }
        (Family::Ed25519, "pkcs8") => {
            let k =
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(data).map_err(rejected("Ed25519 private key (PKCS#8)"))?;
            Ok(with_key(json!({}), "private", &der_of(k.to_pkcs8v1())?))
        }
        (Family::X25519, "pkcs8") => {
            let inner =
                der::pkcs8_private_key(data).ok_or_else(|| Data("invalid X25519 private key (PKCS#8)".into()))?;
            let seed = match der::read(inner) {
                Some((0x04, s, [])) if s.len() == 32 => s,
                _ => return Err(Data("invalid X25519 private key (PKCS#8)".into())),
            };
            agreement::PrivateKey::from_private_key(&agreement::X25519, seed)
                .map_err(rejected("X25519 private key"))?;
            Ok(with_key(json!({}), "private", &[der::PKCS8_X25519, seed].concat()))
        }
        (f @ (Family::Ed25519 | Family::X25519), fmt @ ("spki" | "raw")) => {
            let header = if matches!(f, Family::Ed25519) { der::SPKI_ED25519 } else { der::SPKI_X25519 };
            let k = if fmt == "raw" { data } else { strip(data, header, 32, &a.alg)? };
            if k.len() != 32 {
                return Err(Data(format!("a raw {} public key is 32 bytes", a.alg)));
            }
            Ok(with_key(json!({}), "public", &[header, k].concat()))
        }
        _ => Err(bad_format()),
    }
}

fn import_jwk(a: &Args, fam: Family, j: &Map<String, Value>) -> R<Value> {
    let kty = j.get("kty").and_then(Value::as_str).unwrap_or("");
    let private = j.contains_key("d");
    match fam {
        Family::Rsa => {
            if kty != "RSA" {
                return Err(Data(format!("an {} JWK must have kty \"RSA\"", a.alg)));
            }
            let (n, e) = (b64u(j.get("n"), "n")?, b64u(j.get("e"), "e")?);
            if private {
                let f = |k: &str| b64u(j.get(k), k);
                let (d, p, q, dp, dq, qi) = (f("d")?, f("p")?, f("q")?, f("dp")?, f("dq")?, f("qi")?);
                let parts = rsa::KeyPairComponents {
                    public_key: rsa::PublicKeyComponents { n: &n[..], e: &e[..] },
                    d: &d[..],
                    p: &p[..],
                    q: &q[..],
                    dP: &dp[..],
                    dQ: &dq[..],
                    qInv: &qi[..],
                };
                let k = rsa::KeyPair::from_components(&parts).map_err(rejected("RSA private JWK"))?;
                Ok(with_key(rsa_info(k.public_key()), "private", &der_of(k.as_der())?))
            } else {
                let k = rsa::PublicKey::from_der(&der::sequence_of_integers(&[&n, &e]))
                    .map_err(rejected("RSA public JWK"))?;
                Ok(with_key(rsa_info(&k), "public", &der_of(k.as_der())?))
            }
        }
        Family::Ec => {
            let c = curve(a.curve.as_deref())?;
            if kty != "EC" || j.get("crv").and_then(Value::as_str) != Some(c.name) {
                return Err(Data(format!("the JWK must have kty \"EC\" and crv \"{}\"", c.name)));
            }
            let (x, y) = (b64u(j.get("x"), "x")?, b64u(j.get("y"), "y")?);
            if x.len() != c.size || y.len() != c.size {
                return Err(Data(format!("JWK x and y must be {} bytes for {}", c.size, c.name)));
            }
            let point = [&[4u8][..], &x, &y].concat();
            check_point(&c, &point)?;
            if private {
                let d = b64u(j.get("d"), "d")?;
                let k = EcdsaKeyPair::from_private_key_and_public_key(c.signing, &d, &point)
                    .map_err(rejected("EC private JWK"))?;
                Ok(with_key(json!({}), "private", &der_of(k.to_pkcs8v1())?))
            } else {
                Ok(with_key(json!({}), "public", &[c.spki, &point].concat()))
            }
        }
        Family::Ed25519 | Family::X25519 => {
            if kty != "OKP" || j.get("crv").and_then(Value::as_str) != Some(&a.alg) {
                return Err(Data(format!("the JWK must have kty \"OKP\" and crv \"{}\"", a.alg)));
            }
            let x = b64u(j.get("x"), "x")?;
            if x.len() != 32 {
                return Err(Data("JWK x must be 32 bytes".into()));
            }
            let ed = matches!(fam, Family::Ed25519);
            if !private {
                let header = if ed { der::SPKI_ED25519 } else { der::SPKI_X25519 };
                return Ok(with_key(json!({}), "public", &[header, &x].concat()));
            }
            let d = b64u(j.get("d"), "d")?;
            if ed {
                let k = Ed25519KeyPair::from_seed_and_public_key(&d, &x).map_err(rejected("Ed25519 private JWK"))?;
                Ok(with_key(json!({}), "private", &der_of(k.to_pkcs8v1())?))
            } else {
                let k = agreement::PrivateKey::from_private_key(&agreement::X25519, &d)
                    .map_err(rejected("X25519 private JWK"))?;
                let public = k.compute_public_key().map_err(|_| Operation("X25519 key".into()))?;
                if public.as_ref() != x.as_slice() {
                    return Err(Data("the JWK's x does not match its d".into()));
                }
                Ok(with_key(json!({}), "private", &[der::PKCS8_X25519, &d].concat()))
            }
        }
    }
}

/// The key as stored is already the pkcs8 / spki form; raw is a public key's bytes.
fn export(a: &Args, key: &[u8]) -> R<Vec<u8>> {
    match (a.format.as_str(), family(&a.alg)?) {
        ("pkcs8" | "spki", _) => Ok(key.to_vec()),
        ("raw", Family::Ec) => {
            let c = curve(a.curve.as_deref())?;
            Ok(strip(key, c.spki, 2 * c.size + 1, c.name)?.to_vec())
        }
        ("raw", Family::Ed25519) => Ok(strip(key, der::SPKI_ED25519, 32, "Ed25519")?.to_vec()),
        ("raw", Family::X25519) => Ok(strip(key, der::SPKI_X25519, 32, "X25519")?.to_vec()),
        (f, _) => Err(NotSupported(format!("{} keys do not export as {f:?}", a.alg))),
    }
}

fn export_jwk(a: &Args, key: &[u8]) -> R<Value> {
    let private = a.kind == "private";
    match family(&a.alg)? {
        Family::Rsa => {
            let bits = |h: Option<&str>| h.unwrap_or("SHA-256").trim_start_matches("SHA-").to_string();
            let alg = format!("{}{}", if a.alg == "RSA-PSS" { "PS" } else { "RS" }, bits(a.hash.as_deref()));
            if !private {
                let k = rsa::PublicKey::from_der(key).map_err(rejected("RSA public key"))?;
                return Ok(json!({"kty": "RSA", "alg": alg,
                    "n": encu(k.modulus().big_endian_without_leading_zero()),
                    "e": encu(k.exponent().big_endian_without_leading_zero())}));
            }
            let ints = der::pkcs8_private_key(key)
                .and_then(der::integers)
                .filter(|i| i.len() >= 9)
                .ok_or_else(|| Operation("unreadable RSA private key".into()))?;
            let mut j = json!({"kty": "RSA", "alg": alg});
            for (i, name) in ["n", "e", "d", "p", "q", "dp", "dq", "qi"].iter().enumerate() {
                j[*name] = json!(encu(&ints[i + 1]));
            }
            Ok(j)
        }
        Family::Ec => {
            let c = curve(a.curve.as_deref())?;
            let (point, d) = if private {
                let k = EcdsaKeyPair::from_pkcs8(c.signing, key).map_err(rejected("EC private key"))?;
                let d = k.private_key().as_be_bytes().map_err(|_| Operation("EC key".into()))?;
                (k.public_key().as_ref().to_vec(), Some(d.as_ref().to_vec()))
            } else {
                (strip(key, c.spki, 2 * c.size + 1, c.name)?.to_vec(), None)
            };
            let mut j = json!({"kty": "EC", "crv": c.name,
                "x": encu(&point[1..1 + c.size]), "y": encu(&point[1 + c.size..])});
            if let Some(d) = d {
                j["d"] = json!(encu(&d));
            }
            Ok(j)
        }
        Family::Ed25519 => {
            if !private {
                return Ok(
                    json!({"kty": "OKP", "crv": "Ed25519", "alg": "Ed25519", "x": encu(strip(key, der::SPKI_ED25519, 32, "Ed25519")?)}),
                );
            }
            let k = Ed25519KeyPair::from_pkcs8_maybe_unchecked(key).map_err(rejected("Ed25519 private key"))?;
            let seed = k.seed().and_then(|s| s.as_be_bytes()).map_err(|_| Operation("Ed25519 key".into()))?;
            Ok(
                json!({"kty": "OKP", "crv": "Ed25519", "alg": "Ed25519", "x": encu(k.public_key().as_ref()), "d": encu(seed.as_ref())}),
            )
        }
        Family::X25519 => {
            if !private {
                return Ok(
                    json!({"kty": "OKP", "crv": "X25519", "x": encu(strip(key, der::SPKI_X25519, 32, "X25519")?)}),
                );
            }
            let seed = x25519_seed(key)?;
            let k =
                agreement::PrivateKey::from_private_key(&agreement::X25519, seed).map_err(rejected("X25519 key"))?;
            let public = k.compute_public_key().map_err(|_| Operation("X25519 key".into()))?;
            Ok(json!({"kty": "OKP", "crv": "X25519", "x": encu(public.as_ref()), "d": encu(seed)}))
        }
    }
}

fn x25519_seed(pkcs8: &[u8]) -> R<&[u8]> {
    pkcs8
        .strip_prefix(der::PKCS8_X25519)
        .filter(|s| s.len() == 32)
        .ok_or_else(|| Data("not an X25519 private key".into()))
}

fn generate(a: &Args) -> R<Value> {
    let failed = |_| Operation("key generation failed".into());
    match family(&a.alg)? {
        Family::Rsa => {
            let size = match a.modulus_length {
                2048 => rsa::KeySize::Rsa2048,
                3072 => rsa::KeySize::Rsa3072,
                4096 => rsa::KeySize::Rsa4096,
                n => return Err(NotSupported(format!("modulusLength {n} is not supported (use 2048, 3072 or 4096)"))),
            };
            let e = b64(&a.public_exponent, "publicExponent")?;
            let e = e.iter().skip_while(|&&b| b == 0).copied().collect::<Vec<_>>();
            if e != [1, 0, 1] {
                return Err(NotSupported("publicExponent must be 65537 ([1, 0, 1])".into()));
            }
            let k = rsa::KeyPair::generate(size).map_err(failed)?;
            let mut info = rsa_info(k.public_key());
            info["private"] = json!(enc(&der_of(k.as_der())?));
            info["public"] = json!(enc(&der_of(k.public_key().as_der())?));
            Ok(info)
        }
        Family::Ec => {
            let c = curve(a.curve.as_deref())?;
            let k = EcdsaKeyPair::generate(c.signing).map_err(failed)?;
            Ok(
                json!({"private": enc(&der_of(k.to_pkcs8v1())?), "public": enc(&[c.spki, k.public_key().as_ref()].concat())}),
            )
        }
        Family::Ed25519 => {
            let k = Ed25519KeyPair::generate().map_err(failed)?;
            Ok(
                json!({"private": enc(&der_of(k.to_pkcs8v1())?), "public": enc(&[der::SPKI_ED25519, k.public_key().as_ref()].concat())}),
            )
        }
        Family::X25519 => {
            let k = agreement::PrivateKey::generate(&agreement::X25519).map_err(failed)?;
            let seed: aws_lc_rs::encoding::Curve25519SeedBin = k.as_be_bytes().map_err(failed)?;
            let public = k.compute_public_key().map_err(failed)?;
            Ok(json!({"private": enc(&[der::PKCS8_X25519, seed.as_ref()].concat()),
                "public": enc(&[der::SPKI_X25519, public.as_ref()].concat())}))
        }
    }
}

/// RSA's signing and verification parameters for the key's hash (and PSS salt).
fn rsa_params(a: &Args) -> R<(&'static dyn signature::RsaEncoding, &'static signature::RsaParameters)> {
    let hash = a.hash.as_deref().unwrap_or("");
    let pss = a.alg == "RSA-PSS";
    if pss {
        let want = match hash {
            "SHA-256" => 32,
            "SHA-384" => 48,
            "SHA-512" => 64,
            _ => 0,
        };
        if a.salt_length != Some(want) {
            let got = a.salt_length.map_or("none".to_string(), |n| n.to_string());
            return Err(NotSupported(format!(
                "RSA-PSS in Quasm uses a salt as long as the hash ({want} bytes for {hash}), got saltLength {got}"
            )));
        }
    }
    Ok(match (pss, hash) {
        (false, "SHA-256") => (&signature::RSA_PKCS1_SHA256, &signature::RSA_PKCS1_2048_8192_SHA256),
        (false, "SHA-384") => (&signature::RSA_PKCS1_SHA384, &signature::RSA_PKCS1_2048_8192_SHA384),
        (false, "SHA-512") => (&signature::RSA_PKCS1_SHA512, &signature::RSA_PKCS1_2048_8192_SHA512),
        (true, "SHA-256") => (&signature::RSA_PSS_SHA256, &signature::RSA_PSS_2048_8192_SHA256),
        (true, "SHA-384") => (&signature::RSA_PSS_SHA384, &signature::RSA_PSS_2048_8192_SHA384),
        (true, "SHA-512") => (&signature::RSA_PSS_SHA512, &signature::RSA_PSS_2048_8192_SHA512),
        _ => {
            return Err(NotSupported(format!(
                "{} with hash {hash:?} is not supported (use SHA-256, SHA-384 or SHA-512)",
                a.alg
            )))
        }
    })
}
fn ecdsa_curve(a: &Args) -> R<Curve> {
    let c = curve(a.curve.as_deref())?;
    if a.hash.as_deref() != Some(c.hash) {
        let got = a.hash.as_deref().unwrap_or("no hash");
        return Err(NotSupported(format!("ECDSA on {} signs with {} in Quasm, got {got}", c.name, c.hash)));
    }
    Ok(c)
}

fn sign(a: &Args, key: &[u8], data: &[u8]) -> R<Vec<u8>> {
    let failed = |_| Operation("signing failed".into());
    match family(&a.alg)? {
        Family::Rsa => {
            let (encoding, _) = rsa_params(a)?;
            let k = rsa::KeyPair::from_pkcs8(key).map_err(rejected("RSA private key"))?;
            let mut sig = vec![0; k.public_modulus_len()];
            k.sign(encoding, &SystemRandom::new(), data, &mut sig).map_err(failed)?;
            Ok(sig)
        }
        Family::Ec if a.alg == "ECDSA" => {
            let c = ecdsa_curve(a)?;
            let k = EcdsaKeyPair::from_pkcs8(c.signing, key).map_err(rejected("EC private key"))?;
            Ok(k.sign(&SystemRandom::new(), data).map_err(failed)?.as_ref().to_vec())
        }
        Family::Ed25519 => {
            let k = Ed25519KeyPair::from_pkcs8_maybe_unchecked(key).map_err(rejected("Ed25519 private key"))?;
            Ok(k.sign(data).as_ref().to_vec())
        }
        _ => Err(NotSupported(format!("{} keys do not sign", a.alg))),
    }
}

fn verify(a: &Args, key: &[u8], sig: &[u8], data: &[u8]) -> R<bool> {
    Ok(match family(&a.alg)? {
        Family::Rsa => {
            let (_, params) = rsa_params(a)?;
            signature::UnparsedPublicKey::new(params, key).verify(data, sig).is_ok()
        }
        Family::Ec if a.alg == "ECDSA" => {
            let c = ecdsa_curve(a)?;
            let point = strip(key, c.spki, 2 * c.size + 1, c.name)?;
            signature::UnparsedPublicKey::new(c.verifying, point).verify(data, sig).is_ok()
        }
        Family::Ed25519 => {
            let k = strip(key, der::SPKI_ED25519, 32, "Ed25519")?;
            signature::UnparsedPublicKey::new(&signature::ED25519, k).verify(data, sig).is_ok()
        }
        _ => return Err(NotSupported(format!("{} keys do not verify", a.alg))),
    })
}

fn aes(a: &Args, key: &[u8], data: &[u8]) -> R<Vec<u8>> {
    let encrypt = a.op == "encrypt";
    let iv = b64(&a.iv, "iv")?;
    let bad_key = |_| Data("AES keys are 16, 24 or 32 bytes".into());
    let mut buf = data.to_vec();
    match a.alg.as_str() {
        "AES-GCM" => {
            let alg = match key.len() {
                16 => &aead::AES_128_GCM,
                24 => &aead::AES_192_GCM,
                32 => &aead::AES_256_GCM,
                _ => return Err(Data("AES keys are 16, 24 or 32 bytes".into())),
            };
            let k = aead::LessSafeKey::new(aead::UnboundKey::new(alg, key).map_err(bad_key)?);
            let nonce = aead::Nonce::try_assume_unique_for_key(&iv)
                .map_err(|_| NotSupported("AES-GCM in Quasm takes a 12-byte iv".into()))?;
            let aad = aead::Aad::from(match &a.aad {
                Some(s) => b64(s, "additionalData")?,
                None => Vec::new(),
            });
            if encrypt {
                k.seal_in_place_append_tag(nonce, aad, &mut buf).map_err(|_| Operation("encryption failed".into()))?;
                Ok(buf)
            } else {
                let n = k
                    .open_in_place(nonce, aad, &mut buf)
                    .map_err(|_| {
                        Operation("decryption failed (wrong key, iv, additionalData or corrupted data)".into())
                    })?
                    .len();
                buf.truncate(n);
                Ok(buf)
            }
        }
        "AES-CBC" => {
            let alg = match key.len() {
                16 => &cipher::AES_128,
                24 => &cipher::AES_192,
                32 => &cipher::AES_256,
                _ => return Err(Data("AES keys are 16, 24 or 32 bytes".into())),
            };
            let iv: [u8; 16] = iv.try_into().map_err(|_| Operation("AES-CBC: iv must be 16 bytes".into()))?;
            let k = cipher::UnboundCipherKey::new(alg, key).map_err(bad_key)?;
            if encrypt {
                let k = cipher::PaddedBlockEncryptingKey::cbc_pkcs7(k).map_err(bad_key)?;
                k.less_safe_encrypt(&mut buf, cipher::EncryptionContext::Iv128(iv.into()))
                    .map_err(|_| Operation("encryption failed".into()))?;
                Ok(buf)
            } else {
                let k = cipher::PaddedBlockDecryptingKey::cbc_pkcs7(k).map_err(bad_key)?;
                let n = k
                    .decrypt(&mut buf, cipher::DecryptionContext::Iv128(iv.into()))
                    .map_err(|_| Operation("decryption failed (wrong key or iv, or bad padding)".into()))?
                    .len();
                buf.truncate(n);
                Ok(buf)
            }
        }
        other => Err(NotSupported(format!("{other} does not encrypt"))),
    }
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn derive(a: &Args, key: &[u8]) -> R<Vec<u8>> {
    let bytes = |l: usize| {
        if !l.is_multiple_of(8) {
            return Err(Operation("length must be a multiple of 8".into()));
        }
        Ok(l / 8)
    };
    match a.alg.as_str() {
        "PBKDF2" => {
            let alg = match a.hash.as_deref() {
                Some("SHA-1") => pbkdf2::PBKDF2_HMAC_SHA1,
                Some("SHA-256") => pbkdf2::PBKDF2_HMAC_SHA256,
                Some("SHA-384") => pbkdf2::PBKDF2_HMAC_SHA384,
                Some("SHA-512") => pbkdf2::PBKDF2_HMAC_SHA512,
                h => return Err(NotSupported(format!("PBKDF2 with hash {h:?}"))),
            };
            let n = bytes(a.length.unwrap_or(0))?;
            let it = NonZeroU32::new(a.iterations).ok_or_else(|| Operation("iterations must be positive".into()))?;
            if n == 0 {
                return Err(Operation("length must be positive".into()));
            }
            let mut out = vec![0; n];
            pbkdf2::derive(alg, it, &b64(&a.salt, "salt")?, key, &mut out);
            Ok(out)
        }
        "HKDF" => {
            let alg = match a.hash.as_deref() {
                Some("SHA-1") => hkdf::HKDF_SHA1_FOR_LEGACY_USE_ONLY,
                Some("SHA-256") => hkdf::HKDF_SHA256,
                Some("SHA-384") => hkdf::HKDF_SHA384,
                Some("SHA-512") => hkdf::HKDF_SHA512,
                h => return Err(NotSupported(format!("HKDF with hash {h:?}"))),
            };
            let n = bytes(a.length.unwrap_or(0))?;
            let info = b64(&a.info, "info")?;
            let info = [&info[..]];
            let mut out = vec![0; n];
            let prk = hkdf::Salt::new(alg, &b64(&a.salt, "salt")?).extract(key);
            prk.expand(&info, Len(n))
                .and_then(|okm| okm.fill(&mut out))
                .map_err(|_| Operation("HKDF length is too long for the hash".into()))?;
            Ok(out)
        }
        "ECDH" | "X25519" => {
            let peer = b64(&a.public, "public")?;
            let (private, point, alg) = if a.alg == "X25519" {
                let k = agreement::PrivateKey::from_private_key(&agreement::X25519, x25519_seed(key)?)
                    .map_err(rejected("X25519 private key"))?;
                (k, strip(&peer, der::SPKI_X25519, 32, "X25519")?.to_vec(), &agreement::X25519)
            } else {
                let c = curve(a.curve.as_deref())?;
                let k =
                    agreement::PrivateKey::from_private_key_der(c.ecdh, key).map_err(rejected("ECDH private key"))?;
                (k, strip(&peer, c.spki, 2 * c.size + 1, c.name)?.to_vec(), c.ecdh)
            };
            let mut secret = agreement::agree(
                &private,
                agreement::UnparsedPublicKey::new(alg, &point),
                Operation("key agreement failed".into()),
                |k| Ok(k.to_vec()),
            )?;
            if let Some(l) = a.length {
                let n = bytes(l)?;
                if n > secret.len() {
                    return Err(Operation(format!(
                        "length {l} exceeds the {} bits the agreement yields",
                        secret.len() * 8
                    )));
                }
                secret.truncate(n);
            }
            Ok(secret)
        }
        other => Err(NotSupported(format!("{other} does not derive bits"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_json(v: Value, data: &[u8]) -> Result<Vec<u8>, String> {
        call(v.to_string().as_bytes(), data)
    }

    #[test]
    fn ecdsa_generate_sign_verify_and_jwk_round_trip() {
        let g: Value = serde_json::from_slice(
            &run_json(json!({"op": "generate", "alg": "ECDSA", "curve": "P-256"}), b"").unwrap(),
        )
        .unwrap();
        let (private, public) = (g["private"].as_str().unwrap(), g["public"].as_str().unwrap());
        let sig = run_json(
            json!({"op": "sign", "alg": "ECDSA", "curve": "P-256", "hash": "SHA-256", "key": private}),
            b"msg",
        )
        .unwrap();
        assert_eq!(sig.len(), 64);
        let verify = |data: &[u8]| {
            run_json(
                json!({"op": "verify", "alg": "ECDSA", "curve": "P-256", "hash": "SHA-256", "key": public, "signature": enc(&sig)}),
                data,
            )
            .unwrap()
        };
        assert_eq!(verify(b"msg"), vec![1]);
        assert_eq!(verify(b"other"), vec![0]);
        let jwk: Value = serde_json::from_slice(
            &run_json(json!({"op": "export", "alg": "ECDSA", "curve": "P-256", "format": "jwk", "kind": "private", "key": private}), b"")
                .unwrap(),
        )
        .unwrap();
        let back: Value = serde_json::from_slice(
            &run_json(json!({"op": "import", "alg": "ECDSA", "curve": "P-256", "format": "jwk", "jwk": jwk}), b"")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(back["type"], "private");
        assert_eq!(back["key"], g["private"]);
    }

    #[test]
    fn errors_carry_dom_exception_names() {
        let e = run_json(json!({"op": "import", "alg": "RSA-PSS", "format": "pkcs8"}), b"junk").unwrap_err();
        assert!(e.starts_with("DataError: "), "{e}");
        let e = run_json(json!({"op": "generate", "alg": "ECDSA", "curve": "P-521"}), b"").unwrap_err();
        assert!(e.starts_with("NotSupportedError: "), "{e}");
    }
}
