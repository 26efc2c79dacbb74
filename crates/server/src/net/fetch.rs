//! Fetching user-supplied URLs (`file_url`, `bg_image_url`, webhooks) without becoming a proxy
//! into the private network: http(s) only, every address checked after DNS resolution (the
//! connection uses exactly the checked addresses, so DNS rebinding cannot slip in), every redirect
//! checked again, IP literals too, with size and time limits.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{redirect, Url};

use super::guard::is_public;
use crate::config::FetchConfig;

#[derive(Clone, Debug, thiserror::Error)]
pub enum FetchError {
    #[error("invalid URL: {0}")]
    BadUrl(String),
    #[error("URL refused: {0}")]
    Forbidden(String),
    #[error("the remote file is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the remote server answered HTTP {0}")]
    Status(u16),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("timed out fetching the URL")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
}

impl FetchError {
    /// Stable code for job errors and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUrl(_) => "url_invalid",
            Self::Forbidden(_) => "url_forbidden",
            Self::TooLarge(_) => "input_too_large",
            Self::Status(_) => "fetch_http_error",
            Self::TooManyRedirects(_) => "fetch_redirects",
            Self::Timeout => "fetch_timeout",
            Self::Network(_) => "fetch_network",
        }
    }

    /// Whether trying again later may work (a 5xx, a timeout, a dropped connection).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Status(s) => *s >= 500 || *s == 429 || *s == 408,
            Self::Timeout | Self::Network(_) => true,
            _ => false,
        }
    }
}

/// Hosts exempt from the address check (tests only; empty by default).
#[derive(Clone, Debug, Default)]
struct AllowList(Arc<Vec<String>>);

impl AllowList {
    fn allows(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.0.iter().any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Checks a URL's syntax, scheme and (for IP literals) address, without any network access.
/// Used at request time so obvious SSRF attempts get a 422 at once.
pub fn check_url(raw: &str, allow_hosts: &[String]) -> Result<Url, FetchError> {
    check_parsed(raw, &AllowList(Arc::new(allow_hosts.to_vec())))
}

fn check_parsed(raw: &str, allow: &AllowList) -> Result<Url, FetchError> {
    let url = Url::parse(raw).map_err(|e| FetchError::BadUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::BadUrl(
            "only http and https URLs are accepted".into(),
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| FetchError::BadUrl("the URL has no host".into()))?;
    if allow.allows(host) {
        return Ok(url);
    }
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        if !is_public(ip) {
            return Err(FetchError::Forbidden(format!(
                "{ip} is not a public address"
            )));
        }
    } else if bare.eq_ignore_ascii_case("localhost") || bare.ends_with(".localhost") {
        return Err(FetchError::Forbidden(
            "localhost is not a public host".into(),
        ));
    }
    Ok(url)
}

/// Name resolution: the system's in production; tests swap in their own answers (a name that
/// resolves to a private address, or public first and private second).
pub(crate) type Lookup = Arc<
    dyn Fn(String) -> futures_util::future::BoxFuture<'static, std::io::Result<Vec<SocketAddr>>>
        + Send
        + Sync,
>;

fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
    })
}

/// A resolver that refuses names resolving to any non-public address.
#[derive(Clone)]
struct GuardedResolver {
    allow: AllowList,
    lookup: Lookup,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let lookup = self.lookup.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = lookup(host.clone()).await?;
            // One private answer taints the name: mixing public and private answers is a
            // rebinding trick, not a real deployment.
            if !allow.allows(&host) {
                if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                    let msg = format!("{host} resolves to {} which is not public", bad.ip());
                    return Err(Box::new(FetchError::Forbidden(msg)) as _);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The guarded HTTP client, shared by file fetching and webhook delivery.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    allow: AllowList,
    max_redirects: usize,
}

impl Fetcher {
    pub fn new(cfg: &FetchConfig) -> Result<Self, FetchError> {
        Self::with_lookup(cfg, system_lookup())
    }

    pub(crate) fn with_lookup(cfg: &FetchConfig, lookup: Lookup) -> Result<Self, FetchError> {
        let allow = AllowList(Arc::new(cfg.allow_hosts.clone()));
        let client = reqwest::Client::builder()
            // Redirects are followed by hand so each hop is checked.
            .redirect(redirect::Policy::none())
            // A proxy would resolve names itself and bypass the address check.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow: allow.clone(),
                lookup,
            }))
            .connect_timeout(Duration::from_secs(cfg.connect_timeout_secs))
            .timeout(Duration::from_secs(cfg.timeout_secs))
            .user_agent(concat!("cutout/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Network(e.to_string()))?;
        Ok(Self {
            client,
            allow,
            max_redirects: cfg.max_redirects,
        })
    }

    /// GETs `raw` and returns at most `max_bytes` of body.
    pub async fn get(&self, raw: &str, max_bytes: u64) -> Result<Bytes, FetchError> {
        read_limited(self.open(raw, None).await?, max_bytes).await
    }

    /// GETs `raw` into the file `dest` (streamed, never whole in memory), at most `max_bytes`,
    /// within `timeout` for the whole transfer. Returns the size.
    pub async fn get_to_file(
        &self,
        raw: &str,
        max_bytes: u64,
        dest: &std::path::Path,
        timeout: Duration,
    ) -> Result<u64, FetchError> {
        use tokio::io::AsyncWriteExt;
        let resp = self.open(raw, Some(timeout)).await?;
        if resp.content_length().is_some_and(|n| n > max_bytes) {
            return Err(FetchError::TooLarge(max_bytes));
        }
        let io = |e: std::io::Error| FetchError::Network(format!("writing the download: {e}"));
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let mut size = 0u64;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(map_err)?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(FetchError::TooLarge(max_bytes));
            }
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        Ok(size)
    }

    /// Sends the GET, following redirects by hand so each hop is checked; answers the final
    /// successful response.
    async fn open(
        &self,
        raw: &str,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut url = check_parsed(raw, &self.allow)?;
        for _ in 0..=self.max_redirects {
            let mut req = self.client.get(url.clone());
            if let Some(t) = timeout {
                req = req.timeout(t);
            }
            let resp = req.send().await.map_err(map_err)?;
            let status = resp.status();
            if status.is_redirection() {
                let loc = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(FetchError::Status(status.as_u16()))?;
                let next = url
                    .join(loc)
                    .map_err(|e| FetchError::BadUrl(e.to_string()))?;
                url = check_parsed(next.as_str(), &self.allow)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            return Ok(resp);
        }
        Err(FetchError::TooManyRedirects(self.max_redirects))
    }

    /// POSTs a JSON body with extra headers (webhooks). Redirects are not followed.
    pub async fn post(
        &self,
        raw: &str,
        headers: &[(&str, String)],
        body: String,
        timeout: Duration,
    ) -> Result<u16, FetchError> {
        let url = check_parsed(raw, &self.allow)?;
        let mut req = self
            .client
            .post(url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.map_err(map_err)?;
        Ok(resp.status().as_u16())
    }
}

async fn read_limited(resp: reqwest::Response, max: u64) -> Result<Bytes, FetchError> {
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(FetchError::TooLarge(max));
    }
    let mut buf = BytesMut::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(map_err)?;
        if (buf.len() + chunk.len()) as u64 > max {
            return Err(FetchError::TooLarge(max));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Finds our own `Forbidden` inside reqwest's error chain (the resolver's refusal).
fn map_err(e: reqwest::Error) -> FetchError {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = src {
        if let Some(f) = s.downcast_ref::<FetchError>() {
            return f.clone();
        }
        src = s.source();
    }
    if e.is_timeout() {
        FetchError::Timeout
    } else {
        // Without the URL: it may carry credentials in its query.
        FetchError::Network(e.without_url().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_checks() {
        let none: Vec<String> = vec![];
        for bad in [
            "ftp://x.com/a",
            "file:///etc/passwd",
            "gopher://x",
            "not a url",
            "http://",
        ] {
            assert!(
                matches!(check_url(bad, &none), Err(FetchError::BadUrl(_))),
                "{bad}"
            );
        }
        for bad in [
            "http://127.0.0.1/",
            "http://[::1]:80/",
            "http://169.254.169.254/latest",
            "http://localhost:8080/",
            "http://0x7f000001/",
            "http://2130706433/",
        ] {
            assert!(
                matches!(check_url(bad, &none), Err(FetchError::Forbidden(_))),
                "{bad}"
            );
        }
        assert!(check_url("https://example.com/a.jpg", &none).is_ok());
        assert!(check_url("http://127.0.0.1:9/", &["127.0.0.1".into()]).is_ok());
    }

    /// The machine's own name resolves (through /etc/hosts) to a loopback or private address:
    /// only the resolver can refuse it.
    pub async fn own_hostname() -> String {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim()
            .to_owned();
        let addrs: Vec<_> = tokio::net::lookup_host((name.as_str(), 0))
            .await
            .unwrap()
            .collect();
        assert!(
            addrs.iter().any(|a| !is_public(a.ip())),
            "{name} resolves to {addrs:?}"
        );
        name
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        let f = Fetcher::new(&FetchConfig::default()).unwrap();
        let host = own_hostname().await;
        let err = f.get(&format!("http://{host}:9/x"), 10).await.unwrap_err();
        assert!(matches!(err, FetchError::Forbidden(_)), "{err:?}");
        assert!(!err.is_transient());
        let err = check_url("http://localhost.:80/", &[]).unwrap_err();
        assert!(
            matches!(err, FetchError::Forbidden(_)),
            "trailing dot: {err:?}"
        );
    }
}
