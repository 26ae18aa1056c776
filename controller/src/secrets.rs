//! Function secrets, encrypted at rest with the operator's master key
//! (AES-256-GCM). Stored as `nonce (12 bytes) | ciphertext` of the JSON map;
//! the API only ever returns secret names.

use std::collections::BTreeMap;
use std::path::Path;

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};

use crate::error::{ControllerError, Result};

/// The master key. Losing it makes stored secrets unreadable.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// From 32 key bytes given as 64 hex characters.
    pub fn from_hex(hex_key: &str) -> Result<Self> {
        let bytes = hex::decode(hex_key.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| ControllerError::invalid("master_key", "must be 64 hex characters (32 bytes)"))?;
        Ok(Self { cipher: Aes256Gcm::new_from_slice(&bytes).expect("32-byte key") })
    }

    /// Reads `path` (64 hex characters) or creates it with a random key,
    /// mode 0600. Used for the embedded default, so a first start needs no
    /// configuration; operators set `QUASM_MASTER_KEY` instead.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let io = |e: std::io::Error| ControllerError::Internal(format!("master key {}: {e}", path.display()));
        match std::fs::read_to_string(path) {
            Ok(s) => return Self::from_hex(&s),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            Err(_) => {}
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| ControllerError::Internal(format!("no randomness: {e}")))?;
        crate::files::write_new_private(path, hex::encode(key).as_bytes()).map_err(io)?;
        // Another process may have won the race: use what is on disk.
        Self::from_hex(&std::fs::read_to_string(path).map_err(io)?)
    }

    pub fn seal(&self, secrets: &BTreeMap<String, String>) -> Result<Vec<u8>> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| ControllerError::Internal(format!("no randomness: {e}")))?;
        let plain = serde_json::to_vec(secrets).expect("a string map serialises");
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
            .map_err(|_| ControllerError::Internal("encrypting secrets failed".into()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    pub fn open(&self, sealed: &[u8]) -> Result<BTreeMap<String, String>> {
        let fail = || {
            ControllerError::Internal(
                "stored secrets cannot be decrypted: is the master key the one they were written with?".into(),
            )
        };
        if sealed.len() < 12 {
            return Err(fail());
        }
        let (nonce, data) = sealed.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), data).map_err(|_| fail())?;
        serde_json::from_slice(&plain).map_err(|_| fail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let a = SecretBox::from_hex(&"11".repeat(32)).unwrap();
        let b = SecretBox::from_hex(&"22".repeat(32)).unwrap();
        let secrets = BTreeMap::from([("STRIPE_KEY".to_string(), "sk_live_x".to_string())]);
        let sealed = a.seal(&secrets).unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"sk_live_x"), "plaintext must not appear");
        assert_eq!(a.open(&sealed).unwrap(), secrets);
        assert!(b.open(&sealed).unwrap_err().to_string().contains("master key"));
        assert!(SecretBox::from_hex("abc").is_err());
    }

    #[test]
    fn key_file_is_created_once_with_private_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let a = SecretBox::load_or_create(&path).unwrap();
        let b = SecretBox::load_or_create(&path).unwrap();
        let sealed = a.seal(&BTreeMap::new()).unwrap();
        assert!(b.open(&sealed).is_ok(), "the second load reads the same key");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
