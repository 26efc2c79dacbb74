//! Health, metrics, models, the API description and request ids.

use std::collections::BTreeSet;

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
    assert_eq!(
        (ready["database"].as_str(), ready["blobs"].as_str()),
        (Some("ok"), Some("ok"))
    );
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
async fn docs_are_offline() {
    let app = spawn_app(|_| {}).await;
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

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `{id}`, `{*key}` and `{name}` all become `{}`: the router and the document may name a
/// parameter differently, but not place it differently.
fn normalise(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every `.route("path", get(..).post(..))` in the API families' source, as (METHOD, path).
fn routed() -> BTreeSet<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut sources = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api"),
        &mut sources,
    );
    let mut routes = BTreeSet::new();
    for src in sources {
        for (start, _) in src.match_indices(".route(") {
            // The call's text, up to its closing parenthesis.
            let rest = &src[start + ".route(".len()..];
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap();
            let call = &rest[..end];
            let path = call.split('"').nth(1).unwrap();
            let handlers = &call[call.find(',').unwrap()..];
            for m in METHODS {
                let calls = handlers
                    .match_indices(&format!("{m}("))
                    .filter(|(i, _)| {
                        let before = handlers[..*i].chars().last();
                        matches!(before, Some('.' | ' ' | '\n' | ','))
                    })
                    .count();
                if calls > 0 {
                    routes.insert((m.to_uppercase(), normalise(path)));
                }
            }
        }
    }
    routes
}

/// The router and `/openapi.json` list the same operations, and each documented one reaches a
/// handler (the router's own answers to an unknown path or method are an empty 404 and a 405).
#[tokio::test]
async fn openapi_and_the_router_agree() {
    let app = spawn_app(|_| {}).await;
    let spec: Value = app.public_json("/openapi.json").await;
    let mut documented = BTreeSet::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for m in ops.as_object().unwrap().keys() {
            if METHODS.contains(&m.as_str()) {
                documented.insert((m.to_uppercase(), normalise(path)));
            }
        }
    }
    let routed = routed();
    assert!(
        routed.len() > 25,
        "the route scan found too little: {routed:?}"
    );
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not in openapi.json: {undocumented:?}; documented but not routed: {unrouted:?}"
    );
    for (method, path) in &documented {
        let concrete = path.replace("{}", "x");
        let r = app
            .client
            .request(method.parse().unwrap(), app.url(&concrete))
            .header("x-api-key", &app.key)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        assert!(
            status != 405 && !(status == 404 && body.is_empty()),
            "{method} {path}: the router has no handler ({status})"
        );
    }
}

/// A blob store that cannot take a write makes the node unready (503), saying which part.
#[tokio::test]
async fn readyz_reports_an_unwritable_blob_store() {
    if std::env::var("CUTOUT_TEST_BLOBS").is_ok_and(|b| b != "local") {
        eprintln!(
            "skipped: breaks a local blob directory; the S3 store's health is a conformance check"
        );
        return;
    }
    let app = spawn_app(|_| {}).await;
    std::fs::remove_dir_all(app.blob_dir().join(".tmp")).unwrap();
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["database"].as_str(), body["blobs"].as_str()),
        (Some("ok"), Some("unavailable")),
        "{body}"
    );
}

/// The generated document is valid OpenAPI 3.1, as a client generator would read it.
#[tokio::test]
async fn openapi_is_a_valid_document() {
    cutout_testkit::require!(OpenApiValidator);
    let app = spawn_app(|_| {}).await;
    let text = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(cutout_testkit::tier::python())
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\n\
             validate(json.load(open(sys.argv[1])))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the validator refused /openapi.json: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A node that loses its database answers 503 on `/readyz`, and 200 again once the database is
/// back, without a restart. PostgreSQL only (`CUTOUT_TEST_DATABASE=postgres`, as
/// `scripts/test.sh` runs this suite a second time): an embedded SQLite file cannot go away
/// from under its one process.
#[tokio::test]
async fn readyz_follows_the_database_down_and_back() {
    if std::env::var("CUTOUT_TEST_DATABASE").as_deref() != Ok("postgres") {
        eprintln!("skipped: runs with CUTOUT_TEST_DATABASE=postgres (scripts/test.sh does)");
        return;
    }
    let app = spawn_app(|_| {}).await;
    let ready = || async {
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(ready().await, 200);
    let cutout_store::DatabaseConfig::Postgres { url, .. } = &app.config().storage.database else {
        panic!("CUTOUT_TEST_DATABASE=postgres but the app is not on PostgreSQL");
    };
    let name = url.expose().rsplit('/').next().unwrap().to_owned();
    let admin = cutout_store::postgres::testing::server_url().unwrap();
    let run = |sql: String| {
        let admin = admin.clone();
        async move {
            cutout_store::postgres::testing::admin_execute(&admin, &sql)
                .await
                .unwrap()
        }
    };
    run(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false")).await;
    run(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;
    assert_eq!(ready().await, 503);
    run(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true")).await;
    assert_eq!(ready().await, 200, "the node recovers by itself");
}
