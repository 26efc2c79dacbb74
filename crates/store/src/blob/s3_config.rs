//! `[storage.blobs] type = "s3"`: an S3-compatible bucket shared by every node.

use serde::{Deserialize, Serialize};

use crate::Secret;

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

impl S3Config {
    /// `BUCKET?endpoint=URL&region=R&public_url=URL&create_bucket=true`; credentials from
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub(crate) fn from_url(rest: &str) -> Result<Self, crate::StoreError> {
        let bad = |why: &str| crate::StoreError::Config(format!("s3://{rest}: {why}"));
        let (bucket, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut c = S3Config {
            endpoint: String::new(),
            bucket: bucket.trim_end_matches('/').to_owned(),
            region: default_region(),
            access_key_id: std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default(),
            secret_access_key: Secret::new(
                std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
            ),
            public_url: None,
            create_bucket: false,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| bad("parameters are key=value"))?;
            match k {
                "endpoint" => c.endpoint = v.to_owned(),
                "region" => c.region = v.to_owned(),
                "public_url" => c.public_url = Some(v.to_owned()),
                "create_bucket" => c.create_bucket = v == "true",
                _ => return Err(bad(&format!("unknown parameter {k:?}"))),
            }
        }
        if c.bucket.is_empty() || c.endpoint.is_empty() {
            return Err(bad("give the bucket and ?endpoint=URL"));
        }
        if c.access_key_id.is_empty() || c.secret_access_key.is_empty() {
            return Err(bad("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));
        }
        Ok(c)
    }
}

fn default_region() -> String {
    "us-east-1".into()
}
