//! Per-key token buckets. With a shared database (PostgreSQL) the buckets live there, so a key's
//! limit holds across every API node; an embedded node (SQLite) keeps them in memory, where
//! they cost no write per request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use cutout_store::{now_ms, Bucket, KeyId, Repo, StoreError};

/// The outcome of one request against a key's bucket, with what the headers report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until one request is allowed (0 when allowed).
    pub retry_after_secs: u64,
}

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    /// Buckets in the database (shared by every node) rather than in `buckets`.
    shared: bool,
    buckets: Mutex<HashMap<KeyId, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32, burst: u32, shared: bool) -> Self {
        Self {
            per_minute,
            burst: burst.max(1),
            shared,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.per_minute > 0
    }

    /// Takes a token from `key`'s bucket, in the database when it is shared.
    pub async fn check(&self, repo: &dyn Repo, key: KeyId) -> Result<Decision, StoreError> {
        if !self.shared {
            return Ok(self.check_at(key, Instant::now()));
        }
        let bucket = repo
            .take_token(key, self.per_minute, self.burst, now_ms())
            .await?;
        Ok(self.decision(bucket))
    }

    fn decision(&self, b: Bucket) -> Decision {
        let rate = self.per_minute as f64 / 60.0;
        let cap = self.burst as f64;
        Decision {
            allowed: b.allowed,
            limit: self.burst,
            remaining: b.tokens.max(0.0).floor() as u32,
            reset_secs: ((cap - b.tokens) / rate).ceil().max(0.0) as u64,
            retry_after_secs: if b.allowed {
                0
            } else {
                ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64
            },
        }
    }

    fn check_at(&self, key: KeyId, now: Instant) -> Decision {
        let rate = self.per_minute as f64 / 60.0;
        let cap = self.burst as f64;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            // Bound memory: drop buckets that have refilled completely.
            buckets.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < cap);
        }
        let (tokens, at) = buckets.entry(key).or_insert((cap, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(cap);
        *at = now;
        let allowed = *tokens >= 1.0;
        if allowed {
            *tokens -= 1.0;
        }
        self.decision(Bucket {
            allowed,
            tokens: *tokens,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let rl = RateLimiter::new(60, 3, false);
        let k = KeyId::new();
        let t0 = Instant::now();
        for left in [2, 1, 0] {
            let d = rl.check_at(k, t0);
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
        }
        let d = rl.check_at(k, t0);
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, 1);
        assert!(rl.check_at(k, t0 + Duration::from_millis(1100)).allowed);
        assert!(rl.check_at(KeyId::new(), t0).allowed, "keys share a bucket");
    }
}
