//! Data sources: `quasm_function` (one function by name) and
//! `quasm_functions` (names, optionally those with a tag).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, DataSource, Diagnostics};

use crate::client::seg;
use crate::shared::*;

pub struct FunctionDataSource(pub Shared);
pub struct FunctionsDataSource(pub Shared);

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct FunctionData {
    #[serde(default)]
    pub name: Str,
    #[serde(default)]
    pub description: Str,
    #[serde(default)]
    pub tags: StrList,
    #[serde(default)]
    pub env: StrMap,
    #[serde(default)]
    pub secret_names: StrList,
    #[serde(default)]
    pub enabled: Bool,
    #[serde(default)]
    pub isolation: Str,
    #[serde(default)]
    pub version: Int,
    #[serde(default)]
    pub code_sha256: Str,
}

#[async_trait]
impl DataSource for FunctionDataSource {
    type State<'a> = FunctionData;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown("Reads one function by name."),
                attributes: attrs(vec![
                    ("name", required(string(), "Name of the function.")),
                    ("description", computed(string(), "Description.")),
                    ("tags", computed(string_list(), "Tags.")),
                    ("env", computed(string_map(), "Environment variables.")),
                    ("secret_names", computed(string_list(), "Names of its secrets (never values).")),
                    ("enabled", computed(AttributeType::Bool, "Whether it may run.")),
                    ("isolation", computed(string(), "`fresh` or `warm`.")),
                    ("version", computed(AttributeType::Number, "The live version.")),
                    ("code_sha256", computed(string(), "Hex SHA-256 of the live version's code.")),
                ]),
                ..Default::default()
            },
        })
    }

    async fn read<'a>(&self, diags: &mut Diagnostics, config: FunctionData, _meta: ValueEmpty) -> Option<FunctionData> {
        let client = self.0.client(diags)?;
        let name = config.name.as_ref_option()?.clone();
        let f = match client.get(&format!("/functions/{}", seg(&name))).await {
            Ok(f) => f,
            Err(e) if e.is_not_found() => {
                diags.error(format!("No function {name:?}"), e.message(), AttributePath::new("name"));
                return None;
            }
            Err(e) => {
                api_error(diags, "Reading the function", &e, &[]);
                return None;
            }
        };
        let mut d = FunctionData {
            name: str_of(&f["name"]),
            description: str_of(&f["description"]),
            tags: str_list_of(&f["tags"]),
            env: str_map_of(&f["env"]),
            secret_names: str_list_of(&f["secrets"]),
            enabled: bool_of(&f["enabled"]),
            isolation: str_of(&f["isolation"]),
            version: int_of(&f["live_version"]),
            code_sha256: Value::Null,
        };
        if let Some(live) = f["live_version"].as_i64() {
            match client.get(&format!("/functions/{}/versions/{live}", seg(&name))).await {
                Ok(v) => d.code_sha256 = str_of(&v["content_hash"]),
                Err(e) => api_error(diags, "Reading the live version", &e, &[]),
            }
        }
        Some(d)
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct FunctionsData {
    #[serde(default)]
    pub tag: Str,
    #[serde(default)]
    pub names: StrList,
}

#[async_trait]
impl DataSource for FunctionsDataSource {
    type State<'a> = FunctionsData;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown("Lists the tenant's functions, optionally those with a tag."),
                attributes: attrs(vec![
                    ("tag", optional(string(), "Only functions with this tag.")),
                    ("names", computed(string_list(), "Function names, sorted.")),
                ]),
                ..Default::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: FunctionsData,
        _meta: ValueEmpty,
    ) -> Option<FunctionsData> {
        let client = self.0.client(diags)?;
        let list = match client.get("/functions").await {
            Ok(l) => l,
            Err(e) => {
                api_error(diags, "Listing functions", &e, &[]);
                return None;
            }
        };
        let tag = config.tag.as_ref_option().cloned();
        let has_tag = |f: &Json| match &tag {
            None => true,
            Some(t) => f["tags"].as_array().is_some_and(|ts| ts.iter().any(|x| x.as_str() == Some(t.as_str()))),
        };
        let names = list["functions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| has_tag(f))
            .filter_map(|f| f["name"].as_str().map(|n| Value::Value(n.to_owned())))
            .collect();
        Some(FunctionsData { tag: config.tag, names: Value::Value(names) })
    }
}
