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

/// A file larger than one upload part (videos) goes up in parts and comes back whole.
pub async fn large_files_go_up_in_parts(blobs: &dyn BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    let data: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    let key = BlobKey::parse("videos/big/source").unwrap();
    assert_eq!(blobs.put_file(&key, &src).await.unwrap(), data.len() as u64);
    assert_eq!(blobs.size(&key).await.unwrap(), Some(data.len() as u64));
    let back = dir.path().join("back.bin");
    assert_eq!(
        blobs.get_to_file(&key, &back).await.unwrap(),
        Some(data.len() as u64)
    );
    assert!(
        std::fs::read(&back).unwrap() == data,
        "the blob came back changed"
    );
}

/// Where the backend hands out URLs (a bucket's public URL, presigned GETs), they serve the
/// blob without this server; a tampered signature is refused.
pub async fn handed_out_urls_serve_the_blob(blobs: &dyn BlobStore) {
    let http = reqwest::Client::new();
    let key = BlobKey::parse("public/j/abc.png").unwrap();
    blobs
        .put_bytes(&key, Bytes::from_static(b"published"))
        .await
        .unwrap();
    if let Some(url) = blobs.public_url(&key) {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(&r.bytes().await.unwrap()[..], b"published");
    }
    let private = BlobKey::parse("results/j.png").unwrap();
    blobs
        .put_bytes(&private, Bytes::from_static(b"signed"))
        .await
        .unwrap();
    let ttl = std::time::Duration::from_secs(60);
    if let Some(url) = blobs.presigned_get(&private, ttl) {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(&r.bytes().await.unwrap()[..], b"signed");
        let tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=61");
        let r = http.get(&tampered).send().await.unwrap();
        assert_eq!(r.status(), 403, "a changed signed field must be refused");
    }
}

/// Listing finds every blob under a prefix, and only those.
pub async fn lists_by_prefix(blobs: &dyn BlobStore) {
    for k in [
        "assets/a/file",
        "assets/a/conversions/bg/1",
        "assets/b/file",
        "jobs/j/input",
    ] {
        let key = BlobKey::parse(k).unwrap();
        blobs
            .put_bytes(&key, Bytes::from_static(b"x"))
            .await
            .unwrap();
    }
    let names = |keys: Vec<BlobKey>| {
        let mut v: Vec<String> = keys.iter().map(|k| k.as_str().to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(
        names(blobs.list("assets/a/").await.unwrap()),
        ["assets/a/conversions/bg/1", "assets/a/file"]
    );
    assert_eq!(blobs.list("").await.unwrap().len(), 4);
    assert!(blobs.list("videos/").await.unwrap().is_empty());
}
