//! `quasm_subscription`: a function's subscription to events. The API has
//! no update for subscriptions: a change replaces it, except a `filter`
//! rewritten with the same meaning (dotted keys or nested objects), which
//! only updates the state. Tenant-level: imported by id.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use tf_provider::schema::{AttributeType, Block, Description, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{seg, Client};
use crate::json_attr;
use crate::shared::*;
use crate::validate;

pub struct SubscriptionResource(pub Shared);

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionState {
    #[serde(default)]
    pub id: Str,
    #[serde(default)]
    pub function: Str,
    #[serde(default)]
    pub event_type: Str,
    #[serde(default)]
    pub filter: Str,
    #[serde(default)]
    pub max_attempts: Int,
    #[serde(default)]
    pub backoff: Value<Vec<Backoff>>,
    #[serde(default)]
    pub enabled: Bool,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    #[serde(default)]
    pub initial_ms: Int,
    #[serde(default)]
    pub max_ms: Int,
}

const INITIAL_MS: i64 = 1000;

/// The server's default `max_ms`: the larger of 60000 and `initial_ms`.
fn default_max_ms(initial: i64) -> i64 {
    initial.max(60_000)
}

fn schema() -> Schema {
    let backoff = Block {
        version: 1,
        description: Description::markdown(
            "Retry delays: after failed attempt n the next waits min(max_ms, initial_ms * 2^(n-1)) with jitter.",
        ),
        attributes: attrs(vec![
            ("initial_ms", defaulted(AttributeType::Number, "First delay in milliseconds (default 1000).")),
            (
                "max_ms",
                defaulted(
                    AttributeType::Number,
                    "Longest delay in milliseconds (default: the larger of 60000 and initial_ms).",
                ),
            ),
        ]),
        ..Default::default()
    };
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "Subscribes a function's `event` handler to events. Subscriptions cannot be changed in place: a \
                 change replaces the subscription.",
            ),
            attributes: attrs(vec![
                ("id", computed(string(), "The subscription's id.")),
                ("function", required(string(), "Name of the function.")),
                ("event_type", required(string(), "An event type or a glob: `payment.*`, `*`.")),
                (
                    "filter",
                    optional(
                        string(),
                        "JSON object the payload must contain, e.g. `jsonencode({ \"customer.tier\" = \"gold\" })`; \
                         dotted keys nest; compared by meaning.",
                    ),
                ),
                ("max_attempts", defaulted(AttributeType::Number, "Attempts before a dead letter, 1-100 (default 5).")),
                ("enabled", computed(AttributeType::Bool, "Whether deliveries run.")),
            ]),
            blocks: [("backoff".to_owned(), NestedBlock::Optional(backoff))].into(),
            ..Default::default()
        },
    }
}

fn state_of(s: &Json, prior: &SubscriptionState) -> SubscriptionState {
    let b = Backoff { initial_ms: int_of(&s["backoff"]["initial_ms"]), max_ms: int_of(&s["backoff"]["max_ms"]) };
    let is_default = b.initial_ms == Value::Value(INITIAL_MS) && b.max_ms == Value::Value(default_max_ms(INITIAL_MS));
    let had_block = prior.backoff.as_ref_option().is_some_and(|v| !v.is_empty());
    SubscriptionState {
        id: Value::Value(s["id"].as_i64().map(|i| i.to_string()).unwrap_or_default()),
        function: str_of(&s["function"]),
        event_type: str_of(&s["event_type"]),
        filter: json_attr::read_back(&prior.filter, &s["filter"], &json!({}), json_attr::nest_dotted),
        max_attempts: int_of(&s["max_attempts"]),
        backoff: Value::Value(if had_block || !is_default { vec![b] } else { vec![] }),
        enabled: bool_of(&s["enabled"]),
    }
}

async fn read_subscription(
    client: &Client,
    diags: &mut Diagnostics,
    id: &str,
    prior: &SubscriptionState,
) -> Option<SubscriptionState> {
    match client.get_opt(&format!("/subscriptions/{}", seg(id))).await {
        Ok(Some(s)) => Some(state_of(&s, prior)),
        Ok(None) => None,
        Err(e) => {
            api_error(diags, "Reading the subscription", &e, &[]);
            Some(prior.clone())
        }
    }
}

fn defaults(planned: &mut SubscriptionState, config: &SubscriptionState) {
    default_when_unset(&mut planned.max_attempts, &config.max_attempts, 5);
    let conf = config.backoff.as_ref_option().and_then(|c| c.first()).cloned().unwrap_or_default();
    if let Value::Value(blocks) = &mut planned.backoff {
        for b in blocks.iter_mut() {
            default_when_unset(&mut b.initial_ms, &conf.initial_ms, INITIAL_MS);
            if conf.max_ms.is_null() {
                b.max_ms = match b.initial_ms {
                    Value::Value(i) => Value::Value(default_max_ms(i)),
                    _ => Value::Unknown,
                };
            }
        }
    }
}

fn filter_meaning(v: &Str) -> Json {
    v.as_ref_option()
        .and_then(|t| serde_json::from_str::<Json>(t).ok())
        .map(|j| json_attr::nest_dotted(&j))
        .unwrap_or_else(|| json!({}))
}

#[async_trait]
impl Resource for SubscriptionResource {
    type State<'a> = SubscriptionState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, c: SubscriptionState) -> Option<()> {
        validate::name(diags, "function", &c.function);
        validate::json(diags, "filter", &c.filter, true);
        if let Some(n) = c.max_attempts.as_ref_option() {
            if !(1..=100).contains(n) {
                diags.error(
                    "Invalid value",
                    format!("max_attempts {n} is not in 1-100"),
                    AttributePath::new("max_attempts"),
                );
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: SubscriptionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(SubscriptionState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let id = state.id.as_ref_option()?.clone();
        read_subscription(&client, diags, &id, &state).await.map(|s| (s, private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: SubscriptionState,
        config: SubscriptionState,
        _meta: ValueEmpty,
    ) -> Option<(SubscriptionState, ValueEmpty)> {
        let mut planned = proposed;
        defaults(&mut planned, &config);
        planned.id = Value::Unknown;
        planned.enabled = Value::Unknown;
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: SubscriptionState,
        proposed: SubscriptionState,
        config: SubscriptionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(SubscriptionState, ValueEmpty, Vec<AttributePath>)> {
        let mut planned = proposed;
        defaults(&mut planned, &config);
        let mut replace = vec![];
        for (name, changed) in [
            ("function", planned.function != prior.function),
            ("event_type", planned.event_type != prior.event_type),
            ("max_attempts", planned.max_attempts != prior.max_attempts),
            ("backoff", planned.backoff != prior.backoff),
            (
                "filter",
                !planned.filter.is_unknown() && filter_meaning(&planned.filter) != filter_meaning(&prior.filter),
            ),
        ] {
            if changed {
                replace.push(AttributePath::new(name));
            }
        }
        if planned.filter.is_unknown() {
            replace.push(AttributePath::new("filter"));
        }
        if !replace.is_empty() {
            planned.id = Value::Unknown;
            planned.enabled = Value::Unknown;
        }
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: SubscriptionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: SubscriptionState,
        _config: SubscriptionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(SubscriptionState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let mut body = json!({
            "function": planned.function.as_ref_option(),
            "event_type": planned.event_type.as_ref_option(),
            "max_attempts": planned.max_attempts.as_ref_option(),
        });
        if planned.filter.is_value() {
            body["filter"] =
                planned.filter.as_ref_option().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(json!({}));
        }
        if let Some(b) = planned.backoff.as_ref_option().and_then(|b| b.first()) {
            body["backoff"] = json!({ "initial_ms": b.initial_ms.as_ref_option(), "max_ms": b.max_ms.as_ref_option() });
        }
        match client.post("/subscriptions", &body).await {
            Ok(s) => {
                let mut st = planned;
                st.id = Value::Value(s["id"].as_i64().map(|i| i.to_string()).unwrap_or_default());
                st.enabled = bool_of(&s["enabled"]);
                Some((st, private))
            }
            Err(e) => {
                api_error(diags, "Creating the subscription", &e, &["backoff"]);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: SubscriptionState,
        planned: SubscriptionState,
        _config: SubscriptionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(SubscriptionState, ValueEmpty)> {
        // Only a filter with the same meaning gets here: state-only change.
        let mut s = planned;
        s.id = prior.id;
        s.enabled = prior.enabled;
        Some((s, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: SubscriptionState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.0.client(diags)?;
        let id = prior.id.as_ref_option()?.clone();
        match client.delete(&format!("/subscriptions/{}", seg(&id))).await {
            Ok(()) => Some(()),
            Err(e) => {
                api_error(diags, "Deleting the subscription", &e, &[]);
                None
            }
        }
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(SubscriptionState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        match read_subscription(&client, diags, &id, &SubscriptionState::default()).await {
            Some(s) => Some((s, ValueEmpty::default())),
            None => {
                diags.root_error(format!("No subscription {id:?}"), "Import a subscription by its id.");
                None
            }
        }
    }
}
