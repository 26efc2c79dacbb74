//! Health, metrics, models, the API description and request ids.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn health_metrics_and_models() {
    let app = spawn_app(|_| {}).await;
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready: Value = app.public_json("/readyz").await;
    assert_eq!(ready["database"], "ok");
    let models: Value = app.public_json("/v1/models").await;
    let u2netp = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "u2netp")
        .expect("u2netp listed");
    assert_eq!(u2netp["licence"], "Apache-2.0");
    app.queue(&[]).await;
    app.drain().await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "cutout_http_requests_total{method=\"POST\",route=\"/api/v1/upload\",status=\"202\"} 1",
        "cutout_queue_depth 0",
        "cutout_jobs{name=\"completed\"} 1",
        "cutout_inference_duration_seconds_count{name=\"u2netp\"} 1",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[tokio::test]
async fn request_ids_are_generated_or_propagated() {
    let app = spawn_app(|_| {}).await;
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = app
        .client
        .get(app.url("/api/v1/account"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(!r.headers()["x-request-id"].is_empty());
}

#[tokio::test]
async fn openapi_describes_every_route_and_docs_are_offline() {
    let app = spawn_app(|_| {}).await;
    let spec: Value = app.public_json("/openapi.json").await;
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/api/v1/upload",
        "/api/v1/status",
        "/api/v1/jobs/{id}",
        "/api/v1/params",
        "/api/v1/params/{name}",
        "/api/v1/account",
        "/api/v1/results/{id}",
        "/files/{key}",
        "/v1/models",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/assets",
        "/api/v1/assets/{id}",
        "/api/v1/assets/{id}/file",
        "/api/v1/assets/{id}/conversions/{name}",
        "/api/v1/assets/file/addons/bg_remove",
        "/api/v1/assets/{id}/addons/bg_remove",
        "/v1/uploads",
        "/api/upload",
        "/v1/jobs",
        "/v1/jobs/{id}",
        "/v1/jobs/{id}/cancel",
        "/api/download/{id}",
        "/v1/usage/summary",
        "/v1/usage/events",
    ] {
        assert!(paths.contains_key(p), "{p} not in openapi.json");
    }
    let html = app
        .client
        .get(app.url("/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("/openapi.json"));
    for external in ["src=\"http", "href=\"http", "@import", "//cdn", "https://"] {
        assert!(!html.contains(external), "docs page references {external}");
    }
}

/// `/v1/models` lists the video-only (recurrent) models too, marked as such.
#[tokio::test]
async fn models_lists_video_only_models() {
    let app = spawn_app(|_| {}).await;
    let models: Value = app.public_json("/v1/models").await;
    let list = models["models"].as_array().unwrap();
    let find = |name: &str| list.iter().find(|m| m["name"] == name).cloned();
    let rvm = find("rvm").unwrap_or_else(|| panic!("rvm missing: {models}"));
    assert_eq!(
        (rvm["media"].as_str(), rvm["licence"].as_str()),
        (Some("video"), Some("GPL-3.0"))
    );
    let u2netp = find("u2netp").unwrap();
    assert_eq!(u2netp["media"], "image");
    assert_eq!(list.len(), 3, "{models}");
}
