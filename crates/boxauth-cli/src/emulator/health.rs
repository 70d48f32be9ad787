//! `boxauth emulator health`: one `GET /__emulator/health` over plain HTTP/1.0, for a container's
//! `HEALTHCHECK` (the image carries no curl). Bounded: 3 s to connect, 3 s to answer, 1 KiB read.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

/// Succeeds when the emulator at `url` answers its health check with 200.
pub(super) fn check(url: &str) -> boxauth::Result<()> {
    let unhealthy = |why: String| boxauth::Error::config(format!("{url}: {why}"));
    let parsed = url::Url::parse(url).map_err(|e| unhealthy(format!("not a URL ({e})")))?;
    if parsed.scheme() != "http" {
        return Err(unhealthy("the health check speaks http:// only".into()));
    }
    let host = parsed.host_str().unwrap_or_default();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| unhealthy(e.to_string()))?
        .next()
        .ok_or_else(|| unhealthy("the host has no address".into()))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| unhealthy(e.to_string()))?;
    stream.set_read_timeout(Some(TIMEOUT)).ok();
    stream.set_write_timeout(Some(TIMEOUT)).ok();
    write!(
        stream,
        "GET /__emulator/health HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n"
    )
    .map_err(|e| unhealthy(e.to_string()))?;
    let mut head = [0u8; 1024];
    let read = stream
        .read(&mut head)
        .map_err(|e| unhealthy(e.to_string()))?;
    let answer = String::from_utf8_lossy(&head[..read]);
    let status = answer.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        crate::outln!("healthy")?;
        Ok(())
    } else {
        Err(unhealthy(format!("answered {status:?}")))
    }
}
