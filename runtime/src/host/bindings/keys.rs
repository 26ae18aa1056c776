//! The Ed25519 keys that sign binding tokens, kept like Quasm's other keys:
//! files under the data directory's `keys/` (here `keys/bindings/`, one
//! `<kid>.ed25519` file per key, PKCS#8 as hex, mode 0600).
//!
//! Rotation ([`KeyRing::rotate`], `quasm keys rotate`) adds a key that
//! signs from then on and keeps the previous one in the JWKS, so tokens it
//! signed (valid at most 5 minutes) still verify; older keys are removed.
//! Running servers re-read the directory every few seconds, so a rotation
//! made by another process (or node sharing the directory) is picked up.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use parking_lot::Mutex;

const SUFFIX: &str = ".ed25519";
/// How often a running server looks for keys rotated by another process.
const RELOAD_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{action} {path}: {error}")]
    Io { action: &'static str, path: PathBuf, error: std::io::Error },
    #[error("binding signing key {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("generating a binding signing key failed")]
    Generate,
}

/// One signing key.
pub struct SigningKey {
    pub kid: String,
    pair: Ed25519KeyPair,
}

impl SigningKey {
    /// The public key as a JWK.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref()),
        })
    }

    /// A compact JWS (EdDSA) of `claims`.
    pub fn sign_jwt(&self, claims: &serde_json::Value) -> String {
        let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid});
        let mut out = URL_SAFE_NO_PAD.encode(header.to_string());
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        let sig = self.pair.sign(out.as_bytes());
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(sig.as_ref()));
        out
    }
}

struct Loaded {
    /// Newest first: the first signs.
    keys: Vec<Arc<SigningKey>>,
    at: Instant,
}

/// The keys in one directory.
pub struct KeyRing {
    dir: Option<PathBuf>,
    loaded: Mutex<Loaded>,
}

impl KeyRing {
    /// The keys in `dir`, creating the first one if there is none.
    pub fn open(dir: &Path) -> Result<Self, KeyError> {
        let mut keys = read_dir(dir)?;
        if keys.is_empty() {
            create(dir)?;
            keys = read_dir(dir)?;
        }
        Ok(Self { dir: Some(dir.to_owned()), loaded: Mutex::new(Loaded { keys, at: Instant::now() }) })
    }

    /// A ring with one key that lives in memory only (`quasm run`, tests).
    pub fn ephemeral() -> Result<Self, KeyError> {
        let (kid, pkcs8) = generate()?;
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| KeyError::Generate)?;
        let keys = vec![Arc::new(SigningKey { kid, pair })];
        Ok(Self { dir: None, loaded: Mutex::new(Loaded { keys, at: Instant::now() }) })
    }

    /// Adds a new signing key to `dir` and removes all but it and the
    /// previous one. Returns the new key's id.
    pub fn rotate(dir: &Path) -> Result<String, KeyError> {
        let kid = create(dir)?;
        let mut files = key_files(dir)?;
        files.sort();
        files.reverse();
        for old in files.iter().skip(2) {
            fs::remove_file(old).map_err(io("remove", old))?;
        }
        Ok(kid)
    }

    fn current(&self) -> Vec<Arc<SigningKey>> {
        let mut l = self.loaded.lock();
        if let Some(dir) = &self.dir {
            if l.at.elapsed() >= RELOAD_EVERY {
                l.at = Instant::now();
                match read_dir(dir) {
                    Ok(keys) if !keys.is_empty() => l.keys = keys,
                    Ok(_) => tracing::warn!("{}: no binding signing key left; keeping the loaded ones", dir.display()),
                    Err(e) => tracing::warn!("reloading binding signing keys: {e}"),
                }
            }
        }
        l.keys.clone()
    }

    /// The key that signs now.
    pub fn signer(&self) -> Arc<SigningKey> {
        self.current().swap_remove(0)
    }

    /// `{"keys": [...]}`: every key whose tokens may still be valid.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({"keys": self.current().iter().map(|k| k.jwk()).collect::<Vec<_>>()})
    }
}

/// A new key id that sorts after older ones: milliseconds since the epoch,
/// then random hex.
fn generate() -> Result<(String, Vec<u8>), KeyError> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Generate)?;
    let mut rand = [0u8; 4];
    getrandom::fill(&mut rand).map_err(|_| KeyError::Generate)?;
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let hex: String = rand.iter().map(|b| format!("{b:02x}")).collect();
    Ok((format!("{ms:013}-{hex}"), doc.as_ref().to_vec()))
}

fn create(dir: &Path) -> Result<String, KeyError> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io("create directory", dir))?;
    let (kid, pkcs8) = generate()?;
    let path = dir.join(format!("{kid}{SUFFIX}"));
    let hex: String = pkcs8.iter().map(|b| format!("{b:02x}")).collect();
    let mut f =
        fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(io("create", &path))?;
    f.write_all(format!("{hex}\n").as_bytes()).and_then(|()| f.sync_all()).map_err(io("write", &path))?;
    Ok(kid)
}

fn key_files(dir: &Path) -> Result<Vec<PathBuf>, KeyError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("read directory", dir)(e)),
    };
    Ok(entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(SUFFIX) && !n.starts_with('.')))
        .collect())
}

/// The keys in `dir`, newest first.
fn read_dir(dir: &Path) -> Result<Vec<Arc<SigningKey>>, KeyError> {
    let mut files = key_files(dir)?;
    files.sort();
    files.reverse();
    files
        .iter()
        .map(|path| {
            let text = fs::read_to_string(path).map_err(io("read", path))?;
            let bad = |reason: &str| KeyError::Invalid { path: path.clone(), reason: reason.into() };
            let der = decode_hex(text.trim()).ok_or_else(|| bad("expected PKCS#8 as hex"))?;
            let pair = Ed25519KeyPair::from_pkcs8(&der).map_err(|_| bad("not an Ed25519 PKCS#8 key"))?;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            Ok(Arc::new(SigningKey { kid: name.trim_end_matches(SUFFIX).to_owned(), pair }))
        })
        .collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> KeyError {
    let path = path.to_path_buf();
    move |error| KeyError::Io { action, path, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_signs_rotates_and_keeps_the_previous_key() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys/bindings");
        let ring = KeyRing::open(&dir).unwrap();
        let first = ring.signer().kid.clone();
        assert_eq!(KeyRing::open(&dir).unwrap().signer().kid, first, "opened again: same key");
        let jwt = ring.signer().sign_jwt(&serde_json::json!({"a": 1}));
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        // The signature verifies with the JWK's public key.
        let x = URL_SAFE_NO_PAD.decode(ring.jwks()["keys"][0]["x"].as_str().unwrap()).unwrap();
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let pk = aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, x);
        pk.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).unwrap();

        std::thread::sleep(Duration::from_millis(3)); // key ids sort by millisecond
        let second = KeyRing::rotate(&dir).unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let third = KeyRing::rotate(&dir).unwrap();
        let ring = KeyRing::open(&dir).unwrap();
        assert_eq!(ring.signer().kid, third);
        let kids: Vec<String> =
            ring.jwks()["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
        assert_eq!(kids, [third, second], "the oldest key is gone");
    }

    #[test]
    fn a_bad_key_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("0000000001-aa.ed25519"), "zz\n").unwrap();
        let e = KeyRing::open(tmp.path()).err().unwrap();
        assert!(e.to_string().contains("0000000001-aa.ed25519"), "{e}");
    }
}
