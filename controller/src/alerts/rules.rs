//! Alert rules: CRUD and validation. Every change runs in one transaction
//! with its audit entry and the `quasm_changes` NOTIFY that drops the
//! tenant's cached rules on every node.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::email;
use crate::alerts::Alerts;
use crate::commit::Notice;
use crate::error::{ControllerError, Result};
use crate::functions::ensure_tenant;
use crate::{validate, Actor};

/// Default rate limit: one failure message per (rule, function) per 5 minutes.
const DEFAULT_MIN_INTERVAL_SECS: i32 = 300;
const MAX_MIN_INTERVAL_SECS: i32 = 7 * 86_400;
const MAX_CONSECUTIVE: i32 = 10_000;
const MAX_RECIPIENTS: usize = 10;

/// Where notifications go, as written in a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelSpec {
    /// A Slack-compatible incoming webhook: `POST {"text": ...}`.
    Slack { url: String },
    /// A JSON POST signed with HMAC-SHA256 (`Quasm-Signature`). Without a
    /// secret, one is generated and returned once.
    Webhook { url: String, secret: Option<String> },
    /// Email through the operator's SMTP server.
    Email { to: Vec<String> },
}

/// Where notifications go, as shown: never the webhook secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Channel {
    Slack { url: String },
    Webhook { url: String },
    Email { to: Vec<String> },
}

impl Channel {
    fn kind(&self) -> &'static str {
        match self {
            Channel::Slack { .. } => "slack",
            Channel::Webhook { .. } => "webhook",
            Channel::Email { .. } => "email",
        }
    }

    /// The `channel_target` column.
    fn target(&self) -> String {
        match self {
            Channel::Slack { url } | Channel::Webhook { url } => url.clone(),
            Channel::Email { to } => to.join(","),
        }
    }

    pub(super) fn from_columns(kind: &str, target: String) -> Self {
        match kind {
            "slack" => Channel::Slack { url: target },
            "webhook" => Channel::Webhook { url: target },
            _ => Channel::Email { to: target.split(',').map(str::to_owned).collect() },
        }
    }
}

/// `POST /api/v1/alerts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAlertRule {
    pub name: String,
    /// Absent: every function of the tenant.
    pub function: Option<String>,
    #[serde(default)]
    pub on_failure: bool,
    pub consecutive_failures: Option<i32>,
    #[serde(default)]
    pub on_recovery: bool,
    #[serde(deserialize_with = "crate::serde_strict::object")]
    pub channel: ChannelSpec,
    pub min_interval_secs: Option<i32>,
    pub enabled: Option<bool>,
}

/// `PATCH /api/v1/alerts/{id}`: absent fields stay; `consecutive_failures:
/// null` removes the streak alert. The function cannot be changed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAlertRule {
    pub name: Option<String>,
    pub on_failure: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub consecutive_failures: Option<Option<i32>>,
    pub on_recovery: Option<bool>,
    #[serde(default, deserialize_with = "crate::serde_strict::option_object")]
    pub channel: Option<ChannelSpec>,
    pub min_interval_secs: Option<i32>,
    pub enabled: Option<bool>,
}

/// Tells a field set to `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertRule {
    pub id: i64,
    pub name: String,
    /// `null`: every function of the tenant.
    pub function: Option<String>,
    pub on_failure: bool,
    pub consecutive_failures: Option<i32>,
    pub on_recovery: bool,
    pub channel: Channel,
    pub min_interval_secs: i32,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The webhook signing secret: only in the answer that set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
}

const COLUMNS: &str = "r.id, r.name, f.name, r.on_failure, r.consecutive_failures, r.on_recovery, r.channel_kind, \
                       r.channel_target, r.min_interval_secs, r.enabled, r.created_at, r.updated_at";
const FROM: &str = "alert_rules r LEFT JOIN functions f ON f.id = r.function_id";

fn from_row(r: &tokio_postgres::Row) -> AlertRule {
    AlertRule {
        id: r.get(0),
        name: r.get(1),
        function: r.get(2),
        on_failure: r.get(3),
        consecutive_failures: r.get(4),
        on_recovery: r.get(5),
        channel: Channel::from_columns(r.get(6), r.get(7)),
        min_interval_secs: r.get(8),
        enabled: r.get(9),
        created_at: r.get(10),
        updated_at: r.get(11),
        signing_secret: None,
    }
}

/// A tenant-supplied http(s) URL (alert channels, tenant webhooks).
pub(crate) fn check_url(field: &str, url: &str) -> Result<()> {
    let bad = |m: &str| ControllerError::invalid(field, format!("{url:?}: {m}"));
    if url.len() > 2048 {
        return Err(bad("at most 2048 characters"));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("must be an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    Ok(())
}

pub(crate) fn generate_secret() -> Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| ControllerError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("whsec_{}", hex::encode(bytes)))
}

/// A validated channel, the sealed webhook secret and, when one was set,
/// the secret itself (shown once).
type CheckedChannel = (Channel, Option<Vec<u8>>, Option<String>);

fn check_terms(on_failure: bool, consecutive: Option<i32>, on_recovery: bool, min_interval: i32) -> Result<()> {
    if let Some(n) = consecutive {
        if !(1..=MAX_CONSECUTIVE).contains(&n) {
            return Err(ControllerError::invalid(
                "consecutive_failures",
                format!("must be between 1 and {MAX_CONSECUTIVE} (or absent), not {n}"),
            ));
        }
    }
    if !on_failure && consecutive.is_none() && !on_recovery {
        return Err(ControllerError::invalid(
            "on_failure",
            "the rule notifies nothing: set on_failure, consecutive_failures or on_recovery",
        ));
    }
    if !(0..=MAX_MIN_INTERVAL_SECS).contains(&min_interval) {
        return Err(ControllerError::invalid(
            "min_interval_secs",
            format!("must be between 0 and {MAX_MIN_INTERVAL_SECS}, not {min_interval}"),
        ));
    }
    Ok(())
}

impl Alerts {
    fn check_channel(&self, spec: ChannelSpec) -> Result<CheckedChannel> {
        match spec {
            ChannelSpec::Slack { url } => {
                check_url("channel.url", &url)?;
                Ok((Channel::Slack { url }, None, None))
            }
            ChannelSpec::Webhook { url, secret } => {
                check_url("channel.url", &url)?;
                let secret = match secret {
                    Some(s) if !(16..=256).contains(&s.len()) => {
                        return Err(ControllerError::invalid("channel.secret", "must be 16 to 256 characters"))
                    }
                    Some(s) => s,
                    None => generate_secret()?,
                };
                let sealed = self.core.secrets.seal(&[("hmac".to_owned(), secret.clone())].into())?;
                Ok((Channel::Webhook { url }, Some(sealed), Some(secret)))
            }
            ChannelSpec::Email { to } => {
                if self.mailer.is_none() {
                    return Err(ControllerError::invalid(
                        "channel.type",
                        "email alerts need an SMTP server, and this installation has none (operator setting smtp_url)",
                    ));
                }
                if to.is_empty() || to.len() > MAX_RECIPIENTS {
                    return Err(ControllerError::invalid(
                        "channel.to",
                        format!("1 to {MAX_RECIPIENTS} email addresses"),
                    ));
                }
                for (i, a) in to.iter().enumerate() {
                    email::check_address(a).map_err(|m| ControllerError::invalid(format!("channel.to[{i}]"), m))?;
                }
                Ok((Channel::Email { to }, None, None))
            }
        }
    }

    pub async fn list_rules(&self, tenant: &str) -> Result<Vec<AlertRule>> {
        let db = self.core.db().await?;
        let rows =
            db.query(&format!("SELECT {COLUMNS} FROM {FROM} WHERE r.tenant_id = $1 ORDER BY r.id"), &[&tenant]).await?;
        Ok(rows.iter().map(from_row).collect())
    }

    pub async fn get_rule(&self, tenant: &str, id: i64) -> Result<AlertRule> {
        let db = self.core.db().await?;
        let row = db
            .query_opt(&format!("SELECT {COLUMNS} FROM {FROM} WHERE r.tenant_id = $1 AND r.id = $2"), &[&tenant, &id])
            .await?
            .ok_or_else(|| ControllerError::not_found("alert rule", id.to_string()))?;
        Ok(from_row(&row))
    }

    pub async fn create_rule(&self, actor: &Actor, req: CreateAlertRule) -> Result<AlertRule> {
        validate::name("name", &req.name)?;
        let min_interval = req.min_interval_secs.unwrap_or(DEFAULT_MIN_INTERVAL_SECS);
        check_terms(req.on_failure, req.consecutive_failures, req.on_recovery, min_interval)?;
        let (channel, sealed, secret) = self.check_channel(req.channel)?;
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        ensure_tenant(&tx, &actor.tenant).await?;
        let function_id = match &req.function {
            Some(name) => Some(self.core.function_row(&tx, &actor.tenant, name, false).await?.id),
            None => None,
        };
        let row = tx
            .query_opt(
                "INSERT INTO alert_rules (tenant_id, function_id, name, on_failure, consecutive_failures, on_recovery,
                     channel_kind, channel_target, webhook_secret, min_interval_secs, enabled)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id",
                &[
                    &actor.tenant,
                    &function_id,
                    &req.name,
                    &req.on_failure,
                    &req.consecutive_failures,
                    &req.on_recovery,
                    &channel.kind(),
                    &channel.target(),
                    &sealed,
                    &min_interval,
                    &req.enabled.unwrap_or(true),
                ],
            )
            .await?
            .ok_or_else(|| ControllerError::Conflict { what: "alert rule", name: req.name.clone() })?;
        let id: i64 = row.get(0);
        let details = serde_json::json!({"id": id, "function": req.function, "channel": channel.kind()});
        let mut rule = from_row(&tx.query_one(&format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = $1"), &[&id]).await?);
        self.core.commit_change(tx, actor, "alert.create", &req.name, details, Notice::Caches).await?;
        rule.signing_secret = secret;
        Ok(rule)
    }

    pub async fn update_rule(&self, actor: &Actor, id: i64, req: UpdateAlertRule) -> Result<AlertRule> {
        if let Some(n) = &req.name {
            validate::name("name", n)?;
        }
        let checked = req.channel.clone().map(|c| self.check_channel(c)).transpose()?;
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let old = tx
            .query_opt(
                &format!("SELECT {COLUMNS} FROM {FROM} WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE OF r"),
                &[&actor.tenant, &id],
            )
            .await?
            .map(|r| from_row(&r))
            .ok_or_else(|| ControllerError::not_found("alert rule", id.to_string()))?;
        let on_failure = req.on_failure.unwrap_or(old.on_failure);
        let consecutive = req.consecutive_failures.unwrap_or(old.consecutive_failures);
        let on_recovery = req.on_recovery.unwrap_or(old.on_recovery);
        let min_interval = req.min_interval_secs.unwrap_or(old.min_interval_secs);
        check_terms(on_failure, consecutive, on_recovery, min_interval)?;
        let name = req.name.clone().unwrap_or(old.name.clone());
        if name != old.name {
            let taken = tx
                .query_opt("SELECT 1 FROM alert_rules WHERE tenant_id = $1 AND name = $2", &[&actor.tenant, &name])
                .await?;
            if taken.is_some() {
                return Err(ControllerError::Conflict { what: "alert rule", name });
            }
        }
        let (channel, sealed, secret) = match checked {
            Some((c, sealed, secret)) => (c, sealed, secret),
            None => (old.channel.clone(), None, None),
        };
        // A new channel replaces the secret (none for slack and email).
        let replace_secret = req.channel.is_some();
        tx.execute(
            "UPDATE alert_rules SET name = $3, on_failure = $4, consecutive_failures = $5, on_recovery = $6,
                 channel_kind = $7, channel_target = $8,
                 webhook_secret = CASE WHEN $9 THEN $10 ELSE webhook_secret END,
                 min_interval_secs = $11, enabled = $12, updated_at = now()
             WHERE tenant_id = $1 AND id = $2",
            &[
                &actor.tenant,
                &id,
                &name,
                &on_failure,
                &consecutive,
                &on_recovery,
                &channel.kind(),
                &channel.target(),
                &replace_secret,
                &sealed,
                &min_interval,
                &req.enabled.unwrap_or(old.enabled),
            ],
        )
        .await?;
        let mut changed: Vec<&str> = Vec::new();
        for (field, set) in [
            ("name", req.name.is_some()),
            ("on_failure", req.on_failure.is_some()),
            ("consecutive_failures", req.consecutive_failures.is_some()),
            ("on_recovery", req.on_recovery.is_some()),
            ("channel", req.channel.is_some()),
            ("min_interval_secs", req.min_interval_secs.is_some()),
            ("enabled", req.enabled.is_some()),
        ] {
            if set {
                changed.push(field);
            }
        }
        let details = serde_json::json!({"id": id, "changed": changed});
        let mut rule = from_row(&tx.query_one(&format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = $1"), &[&id]).await?);
        self.core.commit_change(tx, actor, "alert.update", &name, details, Notice::Caches).await?;
        rule.signing_secret = secret;
        Ok(rule)
    }

    pub async fn delete_rule(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let row = tx
            .query_opt("DELETE FROM alert_rules WHERE tenant_id = $1 AND id = $2 RETURNING name", &[&actor.tenant, &id])
            .await?
            .ok_or_else(|| ControllerError::not_found("alert rule", id.to_string()))?;
        let name: String = row.get(0);
        self.core
            .commit_change(tx, actor, "alert.delete", &name, serde_json::json!({"id": id}), Notice::Caches)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_checked_by_field() {
        let field = |e: ControllerError| match e {
            ControllerError::Invalid { field, .. } => field,
            other => panic!("{other}"),
        };
        assert_eq!(field(check_terms(false, Some(0), false, 0).unwrap_err()), "consecutive_failures");
        assert_eq!(field(check_terms(false, None, false, 0).unwrap_err()), "on_failure");
        assert_eq!(field(check_terms(true, None, false, -1).unwrap_err()), "min_interval_secs");
        assert!(check_terms(false, None, true, 0).is_ok());
        for bad in ["ftp://x.example/", "not a url", "http://", "mailto:ops@example.com"] {
            assert!(check_url("channel.url", bad).is_err(), "{bad}");
        }
        assert!(check_url("channel.url", "https://hooks.example.com/T0/B0/x").is_ok());
    }
}
