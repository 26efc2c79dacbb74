//! The asset store through the spawned server: CRUD, pagination, scopes (403) and tenants (404).

use cutout_store::Scope;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Uploads `bytes` as an asset with optional custom data; expects 201.
pub async fn upload_asset(app: &TestApp, key: &str, bytes: &[u8], custom: Option<Value>) -> Value {
    let r = upload_asset_raw(app, key, bytes, custom).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

pub async fn upload_asset_raw(
    app: &TestApp,
    key: &str,
    bytes: &[u8],
    custom: Option<Value>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("person.jpg"),
    );
    if let Some(c) = custom {
        form = form.text("custom_data", c.to_string());
    }
    app.with_key(Method::POST, "/api/v1/assets", key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The structured error code of a response, with its status.
pub async fn error_of(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let b: Value = r.json().await.unwrap();
    (
        status,
        b["error"]["code"].as_str().unwrap_or_default().to_owned(),
        b["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn assets_upload_read_list_patch_and_delete() {
    let app = spawn_app(|_| {}).await;
    let a = upload_asset(&app, &app.key, PERSON, Some(json!({"team": "red", "n": 1}))).await;
    let id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(a["content_type"], "image/jpeg");
    assert_eq!(a["name"], "person.jpg");
    assert_eq!(a["size"], PERSON.len());
    assert!(a["width"].as_u64().unwrap() > 100);
    assert_eq!(a["custom_data"], json!({"team": "red", "n": 1}));
    assert_eq!(a["source_asset_id"], Value::Null);

    let got = app.get_json(&format!("/api/v1/assets/{id}")).await;
    assert_eq!(got["id"], a["id"]);
    assert_eq!(got["conversions"], json!([]));
    let file = app
        .get(&format!("/api/v1/assets/{id}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(file.headers()["content-type"], "image/jpeg");
    assert_eq!(&file.bytes().await.unwrap()[..], PERSON);

    // Newest first, two per page.
    let b = upload_asset(&app, &app.key, PERSON, None).await;
    let c = upload_asset(&app, &app.key, PERSON, None).await;
    let page = app.get_json("/api/v1/assets?limit=2").await;
    let ids: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["id"])
        .collect();
    assert_eq!(ids, [&c["id"], &b["id"]]);
    assert_eq!(page["has_more"], true);
    let next = page["next_cursor"].as_str().unwrap();
    let page2 = app
        .get_json(&format!("/api/v1/assets?limit=2&cursor={next}"))
        .await;
    assert_eq!(page2["data"][0]["id"], a["id"]);
    assert_eq!(
        (page2["has_more"].clone(), page2["next_cursor"].clone()),
        (json!(false), Value::Null)
    );
    let bad = app.get("/api/v1/assets?limit=0").send().await.unwrap();
    assert_eq!(error_of(bad).await.0, 400);

    // A merge patch: null removes, objects merge.
    let r = app
        .with_key(Method::PATCH, &format!("/api/v1/assets/{id}"), &app.key)
        .json(&json!({"custom_data": {"team": null, "owner": "ann"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["custom_data"],
        json!({"n": 1, "owner": "ann"})
    );
    for bad in [
        json!({"custom_data": [1]}),
        json!({"other": {}}),
        json!("text"),
    ] {
        let r = app
            .with_key(Method::PATCH, &format!("/api/v1/assets/{id}"), &app.key)
            .json(&bad)
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_of(r).await;
        assert_eq!((status, code.as_str()), (400, "invalid_request"), "{bad}");
    }

    let r = app
        .with_key(Method::DELETE, &format!("/api/v1/assets/{id}"), &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    for path in [
        format!("/api/v1/assets/{id}"),
        format!("/api/v1/assets/{id}/file"),
    ] {
        let (status, code, _) = error_of(app.get(&path).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (404, "not_found"), "{path}");
    }
    assert!(
        !app.blob_dir()
            .join(format!("assets/{id}/original"))
            .exists(),
        "the original's blob is deleted"
    );
}

#[tokio::test]
async fn assets_refuse_what_is_not_an_image() {
    let app = spawn_app(|_| {}).await;
    let (status, code, msg) =
        error_of(upload_asset_raw(&app, &app.key, b"just text, not a picture", None).await).await;
    assert_eq!((status, code.as_str()), (400, "invalid_request"), "{msg}");
    let (status, _, msg) = error_of(
        upload_asset_raw(&app, &app.key, PERSON, Some(json!(["not", "an", "object"]))).await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(msg.contains("custom_data"), "{msg}");
    let r = app
        .post("/api/v1/assets")
        .multipart(reqwest::multipart::Form::new().text("name", "x"))
        .send()
        .await
        .unwrap();
    let (status, _, msg) = error_of(r).await;
    assert_eq!(status, 400);
    assert!(msg.contains("file"), "{msg}");
}

#[tokio::test]
async fn scopes_give_403_and_other_accounts_get_404() {
    let app = spawn_app(|_| {}).await;
    let a = upload_asset(&app, &app.key, PERSON, None).await;
    let id = a["id"].as_str().unwrap();

    let r = app
        .client
        .get(app.url("/api/v1/assets"))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(r).await;
    assert_eq!((status, code.as_str()), (401, "invalid_api_key"));

    let (reader, _, _) = create_key(&app.state, 10, &[Scope::AssetsRead]).await;
    let ok = app
        .with_key(Method::GET, "/api/v1/assets", &reader)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let (status, code, _) = error_of(upload_asset_raw(&app, &reader, PERSON, None).await).await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));
    let r = app
        .with_key(Method::DELETE, &format!("/api/v1/assets/{id}"), &reader)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, 403);
    let (writer, _, _) = create_key(&app.state, 10, &[Scope::ImagesWrite]).await;
    let r = app
        .with_key(Method::GET, "/api/v1/assets", &writer)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, 403);

    // Another account, with every scope, cannot see, change or use this asset.
    let (other, _, _) = create_key(&app.state, 10, &[Scope::All]).await;
    let probes = [
        (Method::GET, format!("/api/v1/assets/{id}")),
        (Method::GET, format!("/api/v1/assets/{id}/file")),
        (Method::GET, format!("/api/v1/assets/{id}/conversions")),
        (Method::DELETE, format!("/api/v1/assets/{id}")),
        (Method::GET, format!("/api/v1/assets/{id}/addons/bg_remove")),
    ];
    for (m, path) in probes {
        let (status, code, _) =
            error_of(app.with_key(m.clone(), &path, &other).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (404, "not_found"), "{m} {path}");
    }
    let r = app
        .with_key(Method::PATCH, &format!("/api/v1/assets/{id}"), &other)
        .json(&json!({"custom_data": {"x": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, 404);
    let listed: Value = app
        .with_key(Method::GET, "/api/v1/assets", &other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"], json!([]));
    // The owner still has it, untouched.
    let got = app.get_json(&format!("/api/v1/assets/{id}")).await;
    assert_eq!(got["custom_data"], json!({}));
}
