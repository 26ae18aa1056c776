//! Notifications between nodes, on one LISTEN connection per node:
//!
//! - `quasm_changes`: every configuration change runs `NOTIFY
//!   quasm_changes, '<tenant>'` inside its transaction (Postgres delivers it
//!   on commit); each node drops its cached view of that tenant. If the
//!   listening connection breaks, everything cached is dropped, since
//!   notifications may have been missed.
//! - `quasm_schedules`: wakes the cron scheduler ([`crate::triggers::cron`]).
//! - `quasm_events`: wakes the event delivery claimer
//!   ([`crate::triggers::events`]).
//! - `quasm_cancel`: `'<execution id>'` cancels that execution on whichever
//!   node runs it ([`crate::live`]).

use std::sync::Weak;
use std::time::Duration;

use deadpool_postgres::GenericClient;
use futures::StreamExt;
use tokio_postgres::AsyncMessage;

use crate::error::Result;
use crate::Controller;

pub const CHANNEL: &str = "quasm_changes";

pub async fn notify(db: &impl GenericClient, tenant: &str) -> Result<()> {
    db.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &tenant]).await?;
    Ok(())
}

/// Runs until the controller is dropped.
pub(crate) async fn listen(controller: Weak<Controller>, url: String) {
    loop {
        if let Err(e) = listen_once(&controller, &url).await {
            tracing::warn!("change listener: {e}; reconnecting");
        }
        match controller.upgrade() {
            Some(c) => c.cache.clear(),
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
            "LISTEN {CHANNEL}; LISTEN {}; LISTEN {}; LISTEN {}",
            crate::triggers::cron::CHANNEL,
            crate::live::CANCEL_CHANNEL,
            crate::events::CHANNEL
        ))
        .await?;
    // Anything cached before LISTEN took effect may be stale.
    match controller.upgrade() {
        Some(c) => {
            c.cache.clear();
            c.scheduler.wake.notify_one();
            c.event_wake.notify_one();
        }
        None => return Ok(()),
    }
    while let Some(msg) = rx.next().await {
        let msg = msg?;
        let Some(c) = controller.upgrade() else { return Ok(()) };
        if let AsyncMessage::Notification(n) = msg {
            match n.channel() {
                CHANNEL => c.cache.invalidate(n.payload()),
                crate::triggers::cron::CHANNEL => c.scheduler.wake.notify_one(),
                crate::events::CHANNEL => c.event_wake.notify_one(),
                crate::live::CANCEL_CHANNEL => {
                    c.live.cancel_here(n.payload());
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
