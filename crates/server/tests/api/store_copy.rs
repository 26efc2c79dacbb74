//! `cutout store copy` (`cutout_store::copy_store`): an embedded install (SQLite and a blob
//! directory) with image jobs, a preset, an asset with a conversion, a video job and ledger
//! lines is copied to PostgreSQL + S3; a fresh node there gives the same API answers for the
//! same key, and serves the same bytes.

use serde_json::{json, Value};

use crate::helpers::*;
use cutout_store::{copy_store, BlobsConfig, DatabaseConfig, Secret};
use cutout_testkit::media::make_clip;
use cutout_testkit::require;

/// What a client sees of the install, with links (which name the node or the bucket) removed.
async fn answers(node: &TestApp, key: &str, paths: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for p in paths {
        let r = node
            .with_key(reqwest::Method::GET, p, key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{p}");
        let mut v: Value = r.json().await.unwrap();
        strip_links(&mut v);
        out.push(v);
    }
    out
}

fn strip_links(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in [
                "final_url",
                "final_urls",
                "file_url",
                "url",
                "output_url",
                "download_url",
            ] {
                m.remove(k);
            }
            m.values_mut().for_each(strip_links);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_links),
        _ => {}
    }
}

#[tokio::test]
async fn an_embedded_install_moves_to_postgres_and_s3() {
    require!(Postgres, S3, Ffmpeg);
    if std::env::var("CUTOUT_TEST_DATABASE").is_ok_and(|d| d != "sqlite") {
        eprintln!("skipped: the source is the embedded install (the first pass runs this)");
        return;
    }
    let secret = |c: &mut cutout_server::Config| {
        c.security.signing_secret = Secret::new("shared-by-both-installs");
    };
    let a = spawn_app(secret).await;
    // Image jobs (signed and published results), a preset, a failed-free ledger.
    let signed = a.queue(&[]).await;
    let published = a.queue(&[("delivery_mode", "final_url")]).await;
    let r = a
        .with_key(reqwest::Method::PUT, "/api/v1/params/web", &a.key)
        .json(&json!({"output_format": "webp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // An asset with a conversion saved by the add-on.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(PERSON.to_vec()).file_name("p.jpg"),
    );
    let asset: Value = a
        .post("/api/v1/assets")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let asset_id = asset["id"].as_str().unwrap().to_owned();
    let r = a
        .post(&format!(
            "/api/v1/assets/{asset_id}/addons/bg_remove?mode=save_image&disposition=add_conversion&conversion_name=bg"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // A video job.
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    make_clip(&clip, "testsrc2=size=160x120:rate=15:duration=2", 2, &[]);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(std::fs::read(&clip).unwrap()).file_name("c.mp4"),
    );
    let up: Value = a
        .post("/v1/uploads")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let video: Value = a
        .post("/v1/jobs")
        .json(&json!({"video_id": up["video_id"], "model": "light"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let video_id = video["id"].as_str().unwrap().to_owned();
    a.drain().await;
    let paths: Vec<String> = [
        "/api/v1/account".to_owned(),
        format!("/api/v1/jobs/{signed}"),
        format!("/api/v1/jobs/{published}"),
        "/api/v1/params".to_owned(),
        format!("/api/v1/assets/{asset_id}"),
        format!("/api/v1/assets/{asset_id}/conversions"),
        format!("/v1/jobs/{video_id}"),
        "/v1/usage/events?limit=100".to_owned(),
    ]
    .to_vec();
    let before = answers(&a, &a.key, &paths).await;
    assert_eq!(
        before[7]["events"].as_array().unwrap().len(),
        5,
        "a grant, 2 image jobs, the add-on call, the video: {}",
        before[7]
    );

    // Copy to a fresh PostgreSQL database and bucket.
    let db = cutout_store::postgres::testing::fresh_database(
        &cutout_store::postgres::testing::server_url().unwrap(),
    )
    .await
    .unwrap();
    let to_db = DatabaseConfig::Postgres {
        url: db.url.clone(),
        max_connections: 4,
    };
    let to_blobs = BlobsConfig::S3(cutout_store::blob::testing::fresh_bucket().unwrap());
    let src_blobs = cutout_store::open_blobs(&a.config().storage.blobs)
        .await
        .unwrap();
    let dst_blobs = cutout_store::open_blobs(&to_blobs).await.unwrap();
    let report = copy_store(
        &a.config().storage.database,
        &to_db,
        &*src_blobs,
        &*dst_blobs,
    )
    .await
    .unwrap();
    assert_eq!(
        report.rows["jobs"], 3,
        "2 image jobs and a video job: {report:?}"
    );
    assert_eq!(report.blobs, src_blobs.list("").await.unwrap().len() as u64);
    // A second copy into the same target is refused rather than merged.
    assert!(copy_store(
        &a.config().storage.database,
        &to_db,
        &*src_blobs,
        &*dst_blobs
    )
    .await
    .is_err());

    let b = spawn_app(move |c| {
        secret(c);
        c.storage.database = to_db;
        c.storage.blobs = to_blobs;
    })
    .await;
    let after = answers(&b, &a.key, &paths).await;
    for (i, (x, y)) in before.iter().zip(&after).enumerate() {
        assert_eq!(x, y, "{} differs after the copy", paths[i]);
    }
    // The results' bytes came along: the new node's links serve them.
    for job in [&signed, &published] {
        let s = b
            .with_key(
                reqwest::Method::GET,
                &format!("/api/v1/status?job_id={job}"),
                &a.key,
            )
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let (_, old) = a.result(job).await;
        let new = reqwest::get(s["final_url"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(new.status(), 200);
        assert_eq!(new.bytes().await.unwrap(), old);
    }
}
