//! The embedded default HS256 signing key, so a first `quasm serve` needs no
//! JWT configuration and `quasm token create` can mint tokens it accepts.
//!
//! Format: `dir/jwt-hs256.key` holds the secret as hex (64 characters for the
//! 32 bytes we generate; any even-length hex of at least 32 bytes is read),
//! followed by a newline. Hex, not raw bytes, so an operator can copy it into
//! an environment variable or another machine's configuration.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use super::error::AuthError;
use super::keys::MIN_HMAC_SECRET_LEN;

/// The key file's name inside the state directory.
pub const HS256_KEY_FILE: &str = "jwt-hs256.key";

/// Reads `dir/jwt-hs256.key`, or creates it with 32 random bytes (mode 0600,
/// creating `dir` with mode 0700 if missing).
///
/// Creation is atomic and race-free: the key is written and synced to a
/// uniquely named temporary file, then hard-linked into place. A link never
/// replaces an existing file, so when several processes or threads start at
/// once exactly one key wins and the others read it. (A rename would let a
/// late writer silently replace a key already handed out.)
pub fn load_or_create_hs256_secret(dir: &Path) -> Result<Vec<u8>, AuthError> {
    let path = dir.join(HS256_KEY_FILE);
    if let Some(secret) = read_secret(&path)? {
        return Ok(secret);
    }

    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io("create directory", dir))?;

    let mut secret = vec![0u8; 32];
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut secret)
        .and_then(|()| getrandom::fill(&mut suffix))
        .map_err(|e| io("generate", &path)(std::io::Error::other(e.to_string())))?;
    let tmp = dir.join(format!(".{HS256_KEY_FILE}.{}.tmp", hex::encode(suffix)));

    let written = write_new(&tmp, format!("{}\n", hex::encode(&secret)).as_bytes());
    let linked = written.and_then(|()| fs::hard_link(&tmp, &path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            // Make the new directory entry durable too.
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(secret)
        }
        // Someone else created it first: theirs is the key.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => read_secret(&path)?.ok_or_else(|| AuthError::Io {
            action: "read",
            path: path.clone(),
            error: std::io::Error::new(ErrorKind::NotFound, "key file vanished while being created"),
        }),
        Err(e) => Err(io("create", &path)(e)),
    }
}

/// Wraps an I/O error with what was being done to which file.
fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AuthError {
    let path = path.to_path_buf();
    move |error| AuthError::Io { action, path, error }
}

/// Creates `path` (which must not exist) with mode 0600 and syncs it.
fn write_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// The secret in `path`, or `None` if the file does not exist.
fn read_secret(path: &Path) -> Result<Option<Vec<u8>>, AuthError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(AuthError::Io { action: "read", path: path.into(), error }),
    };
    let bad = |reason: String| AuthError::InvalidKey { path: path.into(), reason };
    let secret = hex::decode(text.trim()).map_err(|_| bad("expected the key as hex (64 characters)".into()))?;
    if secret.len() < MIN_HMAC_SECRET_LEN {
        return Err(bad(format!("key is {} bytes; at least {MIN_HMAC_SECRET_LEN} are required", secret.len())));
    }
    Ok(Some(secret))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::{Arc, Barrier};

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_once_with_private_modes_and_then_reads() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state/keys");
        let first = load_or_create_hs256_secret(&dir).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(mode(&dir.join(HS256_KEY_FILE)), 0o600);
        assert_eq!(mode(&dir), 0o700);
        let text = fs::read_to_string(dir.join(HS256_KEY_FILE)).unwrap();
        assert_eq!(text, format!("{}\n", hex::encode(&first)));

        assert_eq!(load_or_create_hs256_secret(&dir).unwrap(), first);
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        // Another directory gets another key.
        assert_ne!(load_or_create_hs256_secret(tmp.path()).unwrap(), first);
    }

    #[test]
    fn concurrent_first_calls_agree_on_one_key() {
        for _ in 0..5 {
            let tmp = tempfile::tempdir().unwrap();
            let dir = Arc::new(tmp.path().join("state"));
            let barrier = Arc::new(Barrier::new(8));
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let (dir, barrier) = (dir.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        load_or_create_hs256_secret(&dir).unwrap()
                    })
                })
                .collect();
            let keys: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            assert!(keys.iter().all(|k| *k == keys[0]), "threads saw different keys");
            assert_eq!(load_or_create_hs256_secret(&dir).unwrap(), keys[0]);
            assert_eq!(fs::read_dir(&*dir).unwrap().count(), 1, "temporary files left behind");
        }
    }

    #[test]
    fn invalid_key_files_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(HS256_KEY_FILE);
        fs::write(&path, "not hex\n").unwrap();
        let e = load_or_create_hs256_secret(tmp.path()).unwrap_err();
        assert!(matches!(&e, AuthError::InvalidKey { path: p, .. } if *p == path), "{e}");
        assert!(e.to_string().contains(HS256_KEY_FILE), "{e}");

        fs::write(&path, "abcd\n").unwrap();
        let e = load_or_create_hs256_secret(tmp.path()).unwrap_err();
        assert!(matches!(&e, AuthError::InvalidKey { reason, .. } if reason.contains("2 bytes")), "{e}");

        // An existing valid key (e.g. written by an operator) is used as is.
        let key = [0x5a; 40];
        fs::write(&path, hex::encode(key)).unwrap();
        assert_eq!(load_or_create_hs256_secret(tmp.path()).unwrap(), key);
    }
}
