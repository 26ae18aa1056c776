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
    let header = signature(secret, &body);
    post(fetcher, url, body, vec![(SIGNATURE_HEADER.to_owned(), header)]).await
}

/// The `Quasm-Signature` value for `body`, timestamped now (also used by
/// tenant webhooks, `crate::webhooks`).
pub fn signature(secret: &[u8], body: &str) -> String {
    let t = chrono::Utc::now().timestamp();
    format!("t={t},v1={}", sign(secret, t, body))
}

/// `hex(HMAC-SHA256(secret, "{t}.{body}"))`.
pub fn sign(secret: &[u8], t: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// One POST's outcome: the answer's status when there was one, else (or on
/// a non-2xx answer) an error, and whether trying again may help.
#[derive(Debug)]
pub struct Sent {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub retryable: bool,
}

impl Sent {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// POSTs `body` as JSON once; a 2xx answer is success. Network errors,
/// timeouts, 429 and 5xx may be retried; refusals by the address policy
/// and other answers not.
pub async fn post_once(
    fetcher: &Fetcher,
    url: &str,
    body: Vec<u8>,
    user_agent: &str,
    extra: Vec<(String, String)>,
) -> Sent {
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), user_agent.to_owned()),
    ];
    headers.extend(extra);
    let request =
        FetchRequest { method: "POST".into(), url: url.to_owned(), headers, body, redirect: RedirectMode::Manual };
    match fetcher.fetch(request, &HostRules::default(), &limits()).await {
        Ok(r) if (200..300).contains(&r.status) => Sent { status: Some(r.status), error: None, retryable: false },
        Ok(r) => {
            let text = String::from_utf8_lossy(&r.body[..r.body.len().min(200)]).into_owned();
            Sent {
                status: Some(r.status),
                error: Some(format!("{url} answered {} {text}", r.status)),
                retryable: r.status == 429 || r.status >= 500,
            }
        }
        Err(e) => {
            let permanent = matches!(
                e,
                FetchError::Refused { .. }
                    | FetchError::InvalidUrl { .. }
                    | FetchError::UnsupportedScheme(_)
                    | FetchError::InvalidRequest(_)
            );
            Sent { status: None, error: Some(e.to_string()), retryable: !permanent }
        }
    }
}

/// [`post_once`], retried after [`BACKOFF`] while that may help.
async fn post(fetcher: &Fetcher, url: &str, body: String, extra: Vec<(String, String)>) -> Result<(), String> {
    let body = body.into_bytes();
    let mut attempt = 0;
    loop {
        let sent = post_once(fetcher, url, body.clone(), "quasm-alerts", extra.clone()).await;
        let Some(error) = sent.error else { return Ok(()) };
        match BACKOFF.get(attempt) {
            Some(wait) if sent.retryable => tokio::time::sleep(*wait).await,
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
