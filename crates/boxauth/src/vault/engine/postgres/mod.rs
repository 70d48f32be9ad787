//! Identities in PostgreSQL (feature `postgres`): tokio-postgres over rustls, a few connections
//! opened on first use and again after they fail (each runs statements concurrently, pipelined),
//! one statement per operation ([`schema`] has them all). No connection is held while Box
//! answers a refresh.
//!
//! With [`PostgresOptions::remote_apply`], every connection runs with
//! `synchronous_commit = remote_apply`: a write returns once a synchronous standby has applied
//! it, so a standby promoted right after a refresh has the new token (the primary needs
//! `synchronous_standby_names`). A write that does not return in time (the standby is gone) is
//! one whose fate is unknown: the token manager serves the token from memory and writes it again
//! (`[unconfirmed-write]`), and the write is idempotent.

mod connection;
mod schema;

use std::sync::atomic::Ordering;
use std::time::Duration;

pub(crate) use connection::PostgresEngine;
pub use connection::PostgresOptions;

use super::{
    Engine, Lease, Millis, ReauthReason, Release, Row, State, Summary, Tokens, VaultCounts,
};
use crate::error::{Result, VaultError, VaultErrorKind};
use crate::future::BoxFuture;
use connection::limit;

impl Engine for PostgresEngine {
    fn init(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.statements.fetch_add(1, Ordering::Relaxed);
            let client = self.client().await?;
            client
                .batch_execute(schema::CREATE)
                .await
                .map_err(|e| self.failed(e))?;
            let rows = self.query(schema::VERSION_NOW, &[]).await?;
            let version: i32 = rows
                .first()
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(|e| self.corrupt(e))?
                .unwrap_or(0);
            if version > schema::VERSION {
                return Err(VaultError::new(
                    VaultErrorKind::SchemaTooNew,
                    format!(
                        "the vault's schema in {} is version {version}; this boxauth knows up to {}: upgrade boxauth",
                        self.shown,
                        schema::VERSION
                    ),
                )
                .into());
            }
            Ok(())
        })
    }

    fn load<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<Option<Row>>> {
        Box::pin(async move {
            let rows = self.query(schema::LOAD, &[&user_key]).await?;
            rows.first().map(|r| self.row(r, 0)).transpose()
        })
    }

    fn put<'a>(
        &'a self,
        user_key: &'a str,
        tokens: Tokens,
        now: Millis,
    ) -> BoxFuture<'a, Result<i64>> {
        Box::pin(async move {
            let rows = self
                .query(
                    schema::PUT,
                    &[
                        &user_key,
                        &tokens.sealed,
                        &tokens.refreshed_at,
                        &tokens.access_expires_at,
                        &tokens.next_keepalive_at,
                        &now,
                    ],
                )
                .await?;
            rows.first()
                .ok_or_else(|| self.corrupt("no generation came back"))?
                .try_get(0)
                .map_err(|e| self.corrupt(e))
        })
    }

    fn lease<'a>(
        &'a self,
        user_key: &'a str,
        owner: &'a str,
        now: Millis,
        until: Millis,
    ) -> BoxFuture<'a, Result<Lease>> {
        Box::pin(async move {
            let rows = self
                .query(schema::LEASE, &[&user_key, &owner, &now, &until])
                .await?;
            let Some(found) = rows.first() else {
                return Ok(Lease::Missing);
            };
            let get = |e| self.corrupt(e);
            let taken: bool = found.try_get(0).map_err(get)?;
            let was_spending: bool = found.try_get(1).map_err(get)?;
            let held_until: Option<i64> = found.try_get(2).map_err(get)?;
            if !taken {
                return Ok(Lease::Held {
                    until: held_until.unwrap_or(now),
                });
            }
            Ok(Lease::Taken {
                row: self.row(found, 3)?,
                inherited_spend: was_spending,
            })
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
        Box::pin(async move {
            let rows = self
                .query(
                    schema::WRITE,
                    &[
                        &user_key,
                        &generation,
                        &owner,
                        &tokens.sealed,
                        &tokens.refreshed_at,
                        &tokens.access_expires_at,
                        &tokens.next_keepalive_at,
                        &now,
                    ],
                )
                .await?;
            rows.first()
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(|e| self.corrupt(e))
        })
    }

    fn release<'a>(
        &'a self,
        user_key: &'a str,
        owner: &'a str,
        release: Release,
        now: Millis,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            match release {
                Release::NotSpent => {
                    self.execute(schema::RELEASE_NOT_SPENT, &[&user_key, &owner])
                        .await?;
                    Ok(false)
                }
                Release::Unknown => {
                    self.execute(schema::RELEASE_UNKNOWN, &[&user_key, &owner])
                        .await?;
                    Ok(false)
                }
                Release::Refused { generation, reason } => {
                    let rows = self
                        .query(
                            schema::RELEASE_REFUSED,
                            &[&user_key, &owner, &generation, &reason.as_str(), &now],
                        )
                        .await?;
                    rows.first()
                        .map(|r| r.try_get(0))
                        .transpose()
                        .map(|marked| marked.unwrap_or(false))
                        .map_err(|e| self.corrupt(e))
                }
            }
        })
    }

    fn begin_disconnect<'a>(
        &'a self,
        user_key: &'a str,
        now: Millis,
    ) -> BoxFuture<'a, Result<Option<Row>>> {
        Box::pin(async move {
            let rows = self
                .query(schema::BEGIN_DISCONNECT, &[&user_key, &now])
                .await?;
            rows.first().map(|r| self.row(r, 0)).transpose()
        })
    }

    fn delete<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.execute(schema::DELETE, &[&user_key]).await?;
            Ok(())
        })
    }

    fn list<'a>(
        &'a self,
        needs_reauth: bool,
        after: Option<&'a str>,
        count: u32,
    ) -> BoxFuture<'a, Result<Vec<Summary>>> {
        Box::pin(async move {
            let rows = self
                .query(schema::LIST, &[&after, &needs_reauth, &limit(count)])
                .await?;
            rows.iter()
                .map(|r| {
                    let get = |e| self.corrupt(e);
                    let state: String = r.try_get(1).map_err(get)?;
                    let reason: Option<String> = r.try_get(2).map_err(get)?;
                    Ok(Summary {
                        user_key: r.try_get(0).map_err(get)?,
                        state: State::parse(&state)
                            .ok_or_else(|| self.corrupt(format!("state {state:?}")))?,
                        reason: reason.as_deref().and_then(ReauthReason::parse),
                        refreshed_at: r.try_get(3).map_err(get)?,
                        access_expires_at: r.try_get(4).map_err(get)?,
                        updated_at: r.try_get(5).map_err(get)?,
                    })
                })
                .collect()
        })
    }

    fn claim_due(
        &self,
        now: Millis,
        claim_until: Millis,
        count: u32,
    ) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            let rows = self
                .query(schema::CLAIM_DUE, &[&now, &claim_until, &limit(count)])
                .await?;
            rows.iter()
                .map(|r| r.try_get(0).map_err(|e| self.corrupt(e)))
                .collect()
        })
    }

    fn counts(&self, now: Millis) -> BoxFuture<'_, Result<VaultCounts>> {
        Box::pin(async move {
            let rows = self.query(schema::COUNTS, &[&now]).await?;
            let mut counts = VaultCounts::default();
            let mut oldest_due: Option<i64> = None;
            for row in rows {
                let get = |e| self.corrupt(e);
                let state: String = row.try_get(0).map_err(get)?;
                let reason: Option<String> = row.try_get(1).map_err(get)?;
                let n = u64::try_from(row.try_get::<_, i64>(2).map_err(get)?).unwrap_or(0);
                let due = u64::try_from(row.try_get::<_, i64>(3).map_err(get)?).unwrap_or(0);
                let oldest: Option<i64> = row.try_get(4).map_err(get)?;
                match State::parse(&state) {
                    Some(State::Active) => {
                        counts.active += n;
                        counts.keepalive_due += due;
                        oldest_due = match (oldest_due, oldest) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                    Some(State::NeedsReauth) => counts.needs_reauth.push((
                        reason
                            .as_deref()
                            .and_then(ReauthReason::parse)
                            .unwrap_or(ReauthReason::RefusedByBox),
                        n,
                    )),
                    Some(State::Disconnecting) => counts.disconnecting += n,
                    None => return Err(self.corrupt(format!("state {state:?}"))),
                }
            }
            counts
                .needs_reauth
                .sort_by_key(|(reason, _)| reason.as_str());
            counts.keepalive_lag = oldest_due.map_or(Duration::ZERO, |due| {
                Duration::from_millis(u64::try_from(now - due).unwrap_or(0))
            });
            Ok(counts)
        })
    }

    fn sealed_with_other_keys<'a>(
        &'a self,
        key_id: &'a str,
        after: Option<&'a str>,
        count: u32,
    ) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(async move {
            let rows = self
                .query(
                    schema::SEALED_WITH_OTHER_KEYS,
                    &[&key_id, &after, &limit(count)],
                )
                .await?;
            rows.iter().map(|r| self.row(r, 0)).collect()
        })
    }

    fn reseal<'a>(
        &'a self,
        user_key: &'a str,
        generation: i64,
        sealed: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let changed = self
                .execute(schema::RESEAL, &[&user_key, &generation, &sealed])
                .await?;
            Ok(changed == 1)
        })
    }

    fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}
