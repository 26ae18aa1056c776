//! The provider block: `endpoint` and `token` (or QUASM_URL / QUASM_TOKEN),
//! checked against the server when Terraform configures the provider, so a
//! missing setting or an unreachable server fails the plan clearly.

use std::collections::HashMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, DynamicDataSource, DynamicResource, Provider};

use crate::client::{ApiError, Client};
use crate::data_sources::{FunctionDataSource, FunctionsDataSource};
use crate::resources::{
    AlertRuleResource, ApiKeyResource, FunctionResource, RouteResource, ScheduleResource, SubscriptionResource,
    WebhookResource,
};
use crate::shared::{attrs, optional, sensitive, string, Shared, Str};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub endpoint: Str,
    #[serde(default)]
    pub token: Str,
}

#[derive(Default)]
pub struct QuasmProvider {
    shared: Shared,
}

/// A setting from the configuration, else the environment variable.
fn setting(diags: &mut Diagnostics, v: &Str, attr: &'static str, env: &str) -> Option<String> {
    match v {
        Value::Value(s) if !s.is_empty() => Some(s.clone()),
        Value::Unknown => {
            diags.error(
                format!("`{attr}` is not known until apply"),
                "The provider needs it to plan; use a value known at plan time.",
                AttributePath::new(attr),
            );
            None
        }
        _ => match std::env::var(env) {
            Ok(s) if !s.is_empty() => Some(s),
            _ => {
                diags.error(
                    format!("Missing `{attr}`"),
                    format!("Set `{attr}` in the provider \"quasm\" block or the {env} environment variable."),
                    AttributePath::new(attr),
                );
                None
            }
        },
    }
}

#[async_trait]
impl Provider for QuasmProvider {
    type Config<'a> = Config;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "Manages Quasm functions, routes, schedules, subscriptions, alert rules and API keys \
                     through the admin API.",
                ),
                attributes: attrs(vec![
                    (
                        "endpoint",
                        optional(
                            string(),
                            "Base URL of the Quasm server, e.g. `https://quasm.example.com` \
                             (default: the `QUASM_URL` environment variable).",
                        ),
                    ),
                    (
                        "token",
                        sensitive(optional(
                            string(),
                            "A JWT or API key (`qk_...`) of the tenant to manage \
                             (default: the `QUASM_TOKEN` environment variable).",
                        )),
                    ),
                ]),
                ..Default::default()
            },
        })
    }

    async fn configure<'a>(&self, diags: &mut Diagnostics, _tf_version: String, config: Config) -> Option<()> {
        let endpoint = setting(diags, &config.endpoint, "endpoint", "QUASM_URL");
        let token = setting(diags, &config.token, "token", "QUASM_TOKEN");
        let (endpoint, token) = (endpoint?, token?);
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            diags.error(
                "Invalid `endpoint`",
                format!("{endpoint:?}: an http:// or https:// URL"),
                AttributePath::new("endpoint"),
            );
            return None;
        }
        let client = match Client::new(&endpoint, &token) {
            Ok(c) => c,
            Err(e) => {
                diags.root_error("Cannot build the HTTP client", e.to_string());
                return None;
            }
        };
        // One cheap authenticated call: proves the server answers and the
        // token is accepted before any resource is planned.
        match client.get("/tenant").await {
            Ok(_) => {}
            Err(e @ ApiError::Unreachable { .. }) => {
                diags.error(
                    "Quasm server unreachable",
                    format!("{e}. Check `endpoint` (or QUASM_URL)."),
                    AttributePath::new("endpoint"),
                );
                return None;
            }
            Err(e) if matches!(e.status(), Some(401)) => {
                diags.error(
                    "The Quasm server refused the token",
                    format!("{}. Check `token` (or QUASM_TOKEN).", e.message()),
                    AttributePath::new("token"),
                );
                return None;
            }
            // A token without the viewer role on /tenant, etc.: resources
            // report their own errors.
            Err(_) => {}
        }
        self.shared.set(client);
        Some(())
    }

    fn get_resources(&self, _diags: &mut Diagnostics) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        let s = &self.shared;
        let mut m: HashMap<String, Box<dyn DynamicResource>> = HashMap::new();
        m.insert("function".into(), Box::new(FunctionResource(s.clone())));
        m.insert("route".into(), Box::new(RouteResource(s.clone())));
        m.insert("schedule".into(), Box::new(ScheduleResource(s.clone())));
        m.insert("subscription".into(), Box::new(SubscriptionResource(s.clone())));
        m.insert("alert_rule".into(), Box::new(AlertRuleResource(s.clone())));
        m.insert("api_key".into(), Box::new(ApiKeyResource(s.clone())));
        m.insert("webhook".into(), Box::new(WebhookResource(s.clone())));
        Some(m)
    }

    fn get_data_sources(&self, _diags: &mut Diagnostics) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        let s = &self.shared;
        let mut m: HashMap<String, Box<dyn DynamicDataSource>> = HashMap::new();
        m.insert("function".into(), Box::new(FunctionDataSource(s.clone())));
        m.insert("functions".into(), Box::new(FunctionsDataSource(s.clone())));
        Some(m)
    }
}
