//! `quasm_alert_rule`: notifications about failing functions (Slack,
//! signed webhook or email). Changed in place except `function`. The
//! webhook `secret` is write-only, like function secrets. Imported by id.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use tf_provider::schema::{AttributeType, Block, Description, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{seg, Client};
use crate::shared::*;
use crate::validate;

pub struct AlertRuleResource(pub Shared);

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRuleState {
    #[serde(default)]
    pub id: Str,
    #[serde(default)]
    pub name: Str,
    #[serde(default)]
    pub function: Str,
    #[serde(default)]
    pub on_failure: Bool,
    #[serde(default)]
    pub consecutive_failures: Int,
    #[serde(default)]
    pub on_recovery: Bool,
    #[serde(default)]
    pub channel: Value<Channel>,
    #[serde(default)]
    pub min_interval_secs: Int,
    #[serde(default)]
    pub enabled: Bool,
    #[serde(default)]
    pub signing_secret: Str,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    #[serde(rename = "type", default)]
    pub kind: Str,
    #[serde(default)]
    pub url: Str,
    #[serde(default)]
    pub to: StrList,
    #[serde(default)]
    pub secret: Str,
}

impl Channel {
    fn to_json(&self) -> Json {
        let mut c = json!({ "type": self.kind.as_ref_option() });
        if let Some(u) = self.url.as_ref_option() {
            c["url"] = json!(u);
        }
        if self.to.is_value() {
            c["to"] = json_str_list(&self.to);
        }
        if let Some(s) = self.secret.as_ref_option() {
            c["secret"] = json!(s);
        }
        c
    }
}

fn schema() -> Schema {
    let channel = Block {
        version: 1,
        description: Description::markdown("Where notifications go."),
        attributes: attrs(vec![
            ("type", required(string(), "`slack`, `webhook` or `email`.")),
            ("url", optional(string(), "slack, webhook: the http(s) URL to POST to.")),
            ("to", optional(string_list(), "email: 1-10 addresses.")),
            (
                "secret",
                sensitive(optional(
                    string(),
                    "webhook: the HMAC key (16-256 characters); generated when left out. Write-only.",
                )),
            ),
        ]),
        ..Default::default()
    };
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown("An alert rule: notifies a channel when functions fail or recover."),
            attributes: attrs(vec![
                ("id", computed(string(), "The rule's id.")),
                ("name", required(string(), "Unique in the tenant: `[a-z0-9][a-z0-9_-]{0,62}`.")),
                (
                    "function",
                    optional(
                        string(),
                        "The function watched; leave it out for every function. Changing it replaces the rule.",
                    ),
                ),
                ("on_failure", defaulted(AttributeType::Bool, "Notify each failure (default false).")),
                (
                    "consecutive_failures",
                    optional(AttributeType::Number, "Notify once per failing streak of this many failures."),
                ),
                (
                    "on_recovery",
                    defaulted(AttributeType::Bool, "Notify the first success after a streak (default false)."),
                ),
                (
                    "min_interval_secs",
                    defaulted(AttributeType::Number, "At most one failure notification per interval (default 300)."),
                ),
                ("enabled", defaulted(AttributeType::Bool, "Default true.")),
                (
                    "signing_secret",
                    sensitive(computed(
                        string(),
                        "webhook: the generated HMAC key, known when Terraform set the channel without `secret`.",
                    )),
                ),
            ]),
            blocks: [("channel".to_owned(), NestedBlock::Single(channel))].into(),
            ..Default::default()
        },
    }
}

fn state_of(r: &Json, prior: &AlertRuleState) -> AlertRuleState {
    let prior_channel = prior.channel.as_ref_option().cloned().unwrap_or_default();
    let c = &r["channel"];
    AlertRuleState {
        id: Value::Value(r["id"].as_i64().map(|i| i.to_string()).unwrap_or_default()),
        name: str_of(&r["name"]),
        function: str_of(&r["function"]),
        on_failure: bool_of(&r["on_failure"]),
        consecutive_failures: int_of(&r["consecutive_failures"]),
        on_recovery: bool_of(&r["on_recovery"]),
        channel: Value::Value(Channel {
            kind: str_of(&c["type"]),
            url: str_of(&c["url"]),
            to: if c["to"].is_array() { str_list_of(&c["to"]) } else { Value::Null },
            secret: prior_channel.secret,
        }),
        min_interval_secs: int_of(&r["min_interval_secs"]),
        enabled: bool_of(&r["enabled"]),
        signing_secret: prior.signing_secret.clone(),
    }
}

async fn read_rule(
    client: &Client,
    diags: &mut Diagnostics,
    id: &str,
    prior: &AlertRuleState,
) -> Option<AlertRuleState> {
    match client.get_opt(&format!("/alerts/{}", seg(id))).await {
        Ok(Some(r)) => Some(state_of(&r, prior)),
        Ok(None) => None,
        Err(e) => {
            api_error(diags, "Reading the alert rule", &e, &[]);
            Some(prior.clone())
        }
    }
}

fn defaults(planned: &mut AlertRuleState, config: &AlertRuleState) {
    default_when_unset(&mut planned.on_failure, &config.on_failure, false);
    default_when_unset(&mut planned.on_recovery, &config.on_recovery, false);
    default_when_unset(&mut planned.min_interval_secs, &config.min_interval_secs, 300);
    default_when_unset(&mut planned.enabled, &config.enabled, true);
}

#[async_trait]
impl Resource for AlertRuleResource {
    type State<'a> = AlertRuleState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, c: AlertRuleState) -> Option<()> {
        validate::name(diags, "name", &c.name);
        validate::name(diags, "function", &c.function);
        if let Some(ch) = c.channel.as_ref_option() {
            let path = AttributePath::new("channel").attribute("type");
            validate::one_of(diags, path, &ch.kind, &["slack", "webhook", "email"]);
            match ch.kind.as_ref_option().map(String::as_str) {
                Some("slack" | "webhook") if ch.url.is_null() => {
                    diags.error(
                        "Missing url",
                        "a slack or webhook channel needs `url`",
                        AttributePath::new("channel").attribute("url"),
                    );
                }
                Some("email") if ch.to.is_null() => {
                    diags.error(
                        "Missing to",
                        "an email channel needs `to`",
                        AttributePath::new("channel").attribute("to"),
                    );
                }
                _ => {}
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: AlertRuleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AlertRuleState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let id = state.id.as_ref_option()?.clone();
        read_rule(&client, diags, &id, &state).await.map(|s| (s, private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: AlertRuleState,
        config: AlertRuleState,
        _meta: ValueEmpty,
    ) -> Option<(AlertRuleState, ValueEmpty)> {
        let mut planned = proposed;
        defaults(&mut planned, &config);
        planned.id = Value::Unknown;
        planned.signing_secret = Value::Unknown;
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: AlertRuleState,
        proposed: AlertRuleState,
        config: AlertRuleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AlertRuleState, ValueEmpty, Vec<AttributePath>)> {
        let mut planned = proposed;
        defaults(&mut planned, &config);
        let mut replace = vec![];
        if planned.function != prior.function {
            replace.push(AttributePath::new("function"));
            planned.id = Value::Unknown;
            planned.signing_secret = Value::Unknown;
        } else if planned.channel != prior.channel {
            planned.signing_secret = Value::Unknown;
        }
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: AlertRuleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: AlertRuleState,
        _config: AlertRuleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AlertRuleState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let mut body = json!({
            "name": planned.name.as_ref_option(),
            "on_failure": planned.on_failure.as_ref_option(),
            "on_recovery": planned.on_recovery.as_ref_option(),
            "min_interval_secs": planned.min_interval_secs.as_ref_option(),
            "enabled": planned.enabled.as_ref_option(),
            "channel": planned.channel.as_ref_option().map(Channel::to_json),
        });
        if let Some(f) = planned.function.as_ref_option() {
            body["function"] = json!(f);
        }
        if let Some(n) = planned.consecutive_failures.as_ref_option() {
            body["consecutive_failures"] = json!(n);
        }
        match client.post("/alerts", &body).await {
            Ok(r) => {
                let mut s = planned;
                s.id = Value::Value(r["id"].as_i64().map(|i| i.to_string()).unwrap_or_default());
                s.signing_secret = str_of(&r["signing_secret"]);
                Some((s, private))
            }
            Err(e) => {
                api_error(diags, "Creating the alert rule", &e, &[]);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AlertRuleState,
        planned: AlertRuleState,
        _config: AlertRuleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AlertRuleState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let id = prior.id.as_ref_option()?.clone();
        let mut body = serde_json::Map::new();
        if planned.name != prior.name {
            body.insert("name".into(), json!(planned.name.as_ref_option()));
        }
        for (k, new, old) in [
            ("on_failure", &planned.on_failure, &prior.on_failure),
            ("on_recovery", &planned.on_recovery, &prior.on_recovery),
            ("enabled", &planned.enabled, &prior.enabled),
        ] {
            if new != old {
                body.insert(k.into(), json!(new.as_ref_option()));
            }
        }
        for (k, new, old) in [
            ("consecutive_failures", &planned.consecutive_failures, &prior.consecutive_failures),
            ("min_interval_secs", &planned.min_interval_secs, &prior.min_interval_secs),
        ] {
            if new != old {
                body.insert(k.into(), json!(new.as_ref_option()));
            }
        }
        let channel_changed = planned.channel != prior.channel;
        if channel_changed {
            body.insert("channel".into(), planned.channel.as_ref_option().map(Channel::to_json).unwrap_or(Json::Null));
        }
        let mut s = planned;
        s.id = prior.id.clone();
        s.signing_secret = prior.signing_secret.clone();
        if !body.is_empty() {
            match client.patch(&format!("/alerts/{}", seg(&id)), &Json::Object(body)).await {
                Ok(r) if channel_changed => s.signing_secret = str_of(&r["signing_secret"]),
                Ok(_) => {}
                Err(e) => {
                    api_error(diags, "Updating the alert rule", &e, &[]);
                    return None;
                }
            }
        }
        Some((s, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AlertRuleState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.0.client(diags)?;
        let id = prior.id.as_ref_option()?.clone();
        match client.delete(&format!("/alerts/{}", seg(&id))).await {
            Ok(()) => Some(()),
            Err(e) => {
                api_error(diags, "Deleting the alert rule", &e, &[]);
                None
            }
        }
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(AlertRuleState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        match read_rule(&client, diags, &id, &AlertRuleState::default()).await {
            Some(s) => Some((s, ValueEmpty::default())),
            None => {
                diags.root_error(format!("No alert rule {id:?}"), "Import an alert rule by its id.");
                None
            }
        }
    }
}
