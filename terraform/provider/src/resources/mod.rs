//! One module per resource type (`quasm_<name>`).

mod alert_rule;
mod api_key;
pub mod function;
mod route;
mod schedule;
mod subscription;
mod webhook;

pub use alert_rule::AlertRuleResource;
pub use api_key::ApiKeyResource;
pub use function::FunctionResource;
pub use route::RouteResource;
pub use schedule::ScheduleResource;
pub use subscription::SubscriptionResource;
pub use webhook::WebhookResource;
