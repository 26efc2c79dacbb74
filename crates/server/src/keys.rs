//! API keys: generated with 256 bits of randomness, shown once, stored as SHA-256 hashes.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every scope a key can hold; `*` grants all of them.
pub const SCOPES: &[&str] = &[
    "images:write",
    "images:read",
    "params:write",
    "assets:read",
    "assets:write",
    "addons:bg_remove",
    "videos:write",
    "videos:read",
];

/// A fresh secret key (`ck_` + 64 hex digits).
pub fn generate() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    format!("ck_{}", hex::encode(raw))
}

/// What the database stores and looks keys up by.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The part of a key safe to show in listings.
pub fn prefix(key: &str) -> String {
    key.chars().take(10).collect()
}

/// A random secret for signing webhooks (`whsec_` + 48 hex digits).
pub fn webhook_secret() -> String {
    let mut raw = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut raw);
    format!("whsec_{}", hex::encode(raw))
}

/// Checks scope names; `*` alone means every scope.
pub fn parse_scopes(list: &[String]) -> Result<Vec<String>, String> {
    if list.is_empty() {
        return Ok(vec!["*".into()]);
    }
    for s in list {
        if s != "*" && !SCOPES.contains(&s.as_str()) {
            return Err(format!(
                "unknown scope {s:?} (known: *, {})",
                SCOPES.join(", ")
            ));
        }
    }
    Ok(list.to_vec())
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_unique_and_hashes_stable() {
        let (a, b) = (super::generate(), super::generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 67);
        assert_eq!(super::hash(&a), super::hash(&a));
        assert_ne!(super::hash(&a), super::hash(&b));
        assert!(super::parse_scopes(&["images:write".into()]).is_ok());
        assert!(super::parse_scopes(&["root".into()]).is_err());
    }
}
