//! Notifications between nodes, on one LISTEN connection per node:
//!
//! - `quasm_changes`: every configuration change runs `NOTIFY
//!   quasm_changes, '<tenant>'` inside its transaction (Postgres delivers it
//!   on commit); each node drops its cached view of that tenant. If the
//!   listening connection breaks, everything cached is dropped, since
//!   notifications may have been missed.
//! - `quasm_schedules`: wakes the cron scheduler ([`crate::schedules::scheduler`]).
//! - `quasm_events`: wakes the event delivery claimer
//!   ([`crate::events::delivery`]) and the webhook delivery claimer
//!   ([`crate::webhooks`]).
//! - `quasm_cancel`: `'<execution id>'` cancels that execution on whichever
//!   node runs it ([`crate::live`]).

use std::sync::Weak;
use std::time::Duration;

use deadpool_postgres::GenericClient;
use futures::StreamExt;
use tokio_postgres::AsyncMessage;

use crate::error::Result;
use crate::Controller;

/// The channels every node LISTENs on. They live here, with the one
/// listener, so the modules that send on them need not know each other.
pub(crate) mod channel {
    /// A tenant's configuration changed; payload: the tenant.
    pub const CONFIG: &str = "quasm_changes";
    /// A schedule changed, or a run of a queueing schedule ended.
    pub const SCHEDULES: &str = "quasm_schedules";
    /// Event or webhook deliveries became ready; payload: the tenant.
    pub const EVENTS: &str = "quasm_events";
    /// Payload: an execution id to cancel on whichever node runs it.
    pub const CANCEL: &str = "quasm_cancel";
}

/// Sends `payload` on `channel` (delivered when `db`'s transaction commits).
pub(crate) async fn notify(db: &impl GenericClient, channel: &str, payload: &str) -> Result<()> {
    db.execute("SELECT pg_notify($1, $2)", &[&channel, &payload]).await?;
    Ok(())
}

/// Runs until the controller is dropped.
pub(crate) async fn listen(controller: Weak<Controller>, url: String) {
    loop {
        if let Err(e) = listen_once(&controller, &url).await {
            tracing::warn!("change listener: {e}; reconnecting");
        }
        match controller.upgrade() {
            Some(c) => c.core.cache.clear(),
            None => return,
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn listen_once(controller: &Weak<Controller>, url: &str) -> std::result::Result<(), tokio_postgres::Error> {
    let (client, mut conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let (tx, mut rx) = futures::channel::mpsc::unbounded();
    // The connection must be polled for the client to work; messages it
    // yields (our notifications) are handed over through the channel.
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(m) = messages.next().await {
            if tx.unbounded_send(m).is_err() {
                break;
            }
        }
    });
    let _stop_driver = AbortOnDrop(driver);
    client
        .batch_execute(&format!(
            "LISTEN {}; LISTEN {}; LISTEN {}; LISTEN {}",
            channel::CONFIG,
            channel::SCHEDULES,
            channel::CANCEL,
            channel::EVENTS
        ))
        .await?;
    // Anything cached before LISTEN took effect may be stale.
    match controller.upgrade() {
        Some(c) => {
            c.core.cache.clear();
            c.schedules.scheduler.wake.notify_one();
            c.events.wake.notify_one();
            c.webhooks.wake.notify_one();
        }
        None => return Ok(()),
    }
    while let Some(msg) = rx.next().await {
        let msg = msg?;
        let Some(c) = controller.upgrade() else { return Ok(()) };
        if let AsyncMessage::Notification(n) = msg {
            match n.channel() {
                channel::CONFIG => c.core.cache.invalidate(n.payload()),
                channel::SCHEDULES => c.schedules.scheduler.wake.notify_one(),
                channel::EVENTS => {
                    c.events.wake.notify_one();
                    c.webhooks.wake.notify_one();
                }
                channel::CANCEL => {
                    c.executions.live.cancel_here(n.payload());
                }
                _ => {}
            }
        }
    }
    Ok(())
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
