//! Identities in this process's memory: the same rules as the PostgreSQL engine (leases, the
//! spend marker, generation fences), for tests, demos and an app with one process. Nothing
//! survives the process.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{
    Engine, Lease, Millis, ReauthReason, Release, Row, State, Summary, Tokens, VaultCounts,
};
use crate::error::Result;
use crate::future::BoxFuture;
use crate::vault::seal::KeySet;

/// A row with its lease.
struct Entry {
    row: Row,
    lease: Option<(String, Millis)>,
    spending: bool,
    /// The lease owner whose write made the current generation.
    writer: Option<String>,
}

/// The in-memory engine.
#[derive(Default)]
pub(crate) struct MemoryEngine {
    rows: Mutex<BTreeMap<String, Entry>>,
    statements: AtomicU64,
}

impl std::fmt::Debug for MemoryEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryEngine")
            .field("identities", &self.lock().len())
            .finish()
    }
}

impl MemoryEngine {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn run<T: Send + 'static>(
        &self,
        statement: impl FnOnce(&mut BTreeMap<String, Entry>) -> T,
    ) -> BoxFuture<'static, Result<T>> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        let value = statement(&mut self.lock());
        Box::pin(async move { Ok(value) })
    }
}

fn summary(row: &Row) -> Summary {
    Summary {
        user_key: row.user_key.clone(),
        state: row.state,
        reason: row.reason,
        refreshed_at: row.refreshed_at,
        access_expires_at: row.access_expires_at,
        updated_at: row.updated_at,
    }
}

impl Engine for MemoryEngine {
    fn init(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn load<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<Option<Row>>> {
        self.run(|rows| rows.get(user_key).map(|e| e.row.clone()))
    }

    fn put<'a>(
        &'a self,
        user_key: &'a str,
        tokens: Tokens,
        now: Millis,
    ) -> BoxFuture<'a, Result<i64>> {
        self.run(|rows| {
            let generation = rows.get(user_key).map_or(1, |e| e.row.generation + 1);
            rows.insert(
                user_key.to_owned(),
                Entry {
                    row: Row {
                        user_key: user_key.to_owned(),
                        generation,
                        sealed: tokens.sealed,
                        state: State::Active,
                        reason: None,
                        refreshed_at: tokens.refreshed_at,
                        access_expires_at: tokens.access_expires_at,
                        next_keepalive_at: tokens.next_keepalive_at,
                        updated_at: now,
                    },
                    lease: None,
                    spending: false,
                    writer: None,
                },
            );
            generation
        })
    }

    fn lease<'a>(
        &'a self,
        user_key: &'a str,
        owner: &'a str,
        now: Millis,
        until: Millis,
    ) -> BoxFuture<'a, Result<Lease>> {
        self.run(|rows| {
            let Some(entry) = rows.get_mut(user_key) else {
                return Lease::Missing;
            };
            if let Some((_, held_until)) = &entry.lease
                && *held_until > now
            {
                return Lease::Held { until: *held_until };
            }
            let inherited_spend = entry.spending;
            entry.lease = Some((owner.to_owned(), until));
            entry.spending = true;
            Lease::Taken {
                row: entry.row.clone(),
                inherited_spend,
            }
        })
    }

    fn write<'a>(
        &'a self,
        user_key: &'a str,
        generation: i64,
        owner: &'a str,
        tokens: Tokens,
        now: Millis,
    ) -> BoxFuture<'a, Result<Option<i64>>> {
        self.run(|rows| {
            let entry = rows.get_mut(user_key)?;
            // The same write again (its first answer was lost): it is there already.
            if entry.row.generation == generation + 1 && entry.writer.as_deref() == Some(owner) {
                return Some(entry.row.generation);
            }
            if entry.row.generation != generation {
                return None;
            }
            entry.writer = Some(owner.to_owned());
            let row = &mut entry.row;
            row.generation += 1;
            row.sealed = tokens.sealed;
            row.state = State::Active;
            row.reason = None;
            row.refreshed_at = tokens.refreshed_at;
            row.access_expires_at = tokens.access_expires_at;
            row.next_keepalive_at = tokens.next_keepalive_at;
            row.updated_at = now;
            if entry.lease.as_ref().is_some_and(|(o, _)| o == owner) {
                entry.lease = None;
                entry.spending = false;
            }
            Some(entry.row.generation)
        })
    }

    fn release<'a>(
        &'a self,
        user_key: &'a str,
        owner: &'a str,
        release: Release,
        now: Millis,
    ) -> BoxFuture<'a, Result<bool>> {
        self.run(|rows| {
            let Some(entry) = rows.get_mut(user_key) else {
                return false;
            };
            if entry.lease.as_ref().is_none_or(|(o, _)| o != owner) {
                return false;
            }
            entry.lease = None;
            match release {
                Release::NotSpent => {
                    entry.spending = false;
                    false
                }
                Release::Unknown => false,
                Release::Refused { generation, reason } => {
                    entry.spending = false;
                    let row = &mut entry.row;
                    if row.generation != generation || row.state != State::Active {
                        return false;
                    }
                    row.generation += 1;
                    row.state = State::NeedsReauth;
                    row.reason = Some(reason);
                    row.updated_at = now;
                    true
                }
            }
        })
    }

    fn begin_disconnect<'a>(
        &'a self,
        user_key: &'a str,
        now: Millis,
    ) -> BoxFuture<'a, Result<Option<Row>>> {
        self.run(|rows| {
            let entry = rows.get_mut(user_key)?;
            let before = entry.row.clone();
            entry.row.generation += 1;
            entry.row.state = State::Disconnecting;
            entry.row.updated_at = now;
            Some(before)
        })
    }

    fn delete<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<()>> {
        self.run(|rows| {
            rows.remove(user_key);
        })
    }

    fn list<'a>(
        &'a self,
        needs_reauth: bool,
        after: Option<&'a str>,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<Summary>>> {
        self.run(|rows| {
            let start = match after {
                Some(after) => std::ops::Bound::Excluded(after.to_owned()),
                None => std::ops::Bound::Unbounded,
            };
            rows.range((start, std::ops::Bound::Unbounded))
                .map(|(_, e)| &e.row)
                .filter(|row| !needs_reauth || row.state == State::NeedsReauth)
                .take(limit as usize)
                .map(summary)
                .collect()
        })
    }

    fn claim_due(
        &self,
        now: Millis,
        claim_until: Millis,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<String>>> {
        self.run(|rows| {
            let mut due: Vec<(Millis, String)> = rows
                .values()
                .filter(|e| e.row.state == State::Active && e.row.next_keepalive_at <= now)
                .map(|e| (e.row.next_keepalive_at, e.row.user_key.clone()))
                .collect();
            due.sort();
            due.truncate(limit as usize);
            for (_, key) in &due {
                if let Some(entry) = rows.get_mut(key) {
                    entry.row.next_keepalive_at = claim_until;
                }
            }
            due.into_iter().map(|(_, key)| key).collect()
        })
    }

    fn counts(&self, now: Millis) -> BoxFuture<'_, Result<VaultCounts>> {
        self.run(|rows| {
            let mut counts = VaultCounts::default();
            let mut reasons: BTreeMap<&'static str, (ReauthReason, u64)> = BTreeMap::new();
            let mut oldest_due: Option<Millis> = None;
            for entry in rows.values() {
                let row = &entry.row;
                match row.state {
                    State::Active => {
                        counts.active += 1;
                        if row.next_keepalive_at <= now {
                            counts.keepalive_due += 1;
                            oldest_due =
                                Some(oldest_due.map_or(row.next_keepalive_at, |o| {
                                    o.min(row.next_keepalive_at)
                                }));
                        }
                    }
                    State::NeedsReauth => {
                        let reason = row.reason.unwrap_or(ReauthReason::RefusedByBox);
                        reasons.entry(reason.as_str()).or_insert((reason, 0)).1 += 1;
                    }
                    State::Disconnecting => counts.disconnecting += 1,
                }
            }
            counts.needs_reauth = reasons.into_values().collect();
            counts.keepalive_lag = oldest_due.map_or(Duration::ZERO, |due| {
                Duration::from_millis(u64::try_from(now - due).unwrap_or(0))
            });
            counts
        })
    }

    fn sealed_with_other_keys<'a>(
        &'a self,
        key_id: &'a str,
        after: Option<&'a str>,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<Row>>> {
        self.run(|rows| {
            rows.values()
                .map(|e| &e.row)
                .filter(|row| after.is_none_or(|after| row.user_key.as_str() > after))
                .filter(|row| KeySet::sealed_with(&row.sealed) != Some(key_id))
                .take(limit as usize)
                .cloned()
                .collect()
        })
    }

    fn reseal<'a>(
        &'a self,
        user_key: &'a str,
        generation: i64,
        sealed: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool>> {
        self.run(|rows| match rows.get_mut(user_key) {
            Some(entry) if entry.row.generation == generation => {
                entry.row.sealed = sealed;
                true
            }
            _ => false,
        })
    }

    fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}
