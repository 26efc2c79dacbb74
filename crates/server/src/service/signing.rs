//! Signed, expiring result URLs: `?expires=UNIX&signature=HEX(HMAC-SHA256(secret, job|expires))`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use cutout_store::JobId;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct UrlSigner {
    secret: Vec<u8>,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner { secret: *** }")
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignatureError {
    Expired,
    Invalid,
}

impl UrlSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, job: JobId, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key size");
        mac.update(format!("{job}|{expires}").as_bytes());
        mac
    }

    /// The query string (`expires=..&signature=..`) for a link valid until `expires` (Unix s).
    pub fn sign(&self, job: JobId, expires: i64) -> String {
        let sig = hex::encode(self.mac(job, expires).finalize().into_bytes());
        format!("expires={expires}&signature={sig}")
    }

    /// Checks in constant time, then the expiry.
    pub fn verify(
        &self,
        job: JobId,
        expires: i64,
        signature: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        let sig = hex::decode(signature).map_err(|_| SignatureError::Invalid)?;
        self.mac(job, expires)
            .verify_slice(&sig)
            .map_err(|_| SignatureError::Invalid)?;
        if now > expires {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }
}

/// `sha256=` + hex(HMAC-SHA256(secret, timestamp + "." + body)), as NOTES.md §2 specifies.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key size");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_expire_and_resist_tampering() {
        let s = UrlSigner::new(b"k");
        let job = JobId::new();
        let q = s.sign(job, 1000);
        let sig = q.split("signature=").nth(1).unwrap();
        assert_eq!(s.verify(job, 1000, sig, 999), Ok(()));
        assert_eq!(s.verify(job, 1000, sig, 1001), Err(SignatureError::Expired));
        assert_eq!(
            s.verify(job, 2000, sig, 999),
            Err(SignatureError::Invalid),
            "expiry extended"
        );
        assert_eq!(
            s.verify(JobId::new(), 1000, sig, 999),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            UrlSigner::new(b"other").verify(job, 1000, sig, 999),
            Err(SignatureError::Invalid)
        );
        assert_eq!(s.verify(job, 1000, "zz", 999), Err(SignatureError::Invalid));
    }

    #[test]
    fn webhook_signature_matches_a_known_vector() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec",b"1700000000.{}",hashlib.sha256).hexdigest())'
        assert_eq!(
            webhook_signature("whsec", 1_700_000_000, "{}"),
            "sha256=7d44587dddbaf4c7f70fef20f48cd594834ffea1641e3ac227b84408298738af"
        );
    }
}
