//! Triggers: everything that starts a function besides a direct call. Each
//! trigger is one module that ends in the one invoke path,
//! [`Controller::invoke`](crate::Controller::invoke):
//!
//! - HTTP routes: `gateway/src/public.rs` matches a route
//!   ([`crate::routes`]) and invokes the function's `fetch` handler.
//! - [`cron`]: schedule slots ([`crate::schedules`]) run the `scheduled`
//!   handler.
//! - Events: [`events`] delivers published events to subscribed
//!   functions' `event` handlers, at least once.
//!
//! Triggers that claim work through Postgres (so each slot or delivery runs
//! once across nodes) record the claiming node ([`crate::nodes`]); work of a
//! dead node is taken over by the others.

pub mod cron;
pub(crate) mod events;

use std::sync::Arc;

use crate::Controller;

/// Starts the background loops of every trigger.
pub(crate) fn start(controller: &Arc<Controller>) {
    tokio::spawn(cron::run(Arc::downgrade(controller)));
    events::start(controller);
}
