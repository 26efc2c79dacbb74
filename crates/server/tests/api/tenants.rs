//! The tenant sweep: every operation of `/openapi.json` that names a resource in its path is
//! called with another account's resource. The answer is always 404: never 403 (that would
//! confirm the id exists), never data.

use cutout_store::Scope;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Account A's resources, one of each kind.
struct Owned {
    image_job: String,
    asset: String,
    video_job: String,
}

async fn resources(app: &TestApp) -> Owned {
    let image_job = app.queue(&[]).await;
    let asset = crate::assets::upload_asset(app, &app.key, PERSON, None).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .with_key(Method::PUT, "/api/v1/params/mine", &app.key)
        .json(&json!({"bg_color": "#ff0000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let dir = tempfile::tempdir().unwrap();
    let up = crate::videos::upload_clip(app, dir.path(), 1).await;
    let job: Value = app
        .post("/v1/jobs")
        .json(&json!({"video_url": up["video_url"], "output_format": "webm", "model": "light"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Owned {
        image_job,
        asset,
        video_job: job["id"].as_str().unwrap().to_owned(),
    }
}

/// The path with A's resource in place of its parameters, or `None` for public operations.
fn concrete(path: &str, owned: &Owned) -> String {
    let id = if path.starts_with("/api/v1/assets/") {
        &owned.asset
    } else if path.starts_with("/api/v1/jobs/") {
        &owned.image_job
    } else {
        &owned.video_job
    };
    path.replace("{id}", id).replace("{name}", "mine")
}

#[tokio::test]
async fn every_route_with_another_accounts_id_is_404() {
    cutout_testkit::require!(Ffmpeg);
    let app = spawn_app(|_| {}).await;
    let owned = resources(&app).await;
    let (other, _, _) = create_key(&app.state, 100, &[Scope::All]).await;
    let spec: Value = app.public_json("/openapi.json").await;
    let mut ops: Vec<(Method, String)> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(m) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            // Public operations (signed result URLs, published files) carry no account.
            let public = op["security"].as_array().is_some_and(Vec::is_empty);
            if path.contains('{') && !public && !op["operationId"].is_null() {
                ops.push((m, path.clone()));
            }
        }
    }
    // The upsert last: once B has a preset of its own named `mine`, B's reads would find it.
    ops.sort_by_key(|(m, _)| *m == Method::PUT);
    let mut swept = Vec::new();
    for (m, path) in ops {
        let method = m.as_str().to_owned();
        {
            let url = concrete(&path, &owned);
            let mut req = app.with_key(m.clone(), &url, &other);
            if m == Method::PUT {
                req = req.json(&json!({"bg_color": "#00ff00"}));
            } else if m == Method::PATCH {
                req = req.json(&json!({"custom_data": {}}));
            } else if m == Method::POST {
                req = req.json(&json!({}));
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            if m == Method::PUT {
                // An upsert in the caller's own namespace: B gets a preset of its own (201), and
                // A's is untouched.
                assert_eq!(status, 201, "{method} {url}: {body}");
            } else {
                assert_eq!(status, 404, "{method} {url} as another account: {body}");
                assert!(!body.contains(&owned.asset) && !body.contains(&owned.image_job));
            }
            swept.push(format!("{method} {path}"));
        }
    }
    // B's DELETE and PATCH changed nothing of A's.
    let asset = app
        .get_json(&format!("/api/v1/assets/{}", owned.asset))
        .await;
    assert_eq!(asset["id"], owned.asset.as_str());
    let a_preset = app.get_json("/api/v1/params/mine").await;
    assert_eq!(a_preset["params"]["bg_color"], "#ff0000", "{a_preset}");
    // Ids in the query string too.
    let r = app
        .with_key(
            Method::GET,
            &format!("/api/v1/status?job_id={}", owned.image_job),
            &other,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    eprintln!("tenant sweep: {} operations: {swept:?}", swept.len());
    assert!(swept.len() >= 15, "{swept:?}");
}
