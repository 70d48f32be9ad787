//! Which Redis: one server, a Redis Cluster, or a primary found through Sentinel. The URL forms,
//! the connection each opens, and the connections waiters listen on.
//!
//! - `redis://[[USER]:PASSWORD@]HOST:PORT[/DB]` (`rediss://` for TLS): one server.
//! - `redis-cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…]` (`rediss-cluster://`): a Redis
//!   Cluster, found from any of the seed nodes; MOVED and ASK redirections are followed.
//! - `redis-sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB]`
//!   (`rediss-sentinel://`): the primary Sentinel names for `MASTER_NAME`, asked again after a
//!   failover. The credentials are the data nodes'; the Sentinels are asked without.

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{Cmd, ConnectionAddr, Pipeline, RedisFuture, TlsCertificates, TlsMode, Value};
use std::time::Duration;

/// What a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Single,
    Cluster,
    Sentinel,
}

/// A parsed `redis-cluster://` or `redis-sentinel://` URL.
#[derive(Clone)]
pub(super) struct Nodes {
    pub(super) kind: Kind,
    pub(super) tls: bool,
    username: Option<String>,
    password: Option<String>,
    hosts: Vec<(String, u16)>,
    master: Option<String>,
    db: i64,
}

/// The kind of Redis a URL names, by its scheme.
pub(crate) fn kind_of(url: &str) -> Kind {
    let scheme = url.split("://").next().unwrap_or_default();
    match scheme {
        "redis-cluster" | "rediss-cluster" => Kind::Cluster,
        "redis-sentinel" | "rediss-sentinel" => Kind::Sentinel,
        _ => Kind::Single,
    }
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

impl Nodes {
    /// Parses a cluster or Sentinel URL; the error says what is wrong, without the password.
    pub(super) fn parse(url: &str) -> Result<Self, String> {
        let kind = kind_of(url);
        let (scheme, rest) = url.split_once("://").unwrap_or_default();
        let tls = scheme.starts_with("rediss");
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, ""),
        };
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo), hosts),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(userinfo) => match userinfo.split_once(':') {
                Some((user, password)) => (
                    (!user.is_empty()).then(|| percent_decoded(user)),
                    Some(percent_decoded(password)),
                ),
                None => (Some(percent_decoded(userinfo)), None),
            },
        };
        let hosts = hosts
            .split(',')
            .map(|host| {
                let (name, port) = host
                    .rsplit_once(':')
                    .ok_or_else(|| format!("{host:?} has no port; write HOST:PORT"))?;
                let port: u16 = port
                    .parse()
                    .map_err(|_| format!("{host:?} has no valid port; write HOST:PORT"))?;
                let name = name.trim_start_matches('[').trim_end_matches(']');
                if name.is_empty() {
                    return Err(format!("{host:?} has no host name; write HOST:PORT"));
                }
                Ok((name.to_owned(), port))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let segments: Vec<&str> = path
            .split('?')
            .next()
            .unwrap_or_default()
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let (master, db) = match (kind, segments.as_slice()) {
            (Kind::Cluster, []) => (None, 0),
            (Kind::Cluster, _) => {
                return Err(
                    "a Redis Cluster has only database 0: give no path after the nodes".into(),
                );
            }
            (Kind::Sentinel, [master]) => (Some(percent_decoded(master)), 0),
            (Kind::Sentinel, [master, db]) => (
                Some(percent_decoded(master)),
                db.parse()
                    .map_err(|_| format!("{db:?} is not a database number"))?,
            ),
            (Kind::Sentinel, _) => {
                return Err(
                    "a Sentinel URL ends with the master's name: …/MASTER_NAME (then /DB if not 0)"
                        .into(),
                );
            }
            (Kind::Single, _) => unreachable!("single-server URLs are parsed by redis::Client"),
        };
        Ok(Self {
            kind,
            tls,
            username,
            password,
            hosts,
            master,
            db,
        })
    }

    fn address(&self, host: &str, port: u16) -> ConnectionAddr {
        if self.tls {
            ConnectionAddr::TcpTls {
                host: host.to_owned(),
                port,
                insecure: false,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(host.to_owned(), port)
        }
    }

    /// A client for each seed node (cluster) or Sentinel, as given.
    fn node_info(&self, host: &str, port: u16, with_credentials: bool) -> redis::ConnectionInfo {
        let mut redis = redis::RedisConnectionInfo::default();
        if with_credentials {
            if let Some(username) = &self.username {
                redis = redis.set_username(username);
            }
            if let Some(password) = &self.password {
                redis = redis.set_password(password);
            }
        }
        self.address(host, port)
            .into_connection_info()
            .expect("a TCP address is a valid connection")
            .set_redis_settings(redis)
    }

    /// Opens the topology, trusting `root_cert` (PEM) for TLS when given.
    pub(super) fn open(&self, root_cert: Option<&[u8]>) -> redis::RedisResult<Topology> {
        let certificates = || TlsCertificates {
            client_tls: None,
            root_cert: root_cert.map(<[u8]>::to_vec),
        };
        match self.kind {
            Kind::Single => unreachable!("single-server URLs are opened by redis::Client"),
            Kind::Cluster => {
                let seeds: Vec<_> = self
                    .hosts
                    .iter()
                    .map(|(host, port)| self.node_info(host, *port, true))
                    .collect();
                let mut builder = ClusterClient::builder(seeds.clone())
                    .connection_timeout(Duration::from_secs(2))
                    .response_timeout(Duration::from_secs(2))
                    .retries(8)
                    .min_retry_wait(20)
                    .max_retry_wait(500);
                if self.tls {
                    builder = builder.tls(TlsMode::Secure);
                    if root_cert.is_some() {
                        builder = builder.certs(certificates());
                    }
                }
                let nodes = seeds
                    .into_iter()
                    .map(|info| open_client(info, self.tls.then(certificates)))
                    .collect::<redis::RedisResult<Vec<_>>>()?;
                Ok(Topology::Cluster {
                    client: builder.build()?,
                    nodes,
                })
            }
            Kind::Sentinel => {
                let sentinels = self.hosts.iter().map(|(h, p)| self.address(h, *p));
                let mut builder = SentinelClientBuilder::new(
                    sentinels,
                    self.master.as_deref().unwrap_or_default(),
                    SentinelServerType::Master,
                )?
                .set_client_to_redis_db(self.db);
                if let Some(username) = &self.username {
                    builder = builder.set_client_to_redis_username(username);
                }
                if let Some(password) = &self.password {
                    builder = builder.set_client_to_redis_password(password);
                }
                if self.tls {
                    builder = builder
                        .set_client_to_redis_tls_mode(TlsMode::Secure)
                        .set_client_to_sentinel_tls_mode(TlsMode::Secure);
                    if root_cert.is_some() {
                        builder = builder
                            .set_client_to_redis_certificates(certificates())
                            .set_client_to_sentinel_certificates(certificates());
                    }
                }
                let probes = self
                    .hosts
                    .iter()
                    .map(|(host, port)| {
                        open_client(
                            self.node_info(host, *port, false),
                            self.tls.then(certificates),
                        )
                    })
                    .collect::<redis::RedisResult<Vec<_>>>()?;
                Ok(Topology::Sentinel {
                    sentinel: tokio::sync::Mutex::new(builder.build()?),
                    sentinels: probes,
                    master: self.master.clone().unwrap_or_default(),
                })
            }
        }
    }
}

fn open_client(
    info: redis::ConnectionInfo,
    certificates: Option<TlsCertificates>,
) -> redis::RedisResult<redis::Client> {
    match certificates {
        Some(certificates) if certificates.root_cert.is_some() => {
            redis::Client::build_with_tls(info, certificates)
        }
        _ => redis::Client::open(info),
    }
}

use redis::IntoConnectionInfo;

/// An opened topology.
pub(super) enum Topology {
    Single(redis::Client),
    Cluster {
        client: ClusterClient,
        /// A plain client per seed node, for pub/sub: a cluster forwards a `PUBLISH` to every
        /// node, so a waiter can listen on any of them.
        nodes: Vec<redis::Client>,
    },
    /// Asked for the primary's address on every (re)connect.
    Sentinel {
        sentinel: tokio::sync::Mutex<SentinelClient>,
        /// A plain client per Sentinel, to ask what they name when a command failed.
        sentinels: Vec<redis::Client>,
        master: String,
    },
}

/// What the topology answered when asked after a command failed: whether anything answers
/// (so a failover, not an outage, is under way), and what the Sentinels name.
#[derive(Debug, Default)]
pub(super) struct Probe {
    /// A node of the cluster, or a Sentinel, answered.
    pub(super) answered: bool,
    /// The primary the Sentinels name, `HOST:PORT`.
    pub(super) primary: Option<String>,
    /// The Sentinels that answered know no master by the URL's name.
    pub(super) unknown_master: bool,
}

/// How long a probed node may take to answer: a frozen one never does.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

impl Topology {
    pub(super) fn kind(&self) -> Kind {
        match self {
            Self::Single(_) => Kind::Single,
            Self::Cluster { .. } => Kind::Cluster,
            Self::Sentinel { .. } => Kind::Sentinel,
        }
    }

    /// A new connection (for a cluster, one that follows the cluster's slots and redirections).
    pub(super) async fn connect(&self) -> redis::RedisResult<Connection> {
        match self {
            Self::Single(client) => Ok(Connection::Single(manager(client.clone()).await?)),
            Self::Cluster { client, .. } => {
                Ok(Connection::Cluster(client.get_async_connection().await?))
            }
            Self::Sentinel { sentinel, .. } => {
                let primary = sentinel.lock().await.async_get_client().await?;
                Ok(Connection::Single(manager(primary).await?))
            }
        }
    }

    /// The clients a waiter may subscribe through, in the order to try them.
    pub(super) async fn pubsub_clients(&self) -> redis::RedisResult<Vec<redis::Client>> {
        match self {
            Self::Single(client) => Ok(vec![client.clone()]),
            Self::Cluster { nodes, .. } => Ok(nodes.clone()),
            Self::Sentinel { sentinel, .. } => {
                Ok(vec![sentinel.lock().await.async_get_client().await?])
            }
        }
    }

    /// Asks every seed node (cluster) or Sentinel at once, each for at most
    /// [`PROBE_TIMEOUT`]: does any answer, and what do the Sentinels name?
    pub(super) async fn probe(&self) -> Probe {
        async fn ask<T: redis::FromRedisValue>(
            client: &redis::Client,
            command: &Cmd,
        ) -> Option<redis::RedisResult<T>> {
            let asked = async {
                let mut connection = client.get_multiplexed_async_connection().await?;
                command.query_async::<T>(&mut connection).await
            };
            let answer = tokio::time::timeout(PROBE_TIMEOUT, asked).await.ok()?;
            // An error the node sent back is an answer too; a dropped connection is not.
            match answer {
                Err(error) if !super::errors::answered(&error) => None,
                answer => Some(answer),
            }
        }
        match self {
            Self::Single(_) => Probe::default(),
            Self::Cluster { nodes, .. } => {
                let ping = redis::cmd("PING");
                let answers = futures_util::future::join_all(
                    nodes.iter().map(|node| ask::<Value>(node, &ping)),
                )
                .await;
                Probe {
                    answered: answers.iter().any(Option::is_some),
                    ..Probe::default()
                }
            }
            Self::Sentinel {
                sentinels, master, ..
            } => {
                let mut named = redis::cmd("SENTINEL");
                named.arg("GET-MASTER-ADDR-BY-NAME").arg(master);
                let answers = futures_util::future::join_all(
                    sentinels
                        .iter()
                        .map(|sentinel| ask::<Option<(String, u16)>>(sentinel, &named)),
                )
                .await;
                let primary = answers
                    .iter()
                    .flatten()
                    .find_map(|answer| answer.as_ref().ok().cloned().flatten())
                    .map(|(host, port)| format!("{host}:{port}"));
                let unknown = answers.iter().flatten().any(|a| matches!(a, Ok(None)));
                Probe {
                    answered: answers.iter().any(Option::is_some),
                    unknown_master: unknown && primary.is_none(),
                    primary,
                }
            }
        }
    }
}

async fn manager(client: redis::Client) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_with_config(client, config).await
}

/// One server's connection (reconnecting on its own), or a cluster's.
#[derive(Clone)]
pub(super) enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_and_sentinel_urls_are_read_as_documented() {
        let nodes = Nodes::parse("redis-cluster://:s%40cret@10.0.0.1:7000,[::1]:7001").unwrap();
        assert_eq!(nodes.kind, Kind::Cluster);
        assert!(!nodes.tls);
        assert_eq!(nodes.password.as_deref(), Some("s@cret"));
        assert_eq!(nodes.username, None);
        assert_eq!(
            nodes.hosts,
            [("10.0.0.1".to_owned(), 7000), ("::1".to_owned(), 7001)]
        );
        let nodes = Nodes::parse("rediss-sentinel://app:pw@s1:26379,s2:26379/mymaster/3").unwrap();
        assert_eq!(nodes.kind, Kind::Sentinel);
        assert!(nodes.tls);
        assert_eq!(nodes.username.as_deref(), Some("app"));
        assert_eq!(nodes.master.as_deref(), Some("mymaster"));
        assert_eq!(nodes.db, 3);
    }

    #[test]
    fn malformed_cluster_and_sentinel_urls_say_what_is_wrong() {
        for (url, says) in [
            ("redis-cluster://10.0.0.1", "has no port"),
            ("redis-cluster://10.0.0.1:x", "no valid port"),
            ("redis-cluster://:7000", "no host name"),
            ("redis-cluster://h:7000/1", "only database 0"),
            ("redis-sentinel://h:26379", "master's name"),
            ("redis-sentinel://h:26379/m/x", "not a database number"),
        ] {
            let error = Nodes::parse(url).err().unwrap();
            assert!(error.contains(says), "{url}: {error}");
        }
    }
}
