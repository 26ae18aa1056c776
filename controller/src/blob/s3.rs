//! Blobs in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, R2...), via
//! aws-sdk-s3 with a custom endpoint and optional path-style addressing.
//! Bodies above [`PART_SIZE`] are uploaded in parts (multipart upload), so a
//! large bundle is streamed rather than sent in one request.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures::future::BoxFuture;

use super::{validate_key, BlobError, BlobStore};

/// Multipart uploads use parts of this size (S3's minimum is 5 MiB).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Where and how to reach the bucket (`QUASM_S3_*`).
#[derive(Debug, Clone)]
pub struct S3Config {
    /// e.g. `http://127.0.0.1:8333`; `None` means AWS itself.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    /// `bucket` in the path rather than the host name (most self-hosted
    /// servers need it).
    pub path_style: bool,
    /// Prepended to every key, to share a bucket.
    pub prefix: String,
}

pub struct S3BlobStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    location: String,
}

fn s3_err(key: &str, e: impl std::error::Error) -> BlobError {
    // The SDK's Display is terse; the source chain says what happened.
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    BlobError::S3 { key: key.to_owned(), message: msg }
}

impl S3BlobStore {
    pub fn new(cfg: &S3Config) -> Self {
        let location =
            format!("S3 {} bucket {} prefix {:?}", cfg.endpoint.as_deref().unwrap_or("(AWS)"), cfg.bucket, cfg.prefix);
        let creds = Credentials::new(&cfg.access_key, &cfg.secret_key, None, None, "quasm");
        let mut b = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(cfg.region.clone()))
            .credentials_provider(creds)
            .force_path_style(cfg.path_style);
        if let Some(e) = &cfg.endpoint {
            b = b.endpoint_url(e);
        }
        Self {
            client: aws_sdk_s3::Client::from_conf(b.build()),
            bucket: cfg.bucket.clone(),
            prefix: cfg.prefix.clone(),
            location,
        }
    }

    /// Creates the bucket if it does not exist (for embedded and test setups;
    /// production buckets are usually provisioned separately).
    pub async fn ensure_bucket(&self) -> Result<(), BlobError> {
        if self.client.head_bucket().bucket(&self.bucket).send().await.is_ok() {
            return Ok(());
        }
        match self.client.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you()) => Ok(()),
            Err(e) => Err(s3_err(&self.bucket, e)),
        }
    }

    fn object(&self, key: &str) -> Result<String, BlobError> {
        validate_key(key)?;
        Ok(format!("{}{key}", self.prefix))
    }
}

async fn put_multipart(
    client: aws_sdk_s3::Client,
    bucket: String,
    object: String,
    bytes: Vec<u8>,
) -> Result<(), BlobError> {
    let up =
        client.create_multipart_upload().bucket(&bucket).key(&object).send().await.map_err(|e| s3_err(&object, e))?;
    let id = up.upload_id().ok_or_else(|| BlobError::S3 { key: object.clone(), message: "no upload id".into() })?;
    let upload = async {
        let mut parts = Vec::new();
        for (i, chunk) in bytes.chunks(PART_SIZE).enumerate() {
            let n = i as i32 + 1;
            let r = client
                .upload_part()
                .bucket(&bucket)
                .key(&object)
                .upload_id(id)
                .part_number(n)
                .body(ByteStream::from(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| s3_err(&object, e))?;
            parts.push(CompletedPart::builder().part_number(n).set_e_tag(r.e_tag().map(str::to_owned)).build());
        }
        client
            .complete_multipart_upload()
            .bucket(&bucket)
            .key(&object)
            .upload_id(id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| s3_err(&object, e))?;
        Ok(())
    };
    let r = upload.await;
    if r.is_err() {
        // Don't leave orphaned parts behind (they cost storage).
        let _ = client.abort_multipart_upload().bucket(&bucket).key(&object).upload_id(id).send().await;
    }
    r
}

impl BlobStore for S3BlobStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn put(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<(), BlobError>> {
        let (client, bucket, object) = (self.client.clone(), self.bucket.clone(), self.object(key));
        Box::pin(async move {
            let object = object?;
            if bytes.len() > PART_SIZE {
                return put_multipart(client, bucket, object, bytes).await;
            }
            client
                .put_object()
                .bucket(&bucket)
                .key(&object)
                .body(ByteStream::from(bytes))
                .send()
                .await
                .map_err(|e| s3_err(&object, e))?;
            Ok(())
        })
    }

    fn get(&self, key: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, BlobError>> {
        let (client, bucket, object) = (self.client.clone(), self.bucket.clone(), self.object(key));
        Box::pin(async move {
            let object = object?;
            match client.get_object().bucket(&bucket).key(&object).send().await {
                Ok(r) => {
                    let body = r.body.collect().await.map_err(|e| s3_err(&object, e))?;
                    Ok(Some(body.into_bytes().to_vec()))
                }
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
                Err(e) => Err(s3_err(&object, e)),
            }
        })
    }

    fn delete(&self, key: &str) -> BoxFuture<'static, Result<(), BlobError>> {
        let (client, bucket, object) = (self.client.clone(), self.bucket.clone(), self.object(key));
        Box::pin(async move {
            let object = object?;
            // S3 deletes are idempotent: a missing key is not an error.
            client.delete_object().bucket(&bucket).key(&object).send().await.map_err(|e| s3_err(&object, e))?;
            Ok(())
        })
    }
}
