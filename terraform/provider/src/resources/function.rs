//! `quasm_function`: a function, its settings and its live code.
//!
//! - A change of `code` uploads a new version with the message "terraform"
//!   and deploys it; `code_sha256` is the live version's content hash, so
//!   code changed outside Terraform (a new version, a rollback) is drift.
//! - `secrets` are write-only: the API lists secret names, never values.
//!   The state keeps the values Terraform set for the names that still
//!   exist; a secret deleted outside Terraform is planned back, one added
//!   outside Terraform is planned for deletion, and a value changed outside
//!   Terraform cannot be seen.
//! - `limits`: an absent block means the server's defaults; a block shows
//!   up in the state when the server's limits differ from them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use tf_provider::schema::{AttributeType, Block, Description, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{seg, Client};
use crate::shared::*;
use crate::validate;

pub struct FunctionResource(pub Shared);

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionState {
    #[serde(default)]
    pub name: Str,
    #[serde(default)]
    pub code: Str,
    #[serde(default)]
    pub description: Str,
    #[serde(default)]
    pub tags: StrList,
    #[serde(default)]
    pub env: StrMap,
    #[serde(default)]
    pub secrets: StrMap,
    #[serde(default)]
    pub limits: Value<Vec<Limits>>,
    #[serde(default)]
    pub enabled: Bool,
    #[serde(default)]
    pub isolation: Str,
    #[serde(default)]
    pub success_sample_rate: Float,
    #[serde(default)]
    pub version: Int,
    #[serde(default)]
    pub code_sha256: Str,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    #[serde(default)]
    pub timeout_ms: Int,
    #[serde(default)]
    pub memory_mb: Int,
    #[serde(default)]
    pub max_log_bytes: Int,
    #[serde(default)]
    pub max_output_bytes: Int,
    #[serde(default)]
    pub max_subrequests: Int,
    #[serde(default)]
    pub max_fetch_response_bytes: Int,
}

/// The API's documented defaults (`Limits` in the OpenAPI document).
const LIMIT_DEFAULTS: [(&str, i64); 6] = [
    ("timeout_ms", 30_000),
    ("memory_mb", 128),
    ("max_log_bytes", 262_144),
    ("max_output_bytes", 6_291_456),
    ("max_subrequests", 50),
    ("max_fetch_response_bytes", 10_485_760),
];

impl Limits {
    fn fields_mut(&mut self) -> [(&'static str, &mut Int); 6] {
        [
            ("timeout_ms", &mut self.timeout_ms),
            ("memory_mb", &mut self.memory_mb),
            ("max_log_bytes", &mut self.max_log_bytes),
            ("max_output_bytes", &mut self.max_output_bytes),
            ("max_subrequests", &mut self.max_subrequests),
            ("max_fetch_response_bytes", &mut self.max_fetch_response_bytes),
        ]
    }

    fn from_json(v: &Json) -> Limits {
        let mut l = Limits::default();
        for (name, field) in l.fields_mut() {
            *field = int_of(&v[name]);
        }
        l
    }

    fn to_json(&self) -> Json {
        let mut l = self.clone();
        let mut m = serde_json::Map::new();
        for (name, field) in l.fields_mut() {
            if let Some(v) = field.as_ref_option() {
                m.insert(name.to_owned(), json!(v));
            }
        }
        Json::Object(m)
    }

    fn is_default(&self) -> bool {
        let mut l = self.clone();
        let same = l.fields_mut().into_iter().zip(LIMIT_DEFAULTS).all(|((_, v), (_, d))| v.as_ref_option() == Some(&d));
        same
    }

    /// Fills the attributes the configuration leaves out with defaults.
    fn with_defaults(mut self, config: Option<&Limits>) -> Limits {
        let mut config = config.cloned().unwrap_or_default();
        for (((_, planned), (_, conf)), (_, d)) in
            self.fields_mut().into_iter().zip(config.fields_mut()).zip(LIMIT_DEFAULTS)
        {
            default_when_unset(planned, conf, d);
        }
        self
    }
}

pub fn sha256_hex(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

fn schema() -> Schema {
    let int = || AttributeType::Number;
    let limits = Block {
        version: 1,
        description: Description::markdown(
            "Resource limits of one invocation. Attributes left out take the server's defaults; values above the \
             operator's maxima are refused.",
        ),
        attributes: attrs(vec![
            ("timeout_ms", defaulted(int(), "Wall-clock budget in milliseconds (default 30000).")),
            ("memory_mb", defaulted(int(), "Memory cap in MiB (default 128).")),
            ("max_log_bytes", defaulted(int(), "Log bytes kept per invocation (default 262144).")),
            ("max_output_bytes", defaulted(int(), "Largest result in bytes (default 6291456).")),
            ("max_subrequests", defaulted(int(), "Outbound `fetch` calls per invocation (default 50).")),
            (
                "max_fetch_response_bytes",
                defaulted(int(), "Largest response body one `fetch` may read (default 10485760)."),
            ),
        ]),
        ..Default::default()
    };
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "A Quasm function. A change of `code` uploads a new version (message \"terraform\") and deploys it.",
            ),
            attributes: attrs(vec![
                (
                    "name",
                    required(
                        string(),
                        "Name, unique in the tenant: `[a-z0-9][a-z0-9_-]{0,62}`. Changing it replaces the function.",
                    ),
                ),
                ("code", required(string(), "JavaScript source of the live version, typically `file(\"export.js\")`.")),
                ("description", defaulted(string(), "Free text, at most 4096 bytes (default \"\").")),
                ("tags", defaulted(string_list(), "Up to 32 tags of 1-64 bytes (default none).")),
                ("env", defaulted(string_map(), "Environment variables (`env.NAME` in the function).")),
                (
                    "secrets",
                    sensitive(optional(
                        string_map(),
                        "Secrets (`secrets.NAME`); needs the admin role. Write-only: values are never read back.",
                    )),
                ),
                ("enabled", defaulted(AttributeType::Bool, "Whether the function may run (default true).")),
                ("isolation", defaulted(string(), "`fresh` (default) or `warm`.")),
                (
                    "success_sample_rate",
                    defaulted(AttributeType::Number, "Share of successful executions recorded, 0-1 (default 1)."),
                ),
                ("version", computed(int(), "Number of the live version.")),
                ("code_sha256", computed(string(), "Hex SHA-256 of the live version's code.")),
            ]),
            blocks: [("limits".to_owned(), NestedBlock::Optional(limits))].into(),
            ..Default::default()
        },
    }
}

/// Plan-time defaults and computed values shared by create and update.
fn plan_defaults(planned: &mut FunctionState, config: &FunctionState) {
    default_when_unset(&mut planned.description, &config.description, String::new());
    default_when_unset(&mut planned.tags, &config.tags, vec![]);
    default_when_unset(&mut planned.env, &config.env, BTreeMap::new());
    default_when_unset(&mut planned.enabled, &config.enabled, true);
    default_when_unset(&mut planned.isolation, &config.isolation, "fresh".into());
    default_when_unset(&mut planned.success_sample_rate, &config.success_sample_rate, 1.0);
    if let Value::Value(blocks) = &mut planned.limits {
        let conf = config.limits.as_ref_option().and_then(|c| c.first());
        for b in blocks.iter_mut() {
            *b = std::mem::take(b).with_defaults(conf);
        }
    }
    planned.code_sha256 = match &planned.code {
        Value::Value(c) => Value::Value(sha256_hex(c)),
        _ => Value::Unknown,
    };
}

/// The server's syntax check of `code` (`POST /api/v1/check`), reported
/// with line and column on the `code` attribute. A server without the
/// endpoint skips it (apply still reports the same error).
pub async fn check_code(client: &Client, diags: &mut Diagnostics, code: &Str) {
    let Some(code) = code.as_ref_option() else { return };
    match client.post("/check", &json!({ "code": code })).await {
        Ok(answer) => {
            if answer["ok"].as_bool() == Some(true) {
                return;
            }
            for d in answer["diagnostics"].as_array().into_iter().flatten() {
                if d["severity"].as_str().is_some_and(|s| s != "error") {
                    continue;
                }
                let (line, column) = (d["line"].as_i64().unwrap_or(0), d["column"].as_i64().unwrap_or(0));
                diags.error(
                    format!("Syntax error in code at line {line}, column {column}"),
                    d["message"].as_str().unwrap_or("syntax error").to_owned(),
                    AttributePath::new("code"),
                );
            }
        }
        Err(e) if matches!(e.status(), Some(404 | 405)) => {}
        Err(e) => api_error(diags, "Checking `code`", &e, &[]),
    }
}

/// The state of function `name` as the server has it; `prior` keeps what
/// the API does not return (secret values) and the text of equal code.
async fn read_function(
    client: &Client,
    diags: &mut Diagnostics,
    name: &str,
    prior: &FunctionState,
) -> Option<FunctionState> {
    let f = match client.get_opt(&format!("/functions/{}", seg(name))).await {
        Ok(Some(f)) => f,
        Ok(None) => return None,
        Err(e) => {
            api_error(diags, "Reading the function", &e, &[]);
            return Some(prior.clone());
        }
    };
    let mut s = prior.clone();
    s.name = str_of(&f["name"]);
    s.description = str_of(&f["description"]);
    s.tags = str_list_of(&f["tags"]);
    s.env = str_map_of(&f["env"]);
    s.enabled = bool_of(&f["enabled"]);
    s.isolation = str_of(&f["isolation"]);
    s.success_sample_rate = match (float_of(&f["success_sample_rate"]), &prior.success_sample_rate) {
        // The server stores an f32: keep the configured f64 when it rounds to it.
        (Value::Value(server), Value::Value(p)) if (server - p).abs() < 1e-6 => Value::Value(*p),
        (server, _) => server,
    };
    let limits = Limits::from_json(&f["limits"]);
    let had_block = prior.limits.as_ref_option().is_some_and(|l| !l.is_empty());
    s.limits = Value::Value(if had_block || !limits.is_default() { vec![limits] } else { vec![] });

    // Secrets: names from the server, values from the state.
    let names: Vec<String> =
        f["secrets"].as_array().into_iter().flatten().filter_map(|n| n.as_str().map(str::to_owned)).collect();
    let prior_secrets = prior.secrets.as_ref_option().cloned().unwrap_or_default();
    s.secrets = if names.is_empty() && prior_secrets.is_empty() {
        prior.secrets.clone()
    } else {
        Value::Value(
            names
                .into_iter()
                .map(|n| {
                    let v = prior_secrets.get(&n).cloned().unwrap_or(Value::Value(String::new()));
                    (n, v)
                })
                .collect(),
        )
    };

    s.version = int_of(&f["live_version"]);
    if let Some(live) = f["live_version"].as_i64() {
        match client.get(&format!("/functions/{}/versions/{live}", seg(name))).await {
            Ok(v) => {
                let hash = v["content_hash"].as_str().unwrap_or_default().to_owned();
                let same = prior.code.as_ref_option().is_some_and(|c| sha256_hex(c) == hash);
                if !same {
                    s.code = str_of(&v["code"]);
                }
                s.code_sha256 = Value::Value(hash);
            }
            Err(e) => api_error(diags, "Reading the live version", &e, &[]),
        }
    }
    Some(s)
}

fn create_body(p: &FunctionState) -> Json {
    let mut body = json!({
        "name": p.name.as_ref_option(),
        "code": p.code.as_ref_option(),
        "description": p.description.as_ref_option(),
        "tags": json_str_list(&p.tags),
        "env": json_str_map(&p.env),
        "enabled": p.enabled.as_ref_option(),
        "isolation": p.isolation.as_ref_option(),
        "success_sample_rate": p.success_sample_rate.as_ref_option(),
        "message": "terraform",
    });
    if let Some(l) = p.limits.as_ref_option().and_then(|l| l.first()) {
        body["limits"] = l.to_json();
    }
    let secrets = json_str_map(&p.secrets);
    if secrets.as_object().is_some_and(|m| !m.is_empty()) {
        body["secrets"] = secrets;
    }
    body
}

/// The PATCH body: only what changed, so a change that needs no special
/// role is not refused for one that does (`enabled`: operator, `secrets`:
/// admin).
fn update_body(prior: &FunctionState, p: &FunctionState) -> Json {
    let mut body = serde_json::Map::new();
    if p.description != prior.description {
        body.insert("description".into(), json!(p.description.as_ref_option()));
    }
    if p.tags != prior.tags {
        body.insert("tags".into(), json_str_list(&p.tags));
    }
    if p.env != prior.env {
        body.insert("env".into(), json_str_map(&p.env));
    }
    if p.enabled != prior.enabled {
        body.insert("enabled".into(), json!(p.enabled.as_ref_option()));
    }
    if p.isolation != prior.isolation {
        body.insert("isolation".into(), json!(p.isolation.as_ref_option()));
    }
    if p.success_sample_rate != prior.success_sample_rate {
        body.insert("success_sample_rate".into(), json!(p.success_sample_rate.as_ref_option()));
    }
    let first = |s: &FunctionState| s.limits.as_ref_option().and_then(|l| l.first()).cloned();
    if first(p) != first(prior) {
        // A removed block means the defaults, sent explicitly: the server
        // keeps its current limits for an empty object.
        let defaults = Json::Object(LIMIT_DEFAULTS.iter().map(|(k, v)| (k.to_string(), json!(v))).collect());
        body.insert("limits".into(), first(p).map(|l| l.to_json()).unwrap_or(defaults));
    }
    let new = p.secrets.as_ref_option().cloned().unwrap_or_default();
    let old = prior.secrets.as_ref_option().cloned().unwrap_or_default();
    let mut secrets = serde_json::Map::new();
    for (k, v) in &new {
        if old.get(k) != Some(v) {
            secrets.insert(k.clone(), json!(v.as_ref_option()));
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            secrets.insert(k.clone(), Json::Null);
        }
    }
    if !secrets.is_empty() {
        body.insert("secrets".into(), Json::Object(secrets));
    }
    Json::Object(body)
}

#[async_trait]
impl Resource for FunctionResource {
    type State<'a> = FunctionState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: FunctionState) -> Option<()> {
        validate::name(diags, "name", &config.name);
        validate::one_of(diags, AttributePath::new("isolation"), &config.isolation, &["fresh", "warm"]);
        if let Some(r) = config.success_sample_rate.as_ref_option() {
            if !(0.0..=1.0).contains(r) {
                diags.error(
                    "Invalid value",
                    format!("success_sample_rate {r} is not between 0 and 1"),
                    AttributePath::new("success_sample_rate"),
                );
            }
        }
        if let Some(code) = config.code.as_ref_option() {
            if code.trim().is_empty() {
                diags.error("Invalid value", "code is blank", AttributePath::new("code"));
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: FunctionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(FunctionState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let name = state.name.as_ref_option()?.clone();
        read_function(&client, diags, &name, &state).await.map(|s| (s, private))
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: FunctionState,
        config: FunctionState,
        _meta: ValueEmpty,
    ) -> Option<(FunctionState, ValueEmpty)> {
        let mut planned = proposed;
        plan_defaults(&mut planned, &config);
        planned.version = Value::Unknown;
        if let Some(client) = self.0.client(diags) {
            check_code(&client, diags, &planned.code).await;
        }
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: FunctionState,
        proposed: FunctionState,
        config: FunctionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(FunctionState, ValueEmpty, Vec<AttributePath>)> {
        let mut planned = proposed;
        plan_defaults(&mut planned, &config);
        let mut replace = vec![];
        if planned.name != prior.name {
            replace.push(AttributePath::new("name"));
            planned.version = Value::Unknown;
        } else if planned.code != prior.code {
            planned.version = Value::Unknown;
            if let Some(client) = self.0.client(diags) {
                check_code(&client, diags, &planned.code).await;
            }
        } else {
            planned.version = prior.version;
        }
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: FunctionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: FunctionState,
        _config: FunctionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(FunctionState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let created = match client.post("/functions", &create_body(&planned)).await {
            Ok(f) => f,
            Err(e) => {
                api_error(diags, "Creating the function", &e, &["limits"]);
                return None;
            }
        };
        let mut s = planned;
        s.version = int_of(&created["live_version"]);
        s.code_sha256 = s.code.as_ref_option().map(|c| sha256_hex(c)).into();
        Some((s, private))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: FunctionState,
        planned: FunctionState,
        _config: FunctionState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(FunctionState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let name = planned.name.as_ref_option()?.clone();
        let mut s = planned.clone();
        s.version = prior.version;
        if planned.code != prior.code {
            let body = json!({ "code": planned.code.as_ref_option(), "message": "terraform", "deploy": true });
            match client.post(&format!("/functions/{}/versions", seg(&name)), &body).await {
                Ok(v) => s.version = int_of(&v["number"]),
                Err(e) => {
                    api_error(diags, "Deploying the new code", &e, &[]);
                    return None;
                }
            }
        }
        let patch = update_body(&prior, &planned);
        if patch.as_object().is_some_and(|m| !m.is_empty()) {
            if let Err(e) = client.patch(&format!("/functions/{}", seg(&name)), &patch).await {
                api_error(diags, "Updating the function", &e, &["limits"]);
                // The code may be live already: keep what was applied.
                let mut partial = prior;
                partial.code = s.code.clone();
                partial.code_sha256 = s.code_sha256.clone();
                partial.version = s.version;
                return Some((partial, private));
            }
        }
        s.code_sha256 = s.code.as_ref_option().map(|c| sha256_hex(c)).into();
        Some((s, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: FunctionState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.0.client(diags)?;
        let name = prior.name.as_ref_option()?.clone();
        match client.delete(&format!("/functions/{}", seg(&name))).await {
            Ok(()) => Some(()),
            Err(e) => {
                api_error(diags, "Deleting the function", &e, &[]);
                None
            }
        }
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(FunctionState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let prior = FunctionState { name: Value::Value(id.clone()), ..Default::default() };
        match read_function(&client, diags, &id, &prior).await {
            Some(s) => Some((s, ValueEmpty::default())),
            None => {
                diags.root_error(format!("No function {id:?}"), "Import a function by its name.");
                None
            }
        }
    }
}
