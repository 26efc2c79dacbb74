//! What every blob store must do, each check on a fresh, empty store (see `main.rs`).

use bytes::Bytes;
use cutout_store::*;

/// Writes replace whole blobs; deleting twice is fine.
pub async fn bytes_round_trip_and_replace(blobs: &dyn BlobStore) {
    let key = BlobKey::parse("results/a/b.png").unwrap();
    assert_eq!(blobs.get(&key).await.unwrap(), None);
    blobs
        .put_bytes(&key, Bytes::from_static(b"one"))
        .await
        .unwrap();
    assert_eq!(blobs.get(&key).await.unwrap().as_deref(), Some(&b"one"[..]));
    blobs
        .put_bytes(&key, Bytes::from_static(b"two!"))
        .await
        .unwrap();
    assert_eq!(
        blobs.get(&key).await.unwrap().as_deref(),
        Some(&b"two!"[..])
    );
    blobs.delete(&key).await.unwrap();
    blobs.delete(&key).await.unwrap();
    assert_eq!(blobs.get(&key).await.unwrap(), None);
}

/// Files go in and come out without the blob held in memory; a missing blob is `None`.
pub async fn files_stream_in_and_out(blobs: &dyn BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.bin");
    std::fs::write(&src, vec![7u8; 100_000]).unwrap();
    let key2 = BlobKey::parse("inputs/x.bin").unwrap();
    assert_eq!(blobs.put_file(&key2, &src).await.unwrap(), 100_000);
    assert_eq!(blobs.get(&key2).await.unwrap().unwrap().len(), 100_000);
    let copy = dir.path().join("copy.bin");
    assert_eq!(
        blobs.get_to_file(&key2, &copy).await.unwrap(),
        Some(100_000)
    );
    assert_eq!(std::fs::read(&copy).unwrap(), vec![7u8; 100_000]);
    let missing = BlobKey::parse("inputs/missing.bin").unwrap();
    assert_eq!(blobs.get_to_file(&missing, &copy).await.unwrap(), None);
    assert_eq!(blobs.size(&key2).await.unwrap(), Some(100_000));
    assert_eq!(blobs.size(&missing).await.unwrap(), None);
}

/// A range is clipped to the blob's end; a missing blob is `None`.
pub async fn ranges_read_part_of_a_blob(blobs: &dyn BlobStore) {
    let key = BlobKey::parse("videos/r/source").unwrap();
    let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    blobs
        .put_bytes(&key, Bytes::from(data.clone()))
        .await
        .unwrap();
    let got = blobs.get_range(&key, 100..164).await.unwrap().unwrap();
    assert_eq!(&got[..], &data[100..164]);
    let tail = blobs.get_range(&key, 9_990..20_000).await.unwrap().unwrap();
    assert_eq!(&tail[..], &data[9_990..]);
    let past = blobs
        .get_range(&key, 20_000..20_010)
        .await
        .unwrap()
        .unwrap();
    assert!(past.is_empty());
    let missing = BlobKey::parse("videos/none/source").unwrap();
    assert_eq!(blobs.get_range(&missing, 0..10).await.unwrap(), None);
}

/// A healthy store says so; a public URL, where the backend has them, names the key.
pub async fn health_and_urls(blobs: &dyn BlobStore) {
    blobs.health().await.unwrap();
    let key = BlobKey::parse("public/j/abc.png").unwrap();
    if let Some(url) = blobs.public_url(&key) {
        assert!(url.ends_with("public/j/abc.png"), "{url}");
    }
}
