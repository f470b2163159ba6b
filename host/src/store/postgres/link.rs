//! One connection to PostgreSQL that comes back by itself.
//!
//! A [`Link`] holds the current connection, or none while PostgreSQL is
//! unreachable: callers then get [`Error::Unavailable`] at once (a webhook
//! answers 503 with `Retry-After`, `/readyz` says not ready) instead of
//! waiting on a dead socket. [`keep_connected`] reconnects in the
//! background and, on the reader's link, listens for other hosts' commits.

use crate::store::error::Error;
use arc_swap::ArcSwapOption;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, Client, Statement};

/// Every host's writer sends this after each commit; every host listens.
pub(super) const CHANGES_CHANNEL: &str = "inbound_changes";
/// Between two attempts to reconnect.
const RECONNECT_EVERY: Duration = Duration::from_millis(250);

/// A connected client and the statements prepared on it (a statement is
/// prepared once per connection, not once per query: half the round trips).
pub(super) struct Connection {
    pub client: Client,
    statements: Mutex<HashMap<&'static str, Statement>>,
    /// Writes sent and not yet awaited: the writer pipelines a change
    /// set's writes and awaits them together (`writer::flush`).
    pub sent: Mutex<Vec<SentWrite>>,
}

/// A statement already on its way to the server; awaiting it gives its result.
pub(super) type SentWrite =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, tokio_postgres::Error>> + Send>>;

impl Connection {
    /// `sql`, prepared on this connection the first time it is asked for.
    pub async fn statement(&self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.lock().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await?;
        self.lock().insert(sql, statement.clone());
        Ok(statement)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Statement>> {
        self.statements.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(super) struct Link {
    /// What the link is for, in log lines: `reader` or `writer`.
    role: &'static str,
    current: ArcSwapOption<Connection>,
}

impl Link {
    pub fn new(role: &'static str) -> Link {
        Link { role, current: ArcSwapOption::empty() }
    }

    /// The connection, unless PostgreSQL is unreachable right now.
    pub fn get(&self) -> Result<Arc<Connection>, Error> {
        match self.current.load_full() {
            Some(connection) if !connection.client.is_closed() => Ok(connection),
            _ => Err(Error::Unavailable("PostgreSQL is unreachable; reconnecting".to_string())),
        }
    }

    pub fn is_connected(&self) -> bool {
        self.get().is_ok()
    }
}

/// What a link does with each connection it makes.
pub(super) struct OnConnect {
    /// LISTEN for [`CHANGES_CHANNEL`], and call `changed` for each notice
    /// (and once after each connect: notices sent while disconnected are lost).
    pub listen: bool,
    pub changed: Arc<dyn Fn() + Send + Sync>,
}

/// Connects `link` and keeps it connected until `stop` turns true.
pub(super) async fn keep_connected(
    link: Arc<Link>,
    target: super::tls::Target,
    on_connect: OnConnect,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // Set once a connection was lost or refused: the next success says so.
    let mut down = false;
    while !*stop.borrow() {
        match connect_once(&link, &target, &on_connect).await {
            Ok(driver) => {
                if down {
                    tracing::info!(link = link.role, "reconnected to PostgreSQL");
                }
                tokio::select! {
                    _ = driver => {}
                    _ = stop.changed() => break,
                }
                link.current.store(None);
                tracing::error!(
                    link = link.role,
                    "lost the connection to PostgreSQL; answering 503 until it is back"
                );
                down = true;
            }
            Err(error) => {
                // Once per outage, not every 250 ms.
                if !down {
                    tracing::error!(link = link.role, "cannot connect to PostgreSQL: {error}");
                }
                down = true;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RECONNECT_EVERY) => {}
            _ = stop.changed() => break,
        }
    }
    link.current.store(None);
}

/// One connection: stored in `link` once ready; the returned task ends
/// when the connection does.
async fn connect_once(
    link: &Link,
    target: &super::tls::Target,
    on_connect: &OnConnect,
) -> Result<tokio::task::JoinHandle<()>, tokio_postgres::Error> {
    let (client, mut connection) = target.connect().await?;
    let changed = on_connect.changed.clone();
    // The connection does its I/O only while polled; notices arrive there.
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(_)) => changed(),
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!("PostgreSQL connection error: {error}");
                    break;
                }
            }
        }
    });
    if on_connect.listen {
        client.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}")).await?;
        (on_connect.changed)();
    }
    let connection = Connection { client, statements: Mutex::default(), sent: Mutex::default() };
    link.current.store(Some(Arc::new(connection)));
    Ok(driver)
}
