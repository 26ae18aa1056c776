//! The HTTP channels: a Slack-compatible incoming webhook and a generic JSON
//! webhook signed with HMAC-SHA256. URLs are tenant-supplied, so requests go
//! through the runtime's SSRF-safe [`Fetcher`] under the operator's address
//! policy, with a timeout and a few retries.
//!
//! Signature: header `Quasm-Signature: t=<unix seconds>,v1=<hex>` where
//! `v1 = HMAC-SHA256(secret, "<t>.<body>")` (the scheme Stripe uses).
//! Receivers recompute it and reject old timestamps against replays.

use std::time::Duration;

use hmac::{Hmac, Mac};
use quasm_runtime::host::fetch::{FetchError, FetchLimits, FetchRequest, RedirectMode};
use quasm_runtime::{Fetcher, HostRules};
use sha2::Sha256;

use super::Alert;

pub const SIGNATURE_HEADER: &str = "quasm-signature";

/// Waits before the second and third attempts.
const BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(2)];

fn limits() -> FetchLimits {
    FetchLimits { max_response_bytes: 64 * 1024, timeout: Duration::from_secs(10), max_redirects: 0 }
}

pub async fn slack(fetcher: &Fetcher, url: &str, alert: &Alert) -> Result<(), String> {
    let body = serde_json::json!({ "text": alert.text() }).to_string();
    post(fetcher, url, body, Vec::new()).await
}

pub async fn webhook(fetcher: &Fetcher, url: &str, secret: &[u8], alert: &Alert) -> Result<(), String> {
    let body = alert.json().to_string();
    let t = chrono::Utc::now().timestamp();
    let header = format!("t={t},v1={}", sign(secret, t, &body));
    post(fetcher, url, body, vec![(SIGNATURE_HEADER.to_owned(), header)]).await
}

/// `hex(HMAC-SHA256(secret, "{t}.{body}"))`.
pub fn sign(secret: &[u8], t: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// POSTs `body` as JSON; a 2xx answer is success. Network errors, timeouts,
/// 429 and 5xx are retried; refusals by the address policy and other
/// answers are not.
async fn post(fetcher: &Fetcher, url: &str, body: String, extra: Vec<(String, String)>) -> Result<(), String> {
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), "quasm-alerts".to_owned()),
    ];
    headers.extend(extra);
    let request = FetchRequest {
        method: "POST".into(),
        url: url.to_owned(),
        headers,
        body: body.into_bytes(),
        redirect: RedirectMode::Manual,
    };
    let mut attempt = 0;
    loop {
        let (error, retry) = match fetcher.fetch(request.clone(), &HostRules::default(), &limits()).await {
            Ok(r) if (200..300).contains(&r.status) => return Ok(()),
            Ok(r) => {
                let text = String::from_utf8_lossy(&r.body[..r.body.len().min(200)]).into_owned();
                (format!("{url} answered {} {text}", r.status), r.status == 429 || r.status >= 500)
            }
            Err(e) => {
                let permanent = matches!(
                    e,
                    FetchError::Refused { .. }
                        | FetchError::InvalidUrl { .. }
                        | FetchError::UnsupportedScheme(_)
                        | FetchError::InvalidRequest(_)
                );
                (e.to_string(), !permanent)
            }
        };
        match BACKOFF.get(attempt) {
            Some(wait) if retry => tokio::time::sleep(*wait).await,
            _ => return Err(if attempt > 0 { format!("{error} (after {} attempts)", attempt + 1) } else { error }),
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Reference value: python3 -c 'import hmac,hashlib;
        //   print(hmac.new(b"whsec_test", b"1700000000.{}", hashlib.sha256).hexdigest())'
        assert_eq!(
            super::sign(b"whsec_test", 1_700_000_000, "{}"),
            "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }
}
