//! The shared conformance suites on the embedded backends.

use cutout_store::conformance::{blob_suite, repo_suite};

#[tokio::test]
async fn sqlite_repo_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db/cutout.db").display());
    repo_suite(cutout_store::open_repo(&url, 4).await.unwrap()).await;
}

#[tokio::test]
async fn local_blobs_conform() {
    let dir = tempfile::tempdir().unwrap();
    blob_suite(
        cutout_store::open_blobs(dir.path().to_str().unwrap())
            .await
            .unwrap(),
    )
    .await;
}
