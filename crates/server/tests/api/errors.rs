//! Every error status in its contract shape, and refunds on failure.

use cutout_store::Scope;
use serde_json::{json, Value};

use crate::helpers::*;

async fn body(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

#[tokio::test]
async fn unauthorized_shapes() {
    let app = spawn_app(|_| {}).await;
    let r = app
        .client
        .post(app.url("/api/v1/upload"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        body(r).await,
        (
            401,
            json!({"error": "unauthorized", "message": "API key missing"})
        )
    );
    let r = app
        .with_key(reqwest::Method::GET, "/api/v1/status?job_id=x", "ck_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(
        body(r).await,
        (
            401,
            json!({"error": "unauthorized", "message": "API key invalid"})
        )
    );
    let r = app
        .client
        .get(app.url("/api/v1/account"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "Bearer works too");
}

#[tokio::test]
async fn bad_bodies_are_400() {
    let app = spawn_app(|_| {}).await;
    let r = app
        .post("/api/v1/upload")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (s, b) = body(r).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("bad_request")));
    let r = app
        .post("/api/v1/upload")
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn validation_errors_name_their_fields() {
    let app = spawn_app(|_| {}).await;
    let fx = fixture().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "file"),
        (json!({"file_url": "ftp://example.com/a.jpg"}), "file_url"),
        (
            json!({"file_url": format!("{}/person.jpg", fx.base), "mode": "magic"}),
            "mode",
        ),
        (
            json!({"file_url": format!("{}/person.jpg", fx.base), "mode": "params"}),
            "params",
        ),
        (
            json!({"file_url": format!("{}/person.jpg", fx.base), "delivery_mode": "email"}),
            "delivery_mode",
        ),
        (
            json!({"file_url": format!("{}/person.jpg", fx.base), "output_format": "gif"}),
            "output_format",
        ),
        (
            json!({"file_url": format!("{}/person.jpg", fx.base), "model": "gpt"}),
            "model",
        ),
        (
            json!({"file_url": format!("{}/person.jpg", fx.base), "mode": "background", "bg_color": "nope"}),
            "bg_color",
        ),
    ];
    for (req, field) in cases {
        let (s, b) = body(app.post("/api/v1/upload").json(&req).send().await.unwrap()).await;
        assert_eq!((s, b["error"].as_str()), (422, Some("validation")), "{req}");
        assert!(b["details"][field].is_array(), "{req} → {b}");
    }
    // Both file and file_url; a text file named .jpg; nothing was charged.
    let r = app
        .upload_file(PERSON, &[("file_url", "https://example.com/a.jpg")])
        .await;
    assert_eq!(
        body(r).await.1["details"]["file"][0],
        "give file or file_url, not both"
    );
    let (s, b) = body(app.upload_file(b"hello, I am text", &[]).await).await;
    assert_eq!(s, 422);
    assert!(
        b["details"]["file"][0]
            .as_str()
            .unwrap()
            .contains("unsupported"),
        "{b}"
    );
    assert_eq!(app.balance().await, 100);
}

#[tokio::test]
async fn limits_are_enforced_before_work() {
    let app = spawn_app(|c| {
        c.limits.max_input_bytes = 50_000;
    })
    .await;
    let r = app.upload_file(PERSON, &[]).await;
    assert_eq!(r.status(), 413, "73 KB over a 50 KB limit");
    let bomb = cutout_testkit::fixtures::BOMB_PNG;
    let (s, b) = body(app.upload_file(bomb, &[]).await).await;
    assert_eq!(s, 422);
    assert!(
        b["details"]["file"][0].as_str().unwrap().contains("30000"),
        "{b}"
    );
}

#[tokio::test]
async fn insufficient_credits_is_402() {
    let app = spawn_app(|_| {}).await;
    let (key, _, _) = create_key(&app.state, 0, &[Scope::All]).await;
    let r = app
        .with_key(reqwest::Method::POST, "/api/v1/upload", &key)
        .json(&json!({"file_url": "https://example.com/a.jpg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        body(r).await,
        (402, json!({"error": "insufficient_credits"}))
    );
}

#[tokio::test]
async fn unknown_and_foreign_jobs_are_404() {
    let app = spawn_app(|_| {}).await;
    let job = app.queue(&[]).await;
    for id in ["nope", "0190a3c4-0000-7000-8000-000000000000"] {
        let r = app
            .get(&format!("/api/v1/status?job_id={id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(body(r).await, (404, json!({"error": "not_found"})));
    }
    let (other, _, _) = create_key(&app.state, 5, &[Scope::All]).await;
    let r = app
        .with_key(
            reqwest::Method::GET,
            &format!("/api/v1/status?job_id={job}"),
            &other,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "another account's job is not found, not forbidden"
    );
}

#[tokio::test]
async fn a_key_without_the_scope_is_403() {
    let app = spawn_app(|_| {}).await;
    let (reader, _, _) = create_key(&app.state, 5, &[Scope::ImagesRead]).await;
    let r = app
        .with_key(reqwest::Method::POST, "/api/v1/upload", &reader)
        .json(&json!({"file_url": "https://example.com/a.jpg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A key scoped to presets only may not read jobs either.
    let job = app.queue(&[]).await;
    let (presets, _, _) = create_key(&app.state, 5, &[Scope::ParamsWrite]).await;
    let r = app
        .with_key(
            reqwest::Method::GET,
            &format!("/api/v1/status?job_id={job}"),
            &presets,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn rate_limit_is_429_with_headers() {
    let app = spawn_app(|c| {
        c.limits.rate_limit_per_minute = 60;
        c.limits.rate_limit_burst = 2;
    })
    .await;
    for left in ["1", "0"] {
        let r = app.get("/api/v1/account").send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-ratelimit-remaining"], left);
        assert_eq!(r.headers()["x-ratelimit-limit"], "2");
    }
    let r = app.get("/api/v1/account").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    assert!(r.headers().contains_key("x-ratelimit-reset"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "rate_limited");
}

/// On a shared database, a key's bucket is one across API nodes: a burst split over two nodes
/// gets 429 at the global limit, not at twice it. (An embedded node limits in memory; it is
/// the only node.)
#[tokio::test]
async fn rate_limits_hold_across_api_nodes() {
    if std::env::var("CUTOUT_TEST_DATABASE").as_deref() != Ok("postgres") {
        eprintln!("skipped: runs with CUTOUT_TEST_DATABASE=postgres (scripts/test.sh does)");
        return;
    }
    let a = spawn_app(|c| {
        c.limits.rate_limit_per_minute = 1;
        c.limits.rate_limit_burst = 4;
    })
    .await;
    let b = a.another_node().await;
    let mut statuses = Vec::new();
    for i in 0..10 {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = node.get("/api/v1/account").send().await.unwrap();
        statuses.push(r.status().as_u16());
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((ok, limited), (4, 6), "{statuses:?}");
}

#[tokio::test]
async fn a_full_queue_is_503_with_retry_after() {
    let app = spawn_app(|c| c.limits.max_pending_jobs = 1).await;
    app.queue(&[]).await;
    let r = app.upload_file(PERSON, &[]).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(app.balance().await, 99, "the refused job was not charged");
}

#[tokio::test]
async fn a_corrupt_image_fails_at_once_and_is_refunded() {
    let app = spawn_app(|_| {}).await;
    // The header is intact (so the upload is accepted) but the data stops half way.
    let truncated = &PERSON[..PERSON.len() / 2];
    let r = app.upload_file(truncated, &[]).await;
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.balance().await, 99);
    app.drain().await;
    let s = app.status(&job).await;
    assert_eq!(
        (s["state"].as_str(), s["status"].as_str()),
        (Some("done"), Some("failed"))
    );
    assert_eq!(s["error"]["code"], "corrupt_image");
    assert_eq!(s["final_url"], Value::Null);
    assert_eq!(app.balance().await, 100, "refunded");
    let d: Value = app
        .get(&format!("/api/v1/jobs/{job}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["attempts"], 1, "an input error is not retried");
}

#[tokio::test]
async fn a_transient_fetch_error_retries_then_fails_with_one_refund() {
    let app = spawn_app(|c| c.jobs.max_attempts = 2).await;
    // Nothing listens on port 9 (discard): a connection error, which is worth retrying.
    let r = app
        .post("/api/v1/upload")
        .json(&json!({"file_url": "http://127.0.0.1:9/x.jpg"}))
        .send()
        .await
        .unwrap();
    let job = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.drain().await, 2, "two attempts");
    let s = app.status(&job).await;
    assert_eq!(
        (s["status"].as_str(), s["error"]["code"].as_str()),
        (Some("failed"), Some("fetch_network"))
    );
    assert_eq!(app.balance().await, 100);
}

/// A body that is not the JSON object `POST /v1/jobs` takes is a 400 in the video family's
/// structured shape, with the request id, not axum's plain-text rejection.
#[tokio::test]
async fn malformed_video_job_bodies_get_the_structured_error() {
    let app = spawn_app(|_| {}).await;
    let cases: [(&str, &str); 4] = [
        ("application/json", "{\"video_url\": "),
        ("application/json", "[1, 2, 3]"),
        ("application/json", ""),
        (
            "text/plain",
            "{\"video_url\": \"https://example.com/a.mp4\"}",
        ),
    ];
    for (ctype, body) in cases {
        let r = app
            .post("/v1/jobs")
            .header("content-type", ctype)
            .header("x-request-id", "req-malformed")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let b: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{ctype} {body:?}: not JSON ({e}): {text}"));
        assert_eq!(status, 400, "{ctype} {body:?}: {b}");
        assert_eq!(b["error"]["code"], "invalid_request", "{b}");
        assert_eq!(b["error"]["request_id"], "req-malformed", "{b}");
        assert!(
            !b["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{b}"
        );
    }
}
