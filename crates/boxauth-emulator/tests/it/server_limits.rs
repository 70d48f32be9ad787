//! The emulator as a server under hostile clients: slowloris and idle connections are closed after
//! the header timeout, a stalled body gets 408 after the request timeout, a body over the limit
//! gets 413, at most `max_connections` are served at once, and normal requests are served
//! throughout.

use std::time::Duration;

use boxauth_emulator::{ConfigErrorKind, EmulatorConfig, EmulatorHandle, ServerLimits, StartError};
use boxauth_test_support::emulator as emu;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CCG: &str = "grant_type=client_credentials&client_id=boxauthemulatorclientid000000001&client_secret=BoxAuthEmulatorClientSecret00001&box_subject_type=enterprise&box_subject_id=100000001";

async fn start(limits: ServerLimits) -> EmulatorHandle {
    emu::start_with(EmulatorConfig {
        limits,
        keep_requests: 10,
        ..EmulatorConfig::default()
    })
    .await
}

/// The answer carries `Date` and `box-request-id`, as every answer of Box's, and the request log
/// recorded it with its status.
fn stamped_and_logged(emulator: &EmulatorHandle, answer: &str, status: u16) {
    let head = answer.to_ascii_lowercase();
    assert!(head.contains("\r\ndate: "), "{answer:?}");
    let id = head
        .split("\r\nbox-request-id: ")
        .nth(1)
        .and_then(|rest| rest.split("\r\n").next())
        .unwrap_or_else(|| panic!("no box-request-id in {answer:?}"));
    let logged = emulator.requests();
    assert!(
        logged
            .iter()
            .any(|e| e.status == status && e.request_id == id && e.path == "/oauth2/token"),
        "{logged:?}"
    );
}

fn limits(header: Duration, request: Duration, connections: usize) -> ServerLimits {
    let mut limits = ServerLimits::default();
    limits.header_read_timeout = header;
    limits.request_timeout = request;
    limits.max_connections = connections;
    limits
}

async fn connect(emulator: &EmulatorHandle) -> TcpStream {
    TcpStream::connect(emulator.addr()).await.unwrap()
}

/// Everything the server sends until it closes the connection.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn slowloris_and_idle_connections_are_closed_and_others_served_meanwhile() {
    let emulator = start(limits(
        Duration::from_millis(500),
        Duration::from_secs(30),
        1024,
    ))
    .await;
    let mut slow = Vec::new();
    for i in 0..200 {
        let mut stream = connect(&emulator).await;
        if i % 2 == 0 {
            // Half a request head, then nothing.
            stream
                .write_all(b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .unwrap();
        }
        slow.push(stream);
    }
    // Served while they hang.
    for _ in 0..5 {
        emu::service_token(&emulator).await;
    }
    // Each is closed by the server (reads end) once the header timeout passes.
    for stream in &mut slow {
        let answer = until_closed(stream).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer:?}"
        );
    }
    emu::service_token(&emulator).await;
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_its_connection_closed() {
    let emulator = start(limits(
        Duration::from_secs(10),
        Duration::from_millis(500),
        1024,
    ))
    .await;
    let mut stream = connect(&emulator).await;
    stream
        .write_all(
            b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30000\r\n\r\ngrant_type=client_credentials&",
        )
        .await
        .unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    stamped_and_logged(&emulator, &answer, 408);
    emu::service_token(&emulator).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_unread() {
    let emulator = start(ServerLimits::default()).await;
    let mut stream = connect(&emulator).await;
    stream
        .write_all(
            b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    stamped_and_logged(&emulator, &answer, 413);
}

#[tokio::test]
async fn at_the_connection_limit_new_clients_wait_their_turn() {
    let emulator = start(limits(Duration::from_secs(60), Duration::from_secs(60), 3)).await;
    let held: Vec<TcpStream> = futures_join(&emulator, 3).await;
    let addr = emulator.addr();
    let (sent, request_sent) = tokio::sync::oneshot::channel();
    let waiting = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{CCG}",
            CCG.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        sent.send(()).unwrap();
        until_closed(&mut stream).await
    });
    request_sent.await.unwrap();
    // Time passing is the point here: a request past the limit must stay unanswered while the
    // three connections are held, and "not yet" can only be watched over a window (300 ms, once
    // the request is on the wire; an emulator that served it would answer in a millisecond).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "served past the limit");
    assert_eq!(
        emulator
            .stats()
            .requests(boxauth_emulator::Grant::ClientCredentials),
        3,
        "only the three held connections' requests reached the grant"
    );
    drop(held);
    let answer = waiting.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
}

async fn futures_join(emulator: &EmulatorHandle, n: usize) -> Vec<TcpStream> {
    let mut streams = Vec::new();
    for _ in 0..n {
        let mut stream = connect(emulator).await;
        // A first request on each, so each is surely being served (not waiting in the queue).
        let request = format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{CCG}",
            CCG.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        streams.push(stream);
    }
    streams
}

#[tokio::test]
async fn limits_out_of_range_are_refused_at_start() {
    for bad in [
        limits(Duration::ZERO, Duration::from_secs(1), 10),
        limits(Duration::from_secs(1), Duration::from_secs(7200), 10),
        limits(Duration::from_secs(1), Duration::from_secs(1), 0),
    ] {
        let error = boxauth_emulator::Emulator::start(EmulatorConfig {
            limits: bad,
            ..EmulatorConfig::default()
        })
        .await
        .expect_err("refused");
        assert!(
            matches!(&error, StartError::Config(e) if e.kind() == ConfigErrorKind::Invalid),
            "{error}"
        );
    }
}
