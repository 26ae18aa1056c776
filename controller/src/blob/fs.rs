//! Blobs as files under a directory (the embedded default).

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;

use super::{validate_key, BlobError, BlobStore};

pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// Uses (and creates) `root`. Writes go through `root/.tmp`, which keys
    /// can never name.
    pub fn new(root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(root.join(".tmp"))?;
        Ok(Self { root: root.to_owned() })
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io(key: &str) -> impl Fn(std::io::Error) -> BlobError + '_ {
    move |source| BlobError::Io { key: key.to_owned(), source }
}

impl BlobStore for FsBlobStore {
    fn location(&self) -> String {
        let dir = std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone());
        format!("local directory {} on host {}", dir.display(), crate::nodes::hostname())
    }

    fn put(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<(), BlobError>> {
        let (path, tmp_dir, key) = (self.path(key), self.root.join(".tmp"), key.to_owned());
        Box::pin(async move {
            let path = path?;
            tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let err = io(&key);
                std::fs::create_dir_all(path.parent().expect("keys have a parent")).map_err(&err)?;
                // Write a temporary file, flush it to disk, then rename it into
                // place: the key never names a partial blob.
                let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(&err)?;
                tmp.write_all(&bytes).map_err(&err)?;
                tmp.as_file().sync_all().map_err(&err)?;
                tmp.persist(&path).map_err(|e| err(e.error))?;
                Ok(())
            })
            .await
            .expect("blob write task panicked")
        })
    }

    fn get(&self, key: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, BlobError>> {
        let (path, key) = (self.path(key), key.to_owned());
        Box::pin(async move {
            match tokio::fs::read(path?).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io(&key)(e)),
            }
        })
    }

    fn delete(&self, key: &str) -> BoxFuture<'static, Result<(), BlobError>> {
        let (path, key) = (self.path(key), key.to_owned());
        Box::pin(async move {
            match tokio::fs::remove_file(path?).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io(&key)(e)),
            }
        })
    }
}
