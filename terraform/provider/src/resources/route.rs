//! `quasm_route`: an HTTP route `/fn/{tenant}{path}` to a function's
//! `fetch` handler. The API has no update for routes, so every change
//! replaces the route (Terraform deletes the old one, then creates the new
//! one). Routes are tenant-level: imported by id.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{seg, Client};
use crate::shared::*;
use crate::validate;

pub struct RouteResource(pub Shared);

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteState {
    #[serde(default)]
    pub id: Str,
    #[serde(default)]
    pub function: Str,
    #[serde(default)]
    pub method: Str,
    #[serde(default)]
    pub path: Str,
    #[serde(default)]
    pub auth: Str,
    #[serde(default)]
    pub success_sample_rate: Float,
    #[serde(default)]
    pub strip_prefix: Bool,
}

const AUTH: [&str; 3] = ["public", "jwt", "api_key"];

fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "An HTTP route: requests to `/fn/{tenant}{path}` run the `fetch` handler of `function`. \
                 Routes cannot be changed in place: any change replaces the route.",
            ),
            attributes: attrs(vec![
                ("id", computed(string(), "The route's id.")),
                ("function", required(string(), "Name of the function.")),
                (
                    "method",
                    optional(
                        string(),
                        "GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (upper case); leave it out for any method.",
                    ),
                ),
                (
                    "path",
                    required(
                        string(),
                        "Starts with `/`; `:name` segments are parameters, a final `*` or `*name` is a wildcard.",
                    ),
                ),
                ("auth", required(string(), "Who may call it: `public`, `jwt` or `api_key`.")),
                (
                    "success_sample_rate",
                    optional(AttributeType::Number, "Overrides the function's sample rate for this route (0-1)."),
                ),
                (
                    "strip_prefix",
                    defaulted(
                        AttributeType::Bool,
                        "When true, the function's `request.url` omits `/fn/{tenant}` (Worker scripts that route on \
                         `url.pathname` run unchanged); the URL as received is `ctx.originalUrl`. Default false.",
                    ),
                ),
            ]),
            ..Default::default()
        },
    }
}

fn state_of(r: &Json, prior: &RouteState) -> RouteState {
    RouteState {
        id: Value::Value(r["id"].as_i64().map(|i| i.to_string()).unwrap_or_default()),
        function: str_of(&r["function"]),
        method: str_of(&r["method"]),
        path: str_of(&r["path"]),
        auth: str_of(&r["auth"]),
        success_sample_rate: match (float_of(&r["success_sample_rate"]), &prior.success_sample_rate) {
            (Value::Value(s), Value::Value(p)) if (s - p).abs() < 1e-6 => Value::Value(*p),
            (s, _) => s,
        },
        strip_prefix: bool_of(&r["strip_prefix"]),
    }
}

async fn find(client: &Client, diags: &mut Diagnostics, id: &str) -> Result<Option<Json>, ()> {
    match client.get("/routes").await {
        Ok(list) => Ok(list["routes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(id))
            .cloned()),
        Err(e) => {
            api_error(diags, "Listing routes", &e, &[]);
            Err(())
        }
    }
}

#[async_trait]
impl Resource for RouteResource {
    type State<'a> = RouteState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, c: RouteState) -> Option<()> {
        validate::name(diags, "function", &c.function);
        validate::method(diags, &c.method);
        validate::route_path(diags, &c.path);
        validate::one_of(diags, AttributePath::new("auth"), &c.auth, &AUTH);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: RouteState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(RouteState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let id = state.id.as_ref_option()?.clone();
        match find(&client, diags, &id).await {
            Ok(Some(r)) => Some((state_of(&r, &state), private)),
            Ok(None) => None,
            Err(()) => Some((state, private)),
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: RouteState,
        config: RouteState,
        _meta: ValueEmpty,
    ) -> Option<(RouteState, ValueEmpty)> {
        let mut planned = proposed;
        planned.id = Value::Unknown;
        default_when_unset(&mut planned.strip_prefix, &config.strip_prefix, false);
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: RouteState,
        proposed: RouteState,
        config: RouteState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(RouteState, ValueEmpty, Vec<AttributePath>)> {
        let mut planned = proposed;
        default_when_unset(&mut planned.strip_prefix, &config.strip_prefix, false);
        let mut replace = vec![];
        for (name, changed) in [
            ("function", planned.function != prior.function),
            ("method", planned.method != prior.method),
            ("path", planned.path != prior.path),
            ("auth", planned.auth != prior.auth),
            ("success_sample_rate", planned.success_sample_rate != prior.success_sample_rate),
            ("strip_prefix", planned.strip_prefix != prior.strip_prefix),
        ] {
            if changed {
                replace.push(AttributePath::new(name));
            }
        }
        if !replace.is_empty() {
            planned.id = Value::Unknown;
        }
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: RouteState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: RouteState,
        _config: RouteState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(RouteState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let mut body = json!({
            "function": planned.function.as_ref_option(),
            "path": planned.path.as_ref_option(),
            "auth": planned.auth.as_ref_option(),
        });
        if let Some(m) = planned.method.as_ref_option() {
            body["method"] = json!(m);
        }
        if let Some(r) = planned.success_sample_rate.as_ref_option() {
            body["success_sample_rate"] = json!(r);
        }
        if let Some(strip) = planned.strip_prefix.as_ref_option() {
            body["strip_prefix"] = json!(strip);
        }
        match client.post("/routes", &body).await {
            Ok(r) => {
                let mut s = planned;
                s.id = Value::Value(r["id"].as_i64().map(|i| i.to_string()).unwrap_or_default());
                Some((s, private))
            }
            Err(e) => {
                api_error(diags, "Creating the route", &e, &[]);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: RouteState,
        planned: RouteState,
        _config: RouteState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(RouteState, ValueEmpty)> {
        // Every attribute forces replacement: nothing to change in place.
        Some((planned, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: RouteState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.0.client(diags)?;
        let id = prior.id.as_ref_option()?.clone();
        match client.delete(&format!("/routes/{}", seg(&id))).await {
            Ok(()) => Some(()),
            Err(e) => {
                api_error(diags, "Deleting the route", &e, &[]);
                None
            }
        }
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(RouteState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        match find(&client, diags, &id).await {
            Ok(Some(r)) => Some((state_of(&r, &RouteState::default()), ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(format!("No route with id {id:?}"), "Import a route by its id.");
                None
            }
            Err(()) => None,
        }
    }
}
