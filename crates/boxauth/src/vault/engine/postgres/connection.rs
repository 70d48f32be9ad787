//! How the vault reaches PostgreSQL: the options, TLS over rustls (the system's roots and any
//! given), a few connections opened on first use and again after they fail, and a statement's
//! failure as boxauth's error (the database answered, or it did not).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Row as PgRow};

use super::super::{ReauthReason, Row, State};
use crate::error::{Error, Result, StorageError, StorageErrorKind, VaultError, VaultErrorKind};

/// How the vault reaches PostgreSQL.
#[derive(Clone)]
pub struct PostgresOptions {
    url: String,
    pool: usize,
    remote_apply: bool,
    roots: Vec<Vec<u8>>,
    statement_timeout: Duration,
}

impl fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &crate::internal::mask::url_password(&self.url))
            .field("pool", &self.pool)
            .field("remote_apply", &self.remote_apply)
            .field("extra_roots", &self.roots.len())
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

impl PostgresOptions {
    /// The database at `url` (`postgres://user:password@host:port/db`; `?sslmode=require` for
    /// TLS, checked against the system's roots and any given with
    /// [`root_certificates`](Self::root_certificates)).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool: 4,
            remote_apply: false,
            roots: Vec::new(),
            statement_timeout: Duration::from_secs(30),
        }
    }

    /// Connections at most (default 4; each runs many statements at once).
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.pool = connections.max(1);
        self
    }

    /// Commits wait until a synchronous standby has applied them (`synchronous_commit =
    /// remote_apply`; default off).
    pub fn remote_apply(mut self, on: bool) -> Self {
        self.remote_apply = on;
        self
    }

    /// Trusts these CA certificates (PEM) for TLS, as well as the system's.
    pub fn root_certificates(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.roots.push(pem.as_ref().to_vec());
        self
    }

    /// The longest a statement may take before its outcome counts as unknown (default 30 s).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }
}

/// The PostgreSQL engine.
pub(crate) struct PostgresEngine {
    config: Config,
    pub(super) shown: String,
    options: PostgresOptions,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    slots: Vec<Mutex<Option<Arc<Client>>>>,
    next: AtomicUsize,
    pub(super) statements: AtomicU64,
}

impl fmt::Debug for PostgresEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresEngine")
            .field("database", &self.shown)
            .field("pool", &self.slots.len())
            .field("remote_apply", &self.options.remote_apply)
            .finish()
    }
}

/// The URL as it may be shown: hosts, ports and database, never the password.
fn shown(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => format!("{}:{port}", path.display()),
        })
        .collect();
    format!(
        "postgres://{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or_default()
    )
}

fn tls(roots: &[Vec<u8>]) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut extra = Vec::new();
    for pem in roots {
        for certificate in CertificateDer::pem_slice_iter(pem) {
            extra.push(certificate.map_err(|e| {
                Error::from(
                    crate::error::ConfigError::new(
                        crate::error::ConfigErrorKind::Invalid,
                        "the PostgreSQL CA certificate is not valid PEM",
                    )
                    .with_source(e),
                )
            })?);
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let refused = |e: rustls::Error| {
        Error::from(
            crate::error::ConfigError::new(
                crate::error::ConfigErrorKind::Invalid,
                "cannot set up TLS for PostgreSQL",
            )
            .with_source(e),
        )
    };
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(refused)?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(refused)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl PostgresEngine {
    pub(crate) fn new(options: PostgresOptions) -> Result<Self> {
        let masked = crate::internal::mask::url_password(&options.url);
        let mut config: Config = options.url.parse().map_err(|e| {
            Error::from(
                crate::error::ConfigError::new(
                    crate::error::ConfigErrorKind::Invalid,
                    format!(
                        "{masked} is not a PostgreSQL URL boxauth can use; give one such as \
                         postgres://app:password@db.internal:5432/app"
                    ),
                )
                .with_source(e),
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("boxauth-vault");
        }
        Ok(Self {
            shown: shown(&config),
            tls: tls(&options.roots)?,
            slots: (0..options.pool).map(|_| Mutex::new(None)).collect(),
            config,
            options,
            next: AtomicUsize::new(0),
            statements: AtomicU64::new(0),
        })
    }

    fn unreachable(&self, error: impl std::error::Error + Send + Sync + 'static) -> Error {
        StorageError::new(
            StorageErrorKind::Unreachable,
            format!(
                "the vault's PostgreSQL at {} did not answer; check that it runs and that the URL \
                 is right (valid tokens keep being served from memory)",
                self.shown
            ),
        )
        .with_source(error)
        .into()
    }

    fn timed_out(&self) -> Error {
        Error::storage_kind(
            StorageErrorKind::Unreachable,
            format!(
                "the vault's PostgreSQL at {} did not answer within {} s (with remote_apply: no \
                 synchronous standby applied the write); its outcome is unknown",
                self.shown,
                self.options.statement_timeout.as_secs()
            ),
        )
    }

    /// A connection: the slot's, opened (again) when it has none or it closed.
    pub(super) async fn client(&self) -> Result<Arc<Client>> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[index].lock().await;
        if let Some(client) = slot.as_ref()
            && !client.is_closed()
        {
            return Ok(client.clone());
        }
        let (client, connection) = self
            .config
            .connect(self.tls.clone())
            .await
            .map_err(|e| self.unreachable(e))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a vault database connection ended");
            }
        });
        if self.options.remote_apply {
            client
                .batch_execute("SET synchronous_commit = remote_apply")
                .await
                .map_err(|e| self.failed(e))?;
        }
        let client = Arc::new(client);
        *slot = Some(client.clone());
        Ok(client)
    }

    /// A statement's error as boxauth's: the database answered (a missing schema, a refusal), or
    /// it did not.
    pub(super) fn failed(&self, error: tokio_postgres::Error) -> Error {
        let Some(db) = error.as_db_error() else {
            return self.unreachable(error);
        };
        let code = db.code().clone();
        if code == tokio_postgres::error::SqlState::UNDEFINED_TABLE {
            return VaultError::new(
                VaultErrorKind::SchemaMissing,
                format!(
                    "the vault's tables are not in {}: create them with Vault::init (boxauth vault init)",
                    self.shown
                ),
            )
            .with_source(error)
            .into();
        }
        StorageError::new(
            StorageErrorKind::Other,
            format!(
                "the vault's PostgreSQL at {} refused a statement (SQLSTATE {})",
                self.shown,
                code.code()
            ),
        )
        .with_source(error)
        .into()
    }

    pub(super) async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<PgRow>> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        let client = self.client().await?;
        match tokio::time::timeout(self.options.statement_timeout, client.query(sql, params)).await
        {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(error)) => Err(self.failed(error)),
            Err(_) => Err(self.timed_out()),
        }
    }

    pub(super) async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        let client = self.client().await?;
        match tokio::time::timeout(self.options.statement_timeout, client.execute(sql, params))
            .await
        {
            Ok(Ok(count)) => Ok(count),
            Ok(Err(error)) => Err(self.failed(error)),
            Err(_) => Err(self.timed_out()),
        }
    }

    pub(super) fn corrupt(&self, what: impl fmt::Display) -> Error {
        Error::storage_kind(
            StorageErrorKind::Corrupt,
            format!(
                "the vault's table in {} holds a row boxauth did not write ({what})",
                self.shown
            ),
        )
    }

    /// A row read with the columns of `schema::row_columns`, from column `at` on.
    pub(super) fn row(&self, row: &PgRow, at: usize) -> Result<Row> {
        let get = |e: tokio_postgres::Error| self.corrupt(e);
        let state: String = row.try_get(at + 3).map_err(get)?;
        let reason: Option<String> = row.try_get(at + 4).map_err(get)?;
        Ok(Row {
            user_key: row.try_get(at).map_err(get)?,
            generation: row.try_get(at + 1).map_err(get)?,
            sealed: row.try_get(at + 2).map_err(get)?,
            state: State::parse(&state).ok_or_else(|| self.corrupt(format!("state {state:?}")))?,
            reason: match reason {
                Some(reason) => Some(
                    ReauthReason::parse(&reason)
                        .ok_or_else(|| self.corrupt(format!("reason {reason:?}")))?,
                ),
                None => None,
            },
            refreshed_at: row.try_get(at + 5).map_err(get)?,
            access_expires_at: row.try_get(at + 6).map_err(get)?,
            next_keepalive_at: row.try_get(at + 7).map_err(get)?,
            updated_at: row.try_get(at + 8).map_err(get)?,
        })
    }
}

pub(super) fn limit(n: u32) -> i64 {
    i64::from(n)
}
