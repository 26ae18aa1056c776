//! `quasm_api_key`: an API key of the tenant. Keys cannot be changed: any
//! change replaces the key (a new secret). The secret `key` is known only
//! from the creation answer; an imported key has none. Imported by id.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{seg, Client};
use crate::shared::*;
use crate::validate;

pub struct ApiKeyResource(pub Shared);

pub type StrSet = Value<std::collections::BTreeSet<Value<String>>>;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyState {
    #[serde(default)]
    pub id: Str,
    #[serde(default)]
    pub name: Str,
    #[serde(default)]
    pub roles: StrSet,
    #[serde(default)]
    pub expires_at: Str,
    #[serde(default)]
    pub key: Str,
    #[serde(default)]
    pub created_at: Str,
}

fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "An API key for a host service. Any change replaces the key. `key` is known only when Terraform \
                 creates the key.",
            ),
            attributes: attrs(vec![
                ("id", computed(string(), "The key's id (16 hex digits).")),
                ("name", required(string(), "1-128 bytes.")),
                (
                    "roles",
                    required(
                        AttributeType::Set(Box::new(AttributeType::String)),
                        "Roles: viewer, developer, operator, admin.",
                    ),
                ),
                (
                    "expires_at",
                    optional(string(), "RFC 3339 time in the future; leave it out for a key that never expires."),
                ),
                (
                    "key",
                    sensitive(computed(string(), "The secret `qk_<id>_<secret>`; send as `Authorization: Bearer`.")),
                ),
                ("created_at", computed(string(), "Creation time.")),
            ]),
            ..Default::default()
        },
    }
}

fn same_time(a: &str, b: &str) -> bool {
    match (chrono::DateTime::parse_from_rfc3339(a), chrono::DateTime::parse_from_rfc3339(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn state_of(k: &Json, prior: &ApiKeyState) -> ApiKeyState {
    let expires = match (str_of(&k["expires_at"]), &prior.expires_at) {
        // The configured text when it is the same instant.
        (Value::Value(s), Value::Value(p)) if same_time(&s, p) => Value::Value(p.clone()),
        (s, _) => s,
    };
    ApiKeyState {
        id: str_of(&k["id"]),
        name: str_of(&k["name"]),
        roles: Value::Value(
            k["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str())
                .map(|r| Value::Value(r.into()))
                .collect(),
        ),
        expires_at: expires,
        key: prior.key.clone(),
        created_at: str_of(&k["created_at"]),
    }
}

async fn find(client: &Client, diags: &mut Diagnostics, id: &str) -> Result<Option<Json>, ()> {
    match client.get("/api-keys").await {
        Ok(list) => {
            Ok(list["api_keys"].as_array().into_iter().flatten().find(|k| k["id"].as_str() == Some(id)).cloned())
        }
        Err(e) => {
            api_error(diags, "Listing API keys", &e, &[]);
            Err(())
        }
    }
}

#[async_trait]
impl Resource for ApiKeyResource {
    type State<'a> = ApiKeyState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, c: ApiKeyState) -> Option<()> {
        for r in c.roles.iter().flatten() {
            validate::one_of(diags, AttributePath::new("roles"), r, &validate::ROLES);
        }
        if c.roles.as_ref_option().is_some_and(|r| r.is_empty()) {
            diags.error("Invalid value", "roles: at least one role", AttributePath::new("roles"));
        }
        validate::rfc3339(diags, "expires_at", &c.expires_at);
        if let Some(n) = c.name.as_ref_option() {
            if n.trim().is_empty() || n.len() > 128 {
                diags.error("Invalid value", "name: 1-128 bytes, not only whitespace", AttributePath::new("name"));
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: ApiKeyState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ApiKeyState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let id = state.id.as_ref_option()?.clone();
        match find(&client, diags, &id).await {
            Ok(Some(k)) => Some((state_of(&k, &state), private)),
            Ok(None) => None,
            Err(()) => Some((state, private)),
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: ApiKeyState,
        _config: ApiKeyState,
        _meta: ValueEmpty,
    ) -> Option<(ApiKeyState, ValueEmpty)> {
        let mut planned = proposed;
        planned.id = Value::Unknown;
        planned.key = Value::Unknown;
        planned.created_at = Value::Unknown;
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: ApiKeyState,
        proposed: ApiKeyState,
        _config: ApiKeyState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ApiKeyState, ValueEmpty, Vec<AttributePath>)> {
        let mut planned = proposed;
        let mut replace = vec![];
        if planned.name != prior.name {
            replace.push(AttributePath::new("name"));
        }
        if planned.roles != prior.roles {
            replace.push(AttributePath::new("roles"));
        }
        let same_expiry = match (&planned.expires_at, &prior.expires_at) {
            (Value::Value(a), Value::Value(b)) => same_time(a, b),
            (a, b) => a == b,
        };
        if !same_expiry {
            replace.push(AttributePath::new("expires_at"));
        }
        if !replace.is_empty() {
            planned.id = Value::Unknown;
            planned.key = Value::Unknown;
            planned.created_at = Value::Unknown;
        }
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: ApiKeyState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: ApiKeyState,
        _config: ApiKeyState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ApiKeyState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let roles: Vec<&str> =
            planned.roles.iter().flatten().filter_map(|r| r.as_ref_option().map(|s| s.as_str())).collect();
        let mut body = json!({ "name": planned.name.as_ref_option(), "roles": roles });
        if let Some(t) = planned.expires_at.as_ref_option() {
            body["expires_at"] = json!(t);
        }
        match client.post("/api-keys", &body).await {
            Ok(k) => {
                let mut s = planned.clone();
                s.id = str_of(&k["id"]);
                s.key = str_of(&k["key"]);
                s.created_at = str_of(&k["created_at"]);
                Some((s, private))
            }
            Err(e) => {
                api_error(diags, "Creating the API key", &e, &[]);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: ApiKeyState,
        planned: ApiKeyState,
        _config: ApiKeyState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ApiKeyState, ValueEmpty)> {
        // Only `expires_at` rewritten as the same instant gets here.
        let mut s = planned;
        s.id = prior.id;
        s.key = prior.key;
        s.created_at = prior.created_at;
        Some((s, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ApiKeyState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.0.client(diags)?;
        let id = prior.id.as_ref_option()?.clone();
        match client.delete(&format!("/api-keys/{}", seg(&id))).await {
            Ok(()) => Some(()),
            Err(e) => {
                api_error(diags, "Revoking the API key", &e, &[]);
                None
            }
        }
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(ApiKeyState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        match find(&client, diags, &id).await {
            Ok(Some(k)) => Some((state_of(&k, &ApiKeyState::default()), ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(format!("No API key {id:?}"), "Import an API key by its id.");
                None
            }
            Err(()) => None,
        }
    }
}
