//! `quasm_schedule`: a cron schedule of a function, changed in place
//! (except `function`). Imported by `function_name/id`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::client::{seg, Client};
use crate::json_attr;
use crate::shared::*;
use crate::validate;

pub struct ScheduleResource(pub Shared);

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleState {
    #[serde(default)]
    pub id: Str,
    #[serde(default)]
    pub function: Str,
    #[serde(default)]
    pub cron: Str,
    #[serde(default)]
    pub timezone: Str,
    #[serde(default)]
    pub input: Str,
    #[serde(default)]
    pub enabled: Bool,
    #[serde(default)]
    pub overlap: Str,
    #[serde(default)]
    pub catch_up: Str,
}

fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown("A cron schedule that runs a function's `scheduled` handler."),
            attributes: attrs(vec![
                ("id", computed(string(), "The schedule's id.")),
                ("function", required(string(), "Name of the function. Changing it replaces the schedule.")),
                (
                    "cron",
                    required(
                        string(),
                        "5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or \
                         @yearly/@monthly/@weekly/@daily/@hourly.",
                    ),
                ),
                ("timezone", defaulted(string(), "IANA time zone the expression runs in (default `UTC`).")),
                (
                    "input",
                    optional(
                        string(),
                        "JSON passed as `event.input`, e.g. `jsonencode({ full = true })`; compared by meaning.",
                    ),
                ),
                ("enabled", defaulted(AttributeType::Bool, "Whether slots run (default true).")),
                ("overlap", defaulted(string(), "`skip` (default), `queue` or `allow`.")),
                ("catch_up", defaulted(string(), "`skip` (default) or `once`.")),
            ]),
            ..Default::default()
        },
    }
}

fn state_of(s: &Json, prior: &ScheduleState) -> ScheduleState {
    ScheduleState {
        id: Value::Value(s["id"].as_i64().map(|i| i.to_string()).unwrap_or_default()),
        function: str_of(&s["function"]),
        cron: str_of(&s["cron"]),
        timezone: str_of(&s["timezone"]),
        input: json_attr::read_back(&prior.input, &s["input"], &Json::Null, json_attr::identity),
        enabled: bool_of(&s["enabled"]),
        overlap: str_of(&s["overlap"]),
        catch_up: str_of(&s["catch_up"]),
    }
}

fn path(function: &str, id: &str) -> String {
    format!("/functions/{}/schedules/{}", seg(function), seg(id))
}

fn input_json(v: &Str) -> Json {
    v.as_ref_option().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Json::Null)
}

async fn read_schedule(
    client: &Client,
    diags: &mut Diagnostics,
    function: &str,
    id: &str,
    prior: &ScheduleState,
) -> Option<ScheduleState> {
    match client.get_opt(&path(function, id)).await {
        Ok(Some(s)) => Some(state_of(&s, prior)),
        Ok(None) => None,
        Err(e) => {
            api_error(diags, "Reading the schedule", &e, &[]);
            Some(prior.clone())
        }
    }
}

#[async_trait]
impl Resource for ScheduleResource {
    type State<'a> = ScheduleState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, c: ScheduleState) -> Option<()> {
        validate::name(diags, "function", &c.function);
        validate::cron(diags, &c.cron);
        validate::timezone(diags, &c.timezone);
        validate::json(diags, "input", &c.input, false);
        validate::one_of(diags, AttributePath::new("overlap"), &c.overlap, &["skip", "queue", "allow"]);
        validate::one_of(diags, AttributePath::new("catch_up"), &c.catch_up, &["skip", "once"]);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: ScheduleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ScheduleState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let (f, id) = (state.function.as_ref_option()?.clone(), state.id.as_ref_option()?.clone());
        read_schedule(&client, diags, &f, &id, &state).await.map(|s| (s, private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: ScheduleState,
        config: ScheduleState,
        _meta: ValueEmpty,
    ) -> Option<(ScheduleState, ValueEmpty)> {
        let mut planned = proposed;
        defaults(&mut planned, &config);
        planned.id = Value::Unknown;
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: ScheduleState,
        proposed: ScheduleState,
        config: ScheduleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ScheduleState, ValueEmpty, Vec<AttributePath>)> {
        let mut planned = proposed;
        defaults(&mut planned, &config);
        let mut replace = vec![];
        if planned.function != prior.function {
            replace.push(AttributePath::new("function"));
            planned.id = Value::Unknown;
        }
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: ScheduleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: ScheduleState,
        _config: ScheduleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ScheduleState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let f = planned.function.as_ref_option()?.clone();
        let mut body = json!({
            "cron": planned.cron.as_ref_option(),
            "timezone": planned.timezone.as_ref_option(),
            "enabled": planned.enabled.as_ref_option(),
            "overlap": planned.overlap.as_ref_option(),
            "catch_up": planned.catch_up.as_ref_option(),
        });
        if planned.input.is_value() {
            body["input"] = input_json(&planned.input);
        }
        match client.post(&format!("/functions/{}/schedules", seg(&f)), &body).await {
            Ok(s) => {
                let mut st = planned;
                st.id = Value::Value(s["id"].as_i64().map(|i| i.to_string()).unwrap_or_default());
                Some((st, private))
            }
            Err(e) => {
                api_error(diags, "Creating the schedule", &e, &[]);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ScheduleState,
        planned: ScheduleState,
        _config: ScheduleState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ScheduleState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let (f, id) = (planned.function.as_ref_option()?.clone(), prior.id.as_ref_option()?.clone());
        let mut body = serde_json::Map::new();
        for (k, new, old) in [
            ("cron", &planned.cron, &prior.cron),
            ("timezone", &planned.timezone, &prior.timezone),
            ("overlap", &planned.overlap, &prior.overlap),
            ("catch_up", &planned.catch_up, &prior.catch_up),
        ] {
            if new != old {
                body.insert(k.into(), json!(new.as_ref_option()));
            }
        }
        if planned.enabled != prior.enabled {
            body.insert("enabled".into(), json!(planned.enabled.as_ref_option()));
        }
        if input_json(&planned.input) != input_json(&prior.input) {
            body.insert("input".into(), input_json(&planned.input));
        }
        if !body.is_empty() {
            if let Err(e) = client.patch(&path(&f, &id), &Json::Object(body)).await {
                api_error(diags, "Updating the schedule", &e, &[]);
                return None;
            }
        }
        let mut s = planned;
        s.id = prior.id;
        Some((s, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ScheduleState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.0.client(diags)?;
        let (f, id) = (prior.function.as_ref_option()?.clone(), prior.id.as_ref_option()?.clone());
        match client.delete(&path(&f, &id)).await {
            Ok(()) => Some(()),
            Err(e) => {
                api_error(diags, "Deleting the schedule", &e, &[]);
                None
            }
        }
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(ScheduleState, ValueEmpty)> {
        let client = self.0.client(diags)?;
        let (f, sid) = split_import_id(diags, &id, "schedule")?;
        match read_schedule(&client, diags, &f, &sid, &ScheduleState::default()).await {
            Some(s) => Some((s, ValueEmpty::default())),
            None => {
                diags.root_error(format!("No schedule {id:?}"), "Import a schedule by `function_name/id`.");
                None
            }
        }
    }
}

fn defaults(planned: &mut ScheduleState, config: &ScheduleState) {
    default_when_unset(&mut planned.timezone, &config.timezone, "UTC".into());
    default_when_unset(&mut planned.enabled, &config.enabled, true);
    default_when_unset(&mut planned.overlap, &config.overlap, "skip".into());
    default_when_unset(&mut planned.catch_up, &config.catch_up, "skip".into());
}
