//! `[storage.blobs] type = "s3"`: an S3-compatible bucket shared by every node.

use serde::{Deserialize, Serialize};

use super::Secret;

/// Where the bucket is and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Config {
    /// `https://s3.eu-west-1.amazonaws.com`, or a SeaweedFS/MinIO address such as
    /// `http://127.0.0.1:8333`. Requests are path-style (`endpoint/bucket/key`).
    pub endpoint: String,
    pub bucket: String,
    /// Default: `us-east-1`.
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// The base of published results' permanent URLs (`delivery_mode=final_url`): a CDN or the
    /// bucket's public address. Default: `endpoint/bucket`, which must then allow anonymous
    /// reads under `public/`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Create the bucket on start when it is missing. Default: false.
    #[serde(default)]
    pub create_bucket: bool,
}

fn default_region() -> String {
    "us-east-1".into()
}
