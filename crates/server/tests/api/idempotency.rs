//! `Idempotency-Key`: a retry returns the first response and charges nothing again.

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn json_retries_replay_and_different_bodies_conflict() {
    let app = spawn_app(|_| {}).await;
    let send = |body: Value| {
        app.post("/api/v1/upload")
            .header("idempotency-key", "order-42")
            .json(&body)
            .send()
    };
    let first = send(json!({"file_url": "https://example.com/a.jpg", "mode": "clipping"}))
        .await
        .unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    // Same request, keys in another order: the same job comes back.
    let again = send(json!({"mode": "clipping", "file_url": "https://example.com/a.jpg"}))
        .await
        .unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.balance().await, 99, "charged once");
    let other = send(json!({"file_url": "https://example.com/b.jpg"}))
        .await
        .unwrap();
    assert_eq!(other.status(), 422);
    assert!(other.json::<Value>().await.unwrap()["details"]["idempotency_key"].is_array());
    assert_eq!(app.state.repo.pending_count().await.unwrap(), 1, "one job");
}

#[tokio::test]
async fn multipart_retries_replay_despite_new_boundaries() {
    let app = spawn_app(|_| {}).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(PERSON.to_vec()).file_name("p.jpg"),
            )
            .text("output_format", "webp");
        let r = app
            .post("/api/v1/upload")
            .header("idempotency-key", "upload-1")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        ids.push(r.json::<Value>().await.unwrap()["job_id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(app.balance().await, 99);
}

#[tokio::test]
async fn concurrent_retries_create_one_job() {
    let app = spawn_app(|_| {}).await;
    let body = json!({"file_url": "https://example.com/a.jpg"});
    let reqs = (0..8).map(|_| {
        app.post("/api/v1/upload")
            .header("idempotency-key", "burst")
            .json(&body)
            .send()
    });
    let answers = futures_util::future::join_all(reqs).await;
    let mut ids = std::collections::HashSet::new();
    for a in answers {
        let a = a.unwrap();
        assert_eq!(a.status(), 202);
        ids.insert(
            a.json::<Value>().await.unwrap()["job_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.balance().await, 99);
}

#[tokio::test]
async fn preset_creation_is_idempotent_too() {
    let app = spawn_app(|_| {}).await;
    let body = json!({"name": "shop", "params": {"bg_color": "#ffffff"}});
    let a = app
        .post("/api/v1/params")
        .header("idempotency-key", "p1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 201);
    let b = app
        .post("/api/v1/params")
        .header("idempotency-key", "p1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(b.status(), 201, "the first response is replayed");
    assert_eq!(b.headers()["idempotent-replayed"], "true");
}
