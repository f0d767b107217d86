//! Who is told that something was written: every committed transaction moves a counter that
//! open streams (a user's live Logs) wait on, then read what is new from the database. On
//! PostgreSQL each audit event also sends `pg_notify` in its own transaction, and one listener
//! per node moves the counter when any node commits one; on SQLite (one node) the commits of
//! this process are all there is.

use std::sync::{Arc, Once};

use tokio::sync::watch;

/// The channel audit events are announced on (PostgreSQL).
pub(crate) const CHANNEL: &str = "roster_events";

#[derive(Clone, Debug)]
pub struct Changes {
    tx: Arc<watch::Sender<u64>>,
    listening: Arc<Once>,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            tx: Arc::new(watch::channel(0).0),
            listening: Arc::new(Once::new()),
        }
    }
}

impl Changes {
    /// Something was committed.
    pub(crate) fn bump(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn receiver(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// Starts, once, a task that moves the counter for every notification other nodes send
    /// (PostgreSQL). It reconnects after a lost connection, and bumps then too, since a
    /// notification may have been missed meanwhile.
    pub(crate) fn listen(&self, pool: &sqlx::PgPool) {
        let (pool, me) = (pool.clone(), self.clone());
        self.listening.call_once(move || {
            tokio::spawn(async move {
                loop {
                    match sqlx::postgres::PgListener::connect_with(&pool).await {
                        Ok(mut listener) => {
                            if let Err(e) = listener.listen(CHANNEL).await {
                                tracing::warn!(error = %e, "cannot listen for events");
                            } else {
                                loop {
                                    match listener.recv().await {
                                        Ok(_) => me.bump(),
                                        Err(e) => {
                                            tracing::warn!(error = %e, "event listener lost");
                                            break;
                                        }
                                    }
                                }
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "event listener cannot connect"),
                    }
                    me.bump();
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            });
        });
    }
}
