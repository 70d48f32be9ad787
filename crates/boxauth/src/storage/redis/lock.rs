//! The refresh lock across hosts: `SET {ns}:lock <owner> NX PX <ttl>` with a random owner;
//! writes through it and its release are Lua scripts that act only for that owner, so a holder
//! that paused past the TTL (a GC pause, a stopped VM) cannot overwrite a newer token or free
//! someone else's lock. Waiters sleep until the identity's channel speaks or the lock's TTL runs
//! out, never in a tight poll.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::RedisStorage;
use super::errors::{answered, failed_at};
use crate::error::{Error, Result, StorageErrorKind};
use crate::future::BoxFuture;
use crate::storage::RefreshLock;
use crate::token::StoredToken;

/// KEYS: lock, token, channel. ARGV: owner, token JSON.
const STORE_IF_OWNER: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('PUBLISH', KEYS[3], 'stored')
  return 1
end
return 0";

/// KEYS: lock, channel. ARGV: owner.
const RELEASE_IF_OWNER: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], 'released')
  return 1
end
return 0";

impl RedisStorage {
    async fn try_acquire(&self, owner: &str) -> Result<bool> {
        let ttl = u64::try_from(self.settings.lock_ttl.as_millis()).unwrap_or(u64::MAX);
        let mut set = redis::cmd("SET");
        set.arg(&self.inner.lock_key)
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(ttl);
        // Sent again on a new connection when the old one dropped (`ride_out`): if the first
        // `SET` had taken the lock before the answer was lost, this one finds the key and the
        // caller waits for a lock it holds until the TTL ends it. A delay in a rare case, never
        // two holders (`SET … NX GET`, which would tell, needs Redis 7).
        let answer: Option<String> = self.query(&set).await?;
        Ok(answer.is_some())
    }

    /// A subscription to the identity's channel, through the first node that takes it.
    async fn subscribe(&self) -> Option<redis::aio::PubSub> {
        let clients = self.inner.topology.pubsub_clients().await.ok()?;
        for client in clients {
            // A node that takes connections but does not answer (a frozen process) is skipped.
            let subscribed = tokio::time::timeout(Duration::from_secs(2), async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&self.inner.channel).await?;
                redis::RedisResult::Ok(pubsub)
            })
            .await;
            if let Ok(Ok(pubsub)) = subscribed {
                return Some(pubsub);
            }
        }
        None
    }

    pub(super) async fn acquire(&self) -> Result<RedisLock> {
        let owner = {
            let mut bytes = [0u8; 16];
            // No lock can be told apart without randomness: fail loudly.
            aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let deadline = Instant::now() + self.settings.lock_timeout;
        let mut subscription: Option<redis::aio::PubSub> = None;
        let mut subscribed_once = false;
        loop {
            if self.try_acquire(&owner).await? {
                return Ok(RedisLock {
                    storage: self.clone(),
                    owner,
                    released: false,
                });
            }
            if !subscribed_once {
                // Subscribe, then try again: a release between the two is not missed. With no
                // node taking the subscription, waiters poll the lock's TTL instead.
                subscribed_once = true;
                subscription = self.subscribe().await;
                continue;
            }
            let mut pttl = redis::cmd("PTTL");
            pttl.arg(&self.inner.lock_key);
            let left: i64 = self.query(&pttl).await?;
            if Instant::now() >= deadline {
                return Err(Error::storage_kind(
                    StorageErrorKind::LockTimeout,
                    format!(
                        "another process has held the refresh lock {} at {} for over {} s",
                        self.inner.lock_key,
                        self.inner.shown,
                        self.settings.lock_timeout.as_secs()
                    ),
                ));
            }
            // Woken by a store or a release; else when the holder's lock runs out.
            let until_expiry = Duration::from_millis(u64::try_from(left.max(1)).unwrap_or(1));
            let wait = until_expiry
                .min(deadline.saturating_duration_since(Instant::now()))
                .min(Duration::from_secs(5));
            let gone = match subscription.as_mut() {
                Some(pubsub) => {
                    let mut messages = pubsub.on_message();
                    matches!(tokio::time::timeout(wait, messages.next()).await, Ok(None))
                }
                None => {
                    tokio::time::sleep(wait.min(Duration::from_millis(100))).await;
                    false
                }
            };
            if gone {
                // The node listened on went away: poll from now on.
                subscription = None;
            }
        }
    }
}

/// The held Redis lock.
pub(super) struct RedisLock {
    storage: RedisStorage,
    owner: String,
    released: bool,
}

impl RefreshLock for RedisLock {
    fn store<'a>(&'a mut self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let json = zeroize::Zeroizing::new(serde_json::to_string(token).map_err(|_| {
                Error::storage_kind(StorageErrorKind::Corrupt, "cannot encode the token")
            })?);
            let storage = &self.storage;
            let inner = &storage.inner;
            let replicas = storage.settings.replicas;
            // One pipeline, so the WAIT runs on the connection (and, in a cluster, the node)
            // that made the write. Tried again through a failover: the script stores only for
            // this owner, so writing twice is writing once.
            let mut pipeline = redis::pipe();
            pipeline
                .cmd("EVAL")
                .arg(STORE_IF_OWNER)
                .arg(3)
                .arg(&inner.lock_key)
                .arg(&inner.token_key)
                .arg(&inner.channel)
                .arg(&self.owner)
                .arg(json.as_str());
            if replicas.count > 0 {
                let timeout = u64::try_from(replicas.timeout.as_millis()).unwrap_or(u64::MAX);
                pipeline.cmd("WAIT").arg(replicas.count).arg(timeout);
            }
            // The write went through and Redis refused the WAIT after it (a service that does
            // not offer WAIT): the token manager keeps the token, which storage now holds.
            let wait_refused = |error: &redis::RedisError| {
                (replicas.count > 0 && answered(error) && failed_at(error) > 0)
                    .then(|| storage.wait_refused(error.clone()))
            };
            let answer: Vec<i64> = storage.query_pipeline(&pipeline, wait_refused).await?;
            if answer.first() != Some(&1) {
                return Err(storage.lock_lost());
            }
            crate::failpoint::reached("redis_storage::stored");
            match answer.get(1) {
                Some(&confirmed) if confirmed < i64::from(replicas.count) => {
                    Err(storage.not_replicated(confirmed))
                }
                _ => Ok(()),
            }
        })
    }

    fn release(mut self: Box<Self>) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            self.released = true;
            let inner = &self.storage.inner;
            let mut release = redis::cmd("EVAL");
            release
                .arg(RELEASE_IF_OWNER)
                .arg(2)
                .arg(&inner.lock_key)
                .arg(&inner.channel)
                .arg(&self.owner);
            let _: i64 = self.storage.query(&release).await?;
            Ok(())
        })
    }
}

impl Drop for RedisLock {
    fn drop(&mut self) {
        if !self.released {
            // Dropped without release (a cancelled task): the lock's TTL frees it.
            tracing::debug!(lock = %self.storage.inner.lock_key, "refresh lock dropped; it expires on its own");
        }
    }
}
