//! The local-directory blob store: round trips, content keys, key safety,
//! and atomic writes.

use quasm_controller::blob::{content_key, fs::FsBlobStore, BlobStore};

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

#[test]
fn round_trip_overwrite_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path()).unwrap();
    let data = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect::<Vec<u8>>();
    let key = content_key("bundles", &data);
    assert!(key.starts_with("bundles/sha256/") && key.len() == "bundles/sha256/".len() + 3 + 64, "{key}");
    block(async {
        assert_eq!(store.get(&key).await.unwrap(), None);
        store.put(&key, data.clone()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(&data[..]));
        // Content-addressed: writing the same content again is harmless.
        store.put(&key, data.clone()).await.unwrap();
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap(); // deleting twice is fine
        assert_eq!(store.get(&key).await.unwrap(), None);
    });
    // Nothing is left behind in the temporary area.
    assert_eq!(std::fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 0);
}

#[test]
fn unsafe_keys_are_rejected_before_touching_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path()).unwrap();
    block(async {
        for bad in ["", "/etc/passwd", "../escape", "a/../../b", "a//b", ".tmp/x", "UPPER", "a/.hidden", "sp ace"] {
            let e = store.put(bad, b"x".to_vec()).await.unwrap_err();
            assert!(e.to_string().contains("invalid blob key"), "{bad}: {e}");
            assert!(store.get(bad).await.is_err(), "{bad}");
        }
    });
}

#[test]
fn a_crash_mid_write_leaves_no_visible_blob() {
    // A write that died before its rename leaves only a temporary file, which
    // no key can name: readers see nothing.
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path()).unwrap();
    std::fs::write(dir.path().join(".tmp/partial"), b"half a bundle").unwrap();
    block(async {
        assert_eq!(store.get("bundles/sha256/aa/partial").await.unwrap(), None);
        assert!(store.get(".tmp/partial").await.is_err());
    });
}
