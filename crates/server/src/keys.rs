//! API keys: generated with 256 bits of randomness, shown once, stored as SHA-256 hashes.

use cutout_store::Scope;
use rand::RngCore;
use sha2::{Digest, Sha256};

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

/// Parses scope names; none at all means every scope (`*`).
pub fn parse_scopes(list: &[String]) -> Result<Vec<Scope>, String> {
    if list.is_empty() {
        return Ok(vec![Scope::All]);
    }
    list.iter()
        .map(|s| {
            s.parse::<Scope>().map_err(|e| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("{e} (known: {})", known.join(", "))
            })
        })
        .collect()
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
