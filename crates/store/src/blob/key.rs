//! Blob keys, and the one place their layout is decided: every key the service writes is made
//! here from typed ids, so no other module formats or re-parses one.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{AssetId, JobId, VideoId};
use crate::StoreError;

/// A blob's key: `/`-separated segments of `[A-Za-z0-9._-]`, no `..`. Parsed once, so a backend
/// can map it to a path or an object name without escaping.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobKey(String);

impl BlobKey {
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let ok = !s.is_empty()
            && s.len() <= 512
            && s.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(StoreError::BadKey(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BlobKey {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Self, StoreError> {
        Self::parse(&s)
    }
}

impl From<BlobKey> for String {
    fn from(k: BlobKey) -> String {
        k.0
    }
}

/// The layout. Ids are hyphenated UUIDs and extensions come from a closed set, so every key
/// made here is valid by construction.
impl BlobKey {
    fn made(s: String) -> Self {
        debug_assert!(Self::parse(&s).is_ok(), "{s:?}");
        Self(s)
    }

    /// An uploaded image job input.
    pub fn job_input(job: JobId) -> Self {
        Self::made(format!("inputs/{job}"))
    }

    /// A job's result, served through a signed link.
    pub fn job_result(job: JobId, ext: &'static str) -> Self {
        Self::made(format!("results/{job}.{ext}"))
    }

    /// A published result: `token` (hex) makes the path unguessable, since the public base
    /// serves everything under `public/` without a key.
    pub fn published(job: JobId, token: &[u8; 16], ext: &'static str) -> Self {
        Self::made(format!("public/{job}/{}.{ext}", hex::encode(token)))
    }

    /// An uploaded video.
    pub fn video_source(video: VideoId) -> Self {
        Self::made(format!("videos/{video}/source"))
    }

    /// An asset's original file.
    pub fn asset_original(asset: AssetId) -> Self {
        Self::made(format!("assets/{asset}/original"))
    }

    /// A fresh version of an asset's conversion (never reused, so readers of the old one are
    /// safe). `None` when `name` is not a valid key segment.
    pub fn asset_conversion(asset: AssetId, name: &str) -> Option<Self> {
        let version = uuid::Uuid::now_v7().simple();
        Self::parse(&format!("assets/{asset}/conversions/{name}/{version}.png")).ok()
    }

    /// An add-on's PNG answer, staged for a background save or an idempotent replay.
    pub fn addon_staged(id: JobId) -> Self {
        Self::made(format!("addons/{id}.png"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_root() {
        for bad in [
            "", "/abs", "a/../b", "..", "a//b", "a/./b", "a b", "a\\b", "é",
        ] {
            assert!(BlobKey::parse(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["inputs/019c.jpg", "public/x/y_z-1.png"] {
            assert!(BlobKey::parse(good).is_ok(), "{good:?} refused");
        }
    }
}
