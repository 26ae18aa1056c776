//! The S3 blob store against a real S3-compatible server (SeaweedFS, started
//! by scripts/s3-test-server.sh unless QUASM_TEST_S3_ENDPOINT names one).

use quasm_controller::blob::s3::{S3BlobStore, S3Config, PART_SIZE};
use quasm_controller::blob::{content_key, BlobStore};

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn endpoint() -> String {
    if let Ok(e) = std::env::var("QUASM_TEST_S3_ENDPOINT") {
        return e;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/s3-test-server.sh");
    let out = std::process::Command::new("bash").arg(script).output().expect("running s3-test-server.sh");
    assert!(out.status.success(), "S3 test server: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A store under a fresh prefix of the shared test bucket. (A bucket per
/// test would be a SeaweedFS collection per test, and its volumes run out.)
fn store() -> S3BlobStore {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let cfg = S3Config {
        endpoint: Some(endpoint()),
        bucket: "quasm-test".into(),
        region: "us-east-1".into(),
        access_key: "quasm-test".into(),
        secret_key: "quasm-test-secret".into(),
        path_style: true,
        prefix: format!("t-{}-{n}-{nanos}/", std::process::id()),
    };
    let s = S3BlobStore::new(&cfg);
    block(s.ensure_bucket()).unwrap();
    s
}

#[test]
fn small_blob_round_trip_and_delete() {
    let s = store();
    let data = b"export default { run() { return 1 } }".to_vec();
    let key = content_key("bundles", &data);
    block(async {
        assert_eq!(s.get(&key).await.unwrap(), None);
        s.put(&key, data.clone()).await.unwrap();
        assert_eq!(s.get(&key).await.unwrap(), Some(data.clone()));
        s.delete(&key).await.unwrap();
        s.delete(&key).await.unwrap();
        assert_eq!(s.get(&key).await.unwrap(), None);
    });
}

#[test]
fn large_blob_is_streamed_in_parts_and_round_trips() {
    let s = store();
    // 2.5 parts: exercises create/upload_part/complete and a short last part.
    let data: Vec<u8> = (0..PART_SIZE * 5 / 2).map(|i| (i * 31 % 251) as u8).collect();
    let key = content_key("bundles", &data);
    block(async {
        s.put(&key, data.clone()).await.unwrap();
        let back = s.get(&key).await.unwrap().unwrap();
        assert_eq!(back.len(), data.len());
        assert!(back == data, "content differs after a multipart round trip");
    });
}

#[test]
fn bad_credentials_and_keys_fail_clearly() {
    let s = store();
    block(async {
        assert!(s.put("../escape", b"x".to_vec()).await.unwrap_err().to_string().contains("invalid blob key"));
    });
    let wrong = S3BlobStore::new(&S3Config {
        endpoint: Some(endpoint()),
        bucket: "quasm-test-nope".into(),
        region: "us-east-1".into(),
        access_key: "quasm-test".into(),
        secret_key: "wrong-secret".into(),
        path_style: true,
        prefix: String::new(),
    });
    let e = block(wrong.put("bundles/x", b"x".to_vec())).unwrap_err().to_string();
    assert!(e.starts_with("S3 error on bundles/x"), "{e}");
}
