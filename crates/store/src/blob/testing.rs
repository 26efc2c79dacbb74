//! Test support: a bucket of its own per test on the tests' S3 server. The test command
//! (`scripts/test.sh`) starts SeaweedFS and names it in `CUTOUT_TEST_S3_ENDPOINT`, with the
//! credentials in `CUTOUT_TEST_S3_ACCESS_KEY` and `CUTOUT_TEST_S3_SECRET_KEY`.

use crate::{S3Config, Secret};

/// The configuration of a new bucket (created when the store opens), or `None` when the test
/// command has not started an S3 server.
pub fn fresh_bucket() -> Option<S3Config> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Some(S3Config {
        endpoint: var("CUTOUT_TEST_S3_ENDPOINT")?,
        bucket: format!("cutout-test-{}", uuid::Uuid::new_v4().simple()),
        region: "us-east-1".into(),
        access_key_id: var("CUTOUT_TEST_S3_ACCESS_KEY")?,
        secret_access_key: Secret::new(var("CUTOUT_TEST_S3_SECRET_KEY")?),
        public_url: None,
        create_bucket: true,
    })
}
