//! Attackers' connections on real sockets: a slowloris head, an oversized head, more
//! connections than the cap, and a stalled upload body. Each is cut off by the server; the tests
//! wait on the socket (EOF or an answer), with a generous bound only against hanging forever.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

const BOUND: Duration = Duration::from_secs(20);

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    TcpStream::connect(addr).await.unwrap()
}

/// Reads until the server closes; returns what it sent.
async fn until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("the server never closed the connection");
    got
}

#[tokio::test]
async fn a_slowloris_head_is_closed_after_the_header_timeout() {
    let app = spawn_app(|c| c.server.header_read_timeout_secs = 1).await;
    let mut s = connect(&app).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let t = Instant::now();
    until_closed(&mut s).await;
    let held = t.elapsed();
    eprintln!("slowloris connection held {held:?} (header_read_timeout_secs = 1)");
    assert!(held < Duration::from_secs(3), "held {held:?}");
}

#[tokio::test]
async fn an_oversized_head_is_431() {
    let app = spawn_app(|c| c.server.max_header_bytes = 16 << 10).await;
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-big", "a".repeat(20 << 10))
        .send()
        .await;
    // hyper answers 431 and closes; a client may also see the reset first.
    if let Ok(r) = r {
        assert_eq!(r.status(), 431);
    }
    let ok = app
        .client
        .get(app.url("/healthz"))
        .header("x-fine", "a".repeat(4 << 10))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "a 4 KB header is fine");
}

#[tokio::test]
async fn connections_over_the_cap_wait_for_a_free_slot() {
    let app = spawn_app(|c| {
        c.server.max_connections = 1;
        c.server.header_read_timeout_secs = 1;
    })
    .await;
    let mut holder = connect(&app).await;
    holder
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let held_from = Instant::now();
    // Let the server take the first connection before the second arrives.
    tokio::task::yield_now().await;
    let mut waiter = connect(&app).await;
    waiter
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut waiter).await;
    let waited = held_from.elapsed();
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{answer:?}"
    );
    // The only slot frees when the server drops the stalled head, 1 s after it started.
    assert!(
        waited >= Duration::from_millis(900),
        "answered after {waited:?}, while the first connection held the only slot"
    );
    until_closed(&mut holder).await;
}

#[tokio::test]
async fn a_stalled_upload_body_is_cut_off_by_the_request_deadline() {
    let app = spawn_app(|c| c.server.request_timeout_secs = 1).await;
    let mut s = connect(&app).await;
    let head = format!(
        "POST /api/v1/upload HTTP/1.1\r\nHost: x\r\nX-API-Key: {}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n",
        app.key
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let t = Instant::now();
    let answer = until_closed(&mut s).await;
    let held = t.elapsed();
    eprintln!("stalled upload held {held:?} (request_timeout_secs = 1)");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 503") || text.is_empty(),
        "{text}"
    );
    assert!(held < Duration::from_secs(4), "held {held:?}");
}
