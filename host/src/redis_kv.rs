//! A key-value store on Redis, driven the way Spin 4.0.2's
//! `crates/key-value-redis/src/store.rs` drives it (the same at `v3.6.3`
//! for everything a WASI 0.2 component can reach): keys used as they are,
//! with no prefix; `GET`, `SET`, `DEL`, `EXISTS`; listings by `KEYS *`;
//! `increment` by `INCRBY`; and compare-and-swap on a connection of its
//! own: `current` sends `WATCH <key>` and `GET <key>`, `swap` sends
//! `MULTI`, `SET`, `EXEC` and then `UNWATCH <key>`. Redis refuses that last
//! command (`UNWATCH` takes no argument), so, as under Spin, every swap is
//! reported as `cas-failed`, whether its `SET` was applied or not. The
//! commands are really sent: the refusal comes from the Redis server, not
//! from this file.
//!
//! Spin holds a reconnecting `ConnectionManager`; this host holds one
//! multiplexed connection per store (opened on first use, as Spin opens
//! its manager when a store is first opened) and a fresh one per
//! compare-and-swap.

use anyhow::{Context, Result};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use tokio::sync::OnceCell;

use crate::bindings::fermyon::spin::key_value::Error;

/// Spin's `log_error`: every Redis error becomes `other` with its debug
/// text.
fn other(err: impl std::fmt::Debug) -> Error {
    Error::Other(format!("{err:?}"))
}

/// One label's store on Redis.
pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<MultiplexedConnection>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never print it.
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Checks the URL (Spin: `Invalid Redis URL` at startup); connects
    /// later.
    pub fn new(url: &str) -> Result<Self> {
        let client = redis::Client::open(url).context("Invalid Redis URL")?;
        Ok(Self {
            client,
            connection: OnceCell::new(),
        })
    }

    /// The shared connection, opened on first use.
    pub async fn connect(&self) -> Result<MultiplexedConnection, Error> {
        self.connection
            .get_or_try_init(|| self.client.get_multiplexed_async_connection())
            .await
            .cloned()
            .map_err(other)
    }

    /// `GET`.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.connect().await?.get(key).await.map_err(other)
    }

    /// `SET`.
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.connect().await?.set(key, value).await.map_err(other)
    }

    /// `DEL`.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        self.connect().await?.del(key).await.map_err(other)
    }

    /// `EXISTS`.
    pub async fn exists(&self, key: &str) -> Result<bool, Error> {
        self.connect().await?.exists(key).await.map_err(other)
    }

    /// `KEYS *`: every key of the database.
    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        self.connect().await?.keys("*").await.map_err(other)
    }

    /// `INCRBY` (the value is stored as decimal text, as Redis keeps
    /// counters).
    pub async fn increment(&self, key: &str, delta: i64) -> Result<i64, Error> {
        self.connect().await?.incr(key, delta).await.map_err(other)
    }

    /// A compare-and-swap on a connection of its own: a `WATCH` belongs to
    /// the connection that sent it.
    pub async fn new_cas(&self) -> Result<RedisCas, Error> {
        let connection = self
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(other)?;
        Ok(RedisCas { connection })
    }
}

/// The connection of one compare-and-swap.
pub struct RedisCas {
    connection: MultiplexedConnection,
}

impl std::fmt::Debug for RedisCas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCas").finish_non_exhaustive()
    }
}

impl RedisCas {
    /// `WATCH <key>`, then `GET <key>`.
    pub async fn current(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        redis::cmd("WATCH")
            .arg(key)
            .exec_async(&mut self.connection)
            .await
            .map_err(other)?;
        self.connection.get(key).await.map_err(other)
    }

    /// `MULTI`/`SET`/`EXEC`, then `UNWATCH <key>`; `Ok(false)` is Spin's
    /// `cas-failed`. Under Spin the transaction's own result is looked at
    /// only after the `UNWATCH`, whose refusal ends the swap first.
    pub async fn swap(&mut self, key: &str, value: &[u8]) -> Result<bool, Error> {
        let transaction: redis::RedisResult<()> = redis::pipe()
            .atomic()
            .set(key, value)
            .query_async(&mut self.connection)
            .await;
        if redis::cmd("UNWATCH")
            .arg(key)
            .exec_async(&mut self.connection)
            .await
            .is_err()
        {
            return Ok(false);
        }
        Ok(transaction.is_ok())
    }
}
