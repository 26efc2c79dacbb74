//! AWS Signature Version 4 for the two requests the S3 store makes itself: presigned GET URLs
//! (handed to clients, so results and videos do not flow through the API node) and
//! `CreateBucket`. Everything else goes through `object_store`, whose signer is async; these
//! must be made where no `.await` is possible (a job's status view).

use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Credentials and where they are valid.
#[derive(Clone)]
pub(crate) struct Signer {
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("access_key", &self.access_key)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// `20261201T120000Z` and `20261201`.
fn stamps(at: SystemTime) -> (String, String) {
    let t = time::OffsetDateTime::from(at);
    let date = format!("{:04}{:02}{:02}", t.year(), t.month() as u8, t.day());
    let full = format!("{date}T{:02}{:02}{:02}Z", t.hour(), t.minute(), t.second());
    (full, date)
}

/// RFC 3986 encoding as SigV4 wants it: unreserved characters stay, `/` too when `path`.
fn encode(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if path => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

impl Signer {
    fn scope(&self, date: &str) -> String {
        format!("{date}/{}/s3/aws4_request", self.region)
    }

    fn signature(&self, date: &str, amz_date: &str, canonical_request: &str) -> String {
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
            self.scope(date),
            sha256_hex(canonical_request.as_bytes())
        );
        let k = hmac(format!("AWS4{}", self.secret_key).as_bytes(), date);
        let k = hmac(&k, &self.region);
        let k = hmac(&k, "s3");
        let k = hmac(&k, "aws4_request");
        hex::encode(hmac(&k, &to_sign))
    }

    /// A presigned GET of `/{bucket}/{key}` (path style) on `endpoint` (`scheme://host[:port]`),
    /// valid for `expires_secs` from `at`.
    pub fn presign_get(
        &self,
        endpoint: &str,
        bucket: &str,
        key: &str,
        expires_secs: u64,
        at: SystemTime,
    ) -> String {
        let path = format!("/{}/{}", encode(bucket, false), encode(key, true));
        self.presign_path(endpoint, &path, expires_secs, at)
    }

    /// A presigned GET of the (already encoded) `path` on `endpoint`.
    fn presign_path(
        &self,
        endpoint: &str,
        path: &str,
        expires_secs: u64,
        at: SystemTime,
    ) -> String {
        let (amz_date, date) = stamps(at);
        let host = endpoint.split_once("://").map_or(endpoint, |(_, h)| h);
        let credential = format!("{}/{}", self.access_key, self.scope(&date));
        let query = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={amz_date}\
             &X-Amz-Expires={}&X-Amz-SignedHeaders=host",
            encode(&credential, false),
            expires_secs.clamp(1, 604_800)
        );
        let canonical = format!("GET\n{path}\n{query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD");
        let signature = self.signature(&date, &amz_date, &canonical);
        format!("{endpoint}{path}?{query}&X-Amz-Signature={signature}")
    }

    /// The headers of a signed request with an empty body (`CreateBucket`).
    pub fn sign_empty(
        &self,
        method: &str,
        endpoint: &str,
        path: &str,
        at: SystemTime,
    ) -> Vec<(&'static str, String)> {
        let (amz_date, date) = stamps(at);
        let host = endpoint.split_once("://").map_or(endpoint, |(_, h)| h);
        let payload = sha256_hex(b"");
        let signed = "host;x-amz-content-sha256;x-amz-date";
        let canonical = format!(
            "{method}\n{}\n\nhost:{host}\nx-amz-content-sha256:{payload}\nx-amz-date:{amz_date}\n\n\
             {signed}\n{payload}",
            encode(path, true)
        );
        let signature = self.signature(&date, &amz_date, &canonical);
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={signed}, Signature={signature}",
            self.access_key,
            self.scope(&date)
        );
        vec![
            ("authorization", auth),
            ("x-amz-content-sha256", payload),
            ("x-amz-date", amz_date),
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn example() -> (Signer, SystemTime) {
        let s = Signer {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        };
        (s, UNIX_EPOCH + Duration::from_secs(1_369_353_600)) // 2013-05-24T00:00:00Z
    }

    /// AWS's documented example (S3 API reference, "Authenticating Requests: Using Query
    /// Parameters"): the same inputs give AWS's own signature.
    #[test]
    fn presigning_matches_the_aws_example() {
        let (s, at) = example();
        let url = s.presign_path(
            "https://examplebucket.s3.amazonaws.com",
            "/test.txt",
            86400,
            at,
        );
        assert!(
            url.ends_with(
                "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ),
            "{url}"
        );
    }

    #[test]
    fn presigned_urls_are_deterministic_and_cover_every_part() {
        let (s, at) = example();
        let url = s.presign_get(
            "https://s3.amazonaws.com",
            "examplebucket",
            "test.txt",
            86400,
            at,
        );
        assert!(url.starts_with("https://s3.amazonaws.com/examplebucket/test.txt?"));
        assert!(url.contains("X-Amz-Date=20130524T000000Z"));
        assert!(url.contains(
            "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        ));
        let sig = |u: &str| u.rsplit_once("X-Amz-Signature=").unwrap().1.to_owned();
        assert_eq!(sig(&url).len(), 64);
        assert_eq!(
            url,
            s.presign_get(
                "https://s3.amazonaws.com",
                "examplebucket",
                "test.txt",
                86400,
                at
            )
        );
        let other_key = s.presign_get(
            "https://s3.amazonaws.com",
            "examplebucket",
            "test2.txt",
            86400,
            at,
        );
        let other_ttl = s.presign_get(
            "https://s3.amazonaws.com",
            "examplebucket",
            "test.txt",
            60,
            at,
        );
        assert_ne!(sig(&url), sig(&other_key));
        assert_ne!(sig(&url), sig(&other_ttl));
    }

    #[test]
    fn keys_are_encoded_but_keep_their_slashes() {
        assert_eq!(encode("public/a b/ü.png", true), "public/a%20b/%C3%BC.png");
        assert_eq!(encode("a/b", false), "a%2Fb");
    }
}
