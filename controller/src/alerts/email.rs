//! The email channel: plain-text messages through the operator's SMTP
//! server (`smtp_url`: `smtp://host:port` plain or with STARTTLS via
//! `?tls=required`, `smtps://host` for implicit TLS, credentials as
//! `smtp://user:pass@host`), from `smtp_from`.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Alert;
use crate::error::{ControllerError, Result};

/// The operator's SMTP settings.
#[derive(Clone)]
pub struct SmtpConfig {
    /// `smtp://`, `smtps://`, optionally with credentials.
    pub url: String,
    /// Sender of alert emails, e.g. `Quasm <alerts@example.com>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    // The URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig").field("from", &self.from).finish_non_exhaustive()
    }
}

pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .map_err(|e| ControllerError::invalid("smtp_url", format!("not a usable SMTP URL: {e}")))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|e| ControllerError::invalid("smtp_from", format!("{:?}: {e}", config.from)))?;
        Ok(Self { transport, from })
    }

    pub async fn send(&self, to: &[String], alert: &Alert) -> std::result::Result<(), String> {
        let mut builder = Message::builder().from(self.from.clone());
        for a in to {
            let address: Address = a.parse().map_err(|e| format!("{a:?}: {e}"))?;
            builder = builder.to(Mailbox::new(None, address));
        }
        let message = builder
            .subject(format!("[quasm] {}", alert.summary()))
            .header(ContentType::TEXT_PLAIN)
            .body(alert.text())
            .map_err(|e| format!("building the email: {e}"))?;
        self.transport.send(message).await.map(drop).map_err(|e| format!("SMTP: {e}"))
    }
}

/// `Ok` for a plain address (`ops@example.com`; no display names).
pub fn check_address(a: &str) -> std::result::Result<(), String> {
    if a.contains(',') || a.len() > 254 {
        return Err(format!("{a:?} is not an email address"));
    }
    a.parse::<Address>().map(drop).map_err(|e| format!("{a:?} is not an email address: {e}"))
}
