//! The SSRF corpus: every way of spelling "the private network" in a URL that we know of, fed
//! to the guarded fetcher's GET (inputs, backgrounds, video URLs) and POST (webhooks). A local
//! listener stands for the private service and counts every connection it gets: the count must
//! stay zero, and each attempt must fail as refused, never as a network error after connecting.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::fetch::{FetchError, Fetcher, Lookup};
use crate::config::FetchConfig;

/// A listener on 127.0.0.1 that counts connections and answers `reply` to each.
async fn listener(reply: String) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let count = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    (port, hits)
}

/// Test DNS: `private.test` → 127.0.0.1, `metadata.test` → 169.254.169.254, `mixed.test` →
/// a public and a private address, `mapped.test` → ::ffff:127.0.0.1, `hop.test` → 127.0.0.1
/// (allow-listed: it plays a public redirector). Each call counted.
fn test_dns(lookups: Arc<AtomicUsize>) -> Lookup {
    Arc::new(move |host: String| {
        lookups.fetch_add(1, Ordering::SeqCst);
        let ips: Vec<IpAddr> = match host.as_str() {
            "private.test" | "hop.test" => vec!["127.0.0.1".parse().unwrap()],
            "metadata.test" => vec!["169.254.169.254".parse().unwrap()],
            "mixed.test" => vec![
                "93.184.216.34".parse().unwrap(),
                "10.0.0.1".parse().unwrap(),
            ],
            "mapped.test" => vec!["::ffff:127.0.0.1".parse().unwrap()],
            _ => vec![],
        };
        Box::pin(async move { Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect()) })
    })
}

fn corpus(port: u16, hop: u16) -> Vec<String> {
    let p = port;
    let mut urls: Vec<String> = [
        // Loopback and "this host", every spelling the URL parser turns into them.
        "http://127.0.0.1:{p}/",
        "http://127.1:{p}/",
        "http://0177.0.0.1:{p}/",
        "http://0x7f.0.0.1:{p}/",
        "http://0x7f000001:{p}/",
        "http://2130706433:{p}/",
        "http://017700000001:{p}/",
        "http://0.0.0.0:{p}/",
        "http://0:{p}/",
        "http://[::]:{p}/",
        "http://[::1]:{p}/",
        "http://[::ffff:127.0.0.1]:{p}/",
        "http://[::ffff:7f00:1]:{p}/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/",
        "http://[::127.0.0.1]:{p}/",
        "http://[64:ff9b::7f00:1]:{p}/",
        "http://[2002:7f00:1::]:{p}/",
        "http://localhost:{p}/",
        "http://LOCALHOST.:{p}/",
        "http://a.localhost:{p}/",
        // Userinfo tricks: the host is what follows the last @.
        "http://example.com@127.0.0.1:{p}/",
        "http://user:pass@127.0.0.1:{p}/",
        "http://127.0.0.1:{p}#@example.com/",
        "http://127.0.0.1:{p}\\@example.com/",
        // Cloud metadata and private ranges.
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://10.0.0.1:{p}/",
        "http://192.168.0.1:{p}/",
        "http://172.16.0.1:{p}/",
        "http://100.64.0.1:{p}/",
        // Names the (test) resolver maps to private addresses, or to a mix (rebinding).
        "http://private.test:{p}/",
        "http://metadata.test/",
        "http://mixed.test:{p}/",
        "http://mapped.test:{p}/",
        // Other schemes.
        "file:///etc/passwd",
        "ftp://127.0.0.1:{p}/",
        "gopher://127.0.0.1:{p}/_",
        "dict://127.0.0.1:{p}/",
        "data:text/plain,hello",
        "ws://127.0.0.1:{p}/",
    ]
    .iter()
    .map(|u| u.replace("{p}", &p.to_string()))
    .collect();
    // Redirect chains from an allowed host into private space, by every route.
    for target in [
        format!("http://127.0.0.1:{p}/"),
        format!("http://2130706433:{p}/"),
        format!("http://private.test:{p}/"),
        format!("http://[::ffff:127.0.0.1]:{p}/"),
        "file:///etc/passwd".to_owned(),
    ] {
        urls.push(format!("http://hop.test:{hop}/to?{target}"));
    }
    urls
}

#[tokio::test]
async fn no_spelling_of_the_private_network_reaches_it() {
    let (port, hits) = listener("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".into()).await;
    // The redirector: allow-listed (as a public host would be), it answers each request with a
    // redirect to the URL in its query.
    let hop = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hop_port = hop.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = hop.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                let target = req
                    .split_whitespace()
                    .nth(1)
                    .and_then(|path| path.split_once('?'))
                    .map_or(String::new(), |(_, q)| q.to_owned());
                let reply = format!(
                    "HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\n\r\n"
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    let lookups = Arc::new(AtomicUsize::new(0));
    let cfg = FetchConfig {
        allow_hosts: vec!["hop.test".into()],
        connect_timeout_secs: 2,
        timeout_secs: 5,
        ..FetchConfig::default()
    };
    let fetcher = Fetcher::with_lookup(&cfg, test_dns(lookups.clone())).unwrap();
    let urls = corpus(port, hop_port);
    for url in &urls {
        let got = tokio::time::timeout(Duration::from_secs(10), fetcher.get(url, 1024))
            .await
            .unwrap_or_else(|_| panic!("{url}: no answer"));
        match got {
            Err(FetchError::Forbidden(_) | FetchError::BadUrl(_)) => {}
            other => panic!("{url}: {other:?}"),
        }
        if !url.starts_with("http://hop.test") {
            let posted = fetcher
                .post(url, &[], "{}".into(), Duration::from_secs(5))
                .await;
            assert!(
                matches!(
                    posted,
                    Err(FetchError::Forbidden(_) | FetchError::BadUrl(_))
                ),
                "webhook to {url}: {posted:?}"
            );
        }
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the private listener was reached"
    );
    eprintln!(
        "SSRF corpus: {} URLs, GET and POST: 0 hits; {} test-DNS lookups",
        urls.len(),
        lookups.load(Ordering::SeqCst)
    );
    // The corpus is not refusing everything: the allow-listed listener itself is reachable.
    let open = Fetcher::with_lookup(
        &FetchConfig {
            allow_hosts: vec!["127.0.0.1".into()],
            ..FetchConfig::default()
        },
        test_dns(lookups),
    )
    .unwrap();
    let body = open
        .get(&format!("http://127.0.0.1:{port}/"), 16)
        .await
        .unwrap();
    assert_eq!(&body[..], b"ok");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
