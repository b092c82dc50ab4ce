//! A socketioxide-redis driver on a connection that reconnects and resubscribes by itself.
//!
//! socketioxide-redis' own driver holds one multiplexed connection: after Redis restarts,
//! that connection is dead and the node silently stops hearing the others. This one holds
//! redis' `ConnectionManager` over RESP3. When the connection drops it reconnects at once
//! (with backoff), subscribes again to every channel it was subscribed to, and goes on
//! routing the messages to the adapter's streams. What is published while the
//! connection is down is lost: pub/sub is at most once, so the chat must notice gaps by
//! message id and fetch them from the database.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

/// How long a command (or a connection attempt) may take before it fails.
const TIMEOUT: Duration = Duration::from_secs(2);
/// The longest wait between two reconnection attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(1);

/// The adapter's streams, by channel.
type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// The driver: cheap to clone; clones share the connection and the subscriptions.
#[derive(Clone)]
pub struct ReconnectingDriver {
    conn: ConnectionManager,
    handlers: Handlers,
}

impl std::fmt::Debug for ReconnectingDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectingDriver").finish_non_exhaustive()
    }
}

/// An error from Redis.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct DriverError(#[from] redis::RedisError);

impl ReconnectingDriver {
    /// Connects to the Redis server at `url` (`redis://HOST:PORT/DB`; RESP3 is used
    /// whatever the URL says, since pub/sub messages arrive as RESP3 pushes).
    pub async fn connect(url: &str) -> Result<Self, DriverError> {
        let info = url.into_connection_info()?;
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(settings))?;
        let handlers: Handlers = Arc::default();
        let (pushes, received) = mpsc::unbounded_channel();
        tokio::spawn(route_pushes(received, handlers.clone()));
        let config = ConnectionManagerConfig::new()
            .set_push_sender(pushes)
            .set_automatic_resubscription()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_max_delay(MAX_RETRY_DELAY);
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self { conn, handlers })
    }

    /// Whether Redis answers now. A failed ping also starts a reconnection.
    pub async fn ping(&self) -> Result<(), DriverError> {
        let _: String = redis::cmd("PING")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    fn handlers(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, mpsc::Sender<ChanItem>>> {
        self.handlers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Hands each pub/sub message to the stream of its channel.
async fn route_pushes(mut pushes: mpsc::UnboundedReceiver<PushInfo>, handlers: Handlers) {
    while let Some(push) = pushes.recv().await {
        match push.kind {
            PushKind::Message => {
                let mut data = push.data.into_iter();
                let (Some(channel), Some(message)) = (data.next(), data.next()) else {
                    tracing::warn!("a pub/sub message without channel or payload");
                    continue;
                };
                let parsed = redis::from_redis_value::<String>(channel).and_then(|channel| {
                    Ok((channel, redis::from_redis_value::<Vec<u8>>(message)?))
                });
                let (channel, message) = match parsed {
                    Ok(parsed) => parsed,
                    Err(error) => {
                        tracing::warn!(%error, "an unreadable pub/sub message");
                        continue;
                    }
                };
                let sender = handlers
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&channel)
                    .cloned();
                match sender {
                    Some(sender) => {
                        if let Err(error) = sender.try_send((channel, message)) {
                            tracing::warn!(%error, "a Redis adapter stream is full: message dropped");
                        }
                    }
                    None => tracing::debug!(channel, "a message for a channel nobody reads"),
                }
            }
            PushKind::Disconnection => {
                tracing::warn!("lost the connection to Redis; reconnecting");
            }
            PushKind::Subscribe => tracing::debug!("subscribed to a Redis channel"),
            _ => {}
        }
    }
}

impl Driver for ReconnectingDriver {
    type Error = DriverError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        self.conn
            .clone()
            .publish::<_, _, redis::Value>(chan, val)
            .await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let (tx, rx) = mpsc::channel(size);
        // Registered first: a message right after the subscription has somewhere to go.
        self.handlers().insert(chan.clone(), tx);
        if let Err(error) = self.conn.clone().subscribe(chan.as_str()).await {
            self.handlers().remove(&chan);
            return Err(error.into());
        }
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers().remove(&chan);
        self.conn.clone().unsubscribe(chan).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(count)
    }
}
