//! The bg_remove add-on through the spawned server: every mode x disposition, every validation
//! rule, credits, idempotency, a restart before a background save, and concurrent writers.

use cutout_store::Scope;
use reqwest::Method;
use serde_json::{json, Value};

use crate::assets::{error_of, upload_asset};
use crate::helpers::*;

const ON_FILE: &str = "/api/v1/assets/file/addons/bg_remove";

fn image_form(bytes: &[u8]) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("person.jpg"),
    )
}

async fn on_file(app: &TestApp, key: &str, query: &str, bytes: &[u8]) -> reqwest::Response {
    app.with_key(Method::POST, &format!("{ON_FILE}?{query}"), key)
        .multipart(image_form(bytes))
        .send()
        .await
        .unwrap()
}

fn on_asset(id: &str, query: &str) -> String {
    format!("/api/v1/assets/{id}/addons/bg_remove?{query}")
}

async fn asset(app: &TestApp, id: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/assets/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Checks a response is a real cut-out PNG and returns its bytes.
async fn png_of(r: reqwest::Response) -> Vec<u8> {
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let bytes = r.bytes().await.unwrap().to_vec();
    let (_, _, lo, hi) = alpha_range(&bytes);
    assert_eq!((lo, hi), (0, 255), "transparent background, opaque subject");
    bytes
}

async fn conversion_bytes(app: &TestApp, id: &str, name: &str) -> Vec<u8> {
    let r = app
        .get(&format!("/api/v1/assets/{id}/conversions/{name}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn get_image_returns_the_png_charges_once_and_saves_nothing() {
    let app = spawn_app(|_| {}).await;
    png_of(on_file(&app, &app.key, "", PERSON).await).await;
    png_of(on_file(&app, &app.key, "mode=get_image&disposition=ignored", PERSON).await).await;
    assert_eq!(app.balance().await, 98);
    let list = app.get_json("/api/v1/assets").await;
    assert_eq!(list["data"], json!([]));
    // On a stored asset, by GET and by POST with options in a JSON body.
    let a = upload_asset(&app, &app.key, PERSON, None).await;
    let id = a["id"].as_str().unwrap();
    png_of(
        app.get(&on_asset(id, "mode=get_image"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let r = app
        .post(&on_asset(id, ""))
        .json(&json!({"bg_color": "#00ff00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let img = image::load_from_memory(&r.bytes().await.unwrap())
        .unwrap()
        .to_rgba8();
    assert_eq!(
        img.get_pixel(0, 0).0,
        [0, 255, 0, 255],
        "bg_color is applied"
    );
    assert_eq!(app.balance().await, 96);
    assert_eq!(asset(&app, id).await["conversions"], json!([]));
}

#[tokio::test]
async fn every_mode_and_disposition_saves_as_the_contract_says() {
    let app = spawn_app(|_| {}).await;
    let a = upload_asset(&app, &app.key, PERSON, Some(json!({"sku": "A-1"}))).await;
    let id = a["id"].as_str().unwrap().to_owned();

    // save_image + add_conversion, on the upload route and on the asset route.
    let r = on_file(
        &app,
        &app.key,
        &format!("mode=save_image&disposition=add_conversion&asset_id={id}&conversion_name=cut_1"),
        PERSON,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "ok", "mode": "save_image", "disposition": "add_conversion", "asset_id": id, "conversion_name": "cut_1"})
    );
    let r = app
        .post(&on_asset(
            &id,
            "mode=save_image&disposition=add_conversion&conversion_name=cut-2",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["conversion_name"], "cut-2");
    let names: Vec<Value> = asset(&app, &id).await["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, [json!("cut-2"), json!("cut_1")]);
    let (_, _, lo, hi) = alpha_range(&conversion_bytes(&app, &id, "cut_1").await);
    assert_eq!((lo, hi), (0, 255));

    // save_image + add_new_asset, without a source.
    let r = on_file(
        &app,
        &app.key,
        "mode=save_image&disposition=add_new_asset",
        PERSON,
    )
    .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (
            body["status"].as_str(),
            body["disposition"].as_str(),
            body.get("source_asset_id"),
            body.get("metadata")
        ),
        (Some("ok"), Some("add_new_asset"), None, None)
    );
    let new = asset(&app, body["new_asset_id"].as_str().unwrap()).await;
    assert_eq!(
        (new["content_type"].as_str(), new["source_asset_id"].clone()),
        (Some("image/png"), Value::Null)
    );
    assert_eq!(new["name"], "person-bg_removed.png");

    // get_image_and_save, both dispositions: the PNG now, the save once the queue runs.
    let r = on_file(
        &app,
        &app.key,
        &format!(
            "mode=get_image_and_save&disposition=add_conversion&asset_id={id}&conversion_name=bg"
        ),
        PERSON,
    )
    .await;
    let png = png_of(r).await;
    let r = app
        .post(&on_asset(
            &id,
            "mode=get_image_and_save&disposition=add_new_asset&metadata=inherit",
        ))
        .send()
        .await
        .unwrap();
    png_of(r).await;
    assert_eq!(app.drain().await, 2);
    assert_eq!(
        conversion_bytes(&app, &id, "bg").await,
        png,
        "the saved conversion is the PNG returned"
    );
    let list = app.get_json("/api/v1/assets?limit=1").await;
    let newest = &list["data"][0];
    assert_eq!(
        (
            newest["source_asset_id"].as_str(),
            newest["custom_data"].clone()
        ),
        (Some(id.as_str()), json!({"sku": "A-1"}))
    );
    assert_eq!(app.balance().await, 100 - 5, "one credit per add-on call");
}

#[tokio::test]
async fn metadata_inherit_copies_custom_data_and_records_lineage() {
    let app = spawn_app(|_| {}).await;
    let src = upload_asset(
        &app,
        &app.key,
        PERSON,
        Some(json!({"owner": "ann", "tags": ["x"]})),
    )
    .await;
    let id = src["id"].as_str().unwrap();
    let r = on_file(
        &app,
        &app.key,
        &format!("mode=save_image&disposition=add_new_asset&metadata=inherit&asset_id={id}"),
        PERSON,
    )
    .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["source_asset_id"].as_str(), body["metadata"].as_str()),
        (Some(id), Some("inherit"))
    );
    let new = asset(&app, body["new_asset_id"].as_str().unwrap()).await;
    assert_eq!(new["custom_data"], json!({"owner": "ann", "tags": ["x"]}));
    assert_eq!(new["source_asset_id"], json!(id));
    // asset_id without metadata: lineage, but no copied metadata.
    let r = on_file(
        &app,
        &app.key,
        &format!("mode=save_image&disposition=add_new_asset&asset_id={id}"),
        PERSON,
    )
    .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["source_asset_id"].as_str(), body.get("metadata")),
        (Some(id), None)
    );
    let new = asset(&app, body["new_asset_id"].as_str().unwrap()).await;
    assert_eq!(
        (new["custom_data"].clone(), new["source_asset_id"].clone()),
        (json!({}), json!(id))
    );
    // Lineage outlives the source.
    let del = app
        .with_key(Method::DELETE, &format!("/api/v1/assets/{id}"), &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let again = asset(&app, new["id"].as_str().unwrap()).await;
    assert_eq!(again["source_asset_id"], json!(id));
}

#[tokio::test]
async fn every_validation_rule_is_a_400_that_names_it() {
    let app = spawn_app(|_| {}).await;
    let id = upload_asset(&app, &app.key, PERSON, None).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        ("mode=fast".to_owned(), "mode must be one of"),
        ("mode=save_image".to_owned(), "disposition is required"),
        ("mode=get_image_and_save".to_owned(), "disposition is required"),
        ("mode=save_image&disposition=keep".to_owned(), "disposition must be one of"),
        ("mode=save_image&disposition=add_conversion&conversion_name=a".to_owned(), "asset_id query parameter is required"),
        (format!("mode=save_image&disposition=add_conversion&asset_id={id}"), "conversion_name is required"),
        (format!("mode=save_image&disposition=add_conversion&asset_id={id}&conversion_name=has%20space"), "^[a-zA-Z0-9_-]{1,30}$"),
        (format!("mode=save_image&disposition=add_conversion&asset_id={id}&conversion_name={}", "x".repeat(31)), "^[a-zA-Z0-9_-]{1,30}$"),
        (format!("mode=save_image&disposition=add_conversion&asset_id={id}&conversion_name=a&metadata=inherit"), "metadata is only allowed when disposition is add_new_asset"),
        ("mode=save_image&disposition=add_new_asset&metadata=all".to_owned(), "metadata must be inherit"),
        ("mode=save_image&disposition=add_new_asset&metadata=inherit".to_owned(), "metadata=inherit requires the asset_id"),
        ("model=nope".to_owned(), "model"),
        ("output_format=jpg".to_owned(), "returns PNG"),
    ];
    for (query, want) in cases {
        let (status, code, msg) = error_of(on_file(&app, &app.key, &query, PERSON).await).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "invalid_request"),
            "{query}: {msg}"
        );
        assert!(msg.contains(want), "{query}: {msg}");
    }
    // The upload route needs its image; a non-image is refused by content.
    let r = app
        .post(ON_FILE)
        .multipart(reqwest::multipart::Form::new().text("mode", "get_image"))
        .send()
        .await
        .unwrap();
    let (status, _, msg) = error_of(r).await;
    assert!(status == 400 && msg.contains("image"), "{msg}");
    let (status, _, _) = error_of(on_file(&app, &app.key, "", b"plain text").await).await;
    assert_eq!(status, 400);
    assert_eq!(app.balance().await, 100, "refused calls cost nothing");
}

#[tokio::test]
async fn scopes_credits_refunds_and_idempotent_retries() {
    let app = spawn_app(|_| {}).await;
    let id = upload_asset(&app, &app.key, PERSON, None).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (no_addon, _, _) =
        create_key(&app.state, 10, &[Scope::AssetsRead, Scope::AssetsWrite]).await;
    let (code, _, _) = error_of(on_file(&app, &no_addon, "", PERSON).await).await;
    assert_eq!(code, 403);
    let (addon_only, _, _) = create_key(&app.state, 10, &[Scope::AddonsBgRemove]).await;
    png_of(on_file(&app, &addon_only, "", PERSON).await).await;
    let (status, code, _) = error_of(
        on_file(
            &app,
            &addon_only,
            "mode=save_image&disposition=add_new_asset",
            PERSON,
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));
    // Another account's asset as a target is a 404, before anything is charged.
    let (other, other_acc, _) = create_key(&app.state, 10, &[Scope::All]).await;
    let q = format!("mode=save_image&disposition=add_conversion&asset_id={id}&conversion_name=x");
    assert_eq!(
        error_of(on_file(&app, &other, &q, PERSON).await).await.0,
        404
    );
    assert_eq!(
        app.state
            .repo
            .get_account(other_acc)
            .await
            .unwrap()
            .unwrap()
            .balance,
        10
    );

    let (broke, _, _) = create_key(&app.state, 0, &[Scope::All]).await;
    let (status, code, _) = error_of(on_file(&app, &broke, "", PERSON).await).await;
    assert_eq!((status, code.as_str()), (402, "insufficient_credits"));

    // A JPEG that is cut short passes the header check and fails in the pipeline: refunded.
    let before = app.balance().await;
    let (status, _, msg) =
        error_of(on_file(&app, &app.key, "", &PERSON[..PERSON.len() / 2]).await).await;
    assert_eq!(status, 400, "{msg}");
    assert_eq!(app.balance().await, before, "a failed call is refunded");

    // The same Idempotency-Key and request: the same PNG, charged once, nothing saved twice.
    let q = format!("mode=get_image_and_save&disposition=add_new_asset&asset_id={id}");
    let send = || {
        app.post(&format!("{ON_FILE}?{q}"))
            .header("idempotency-key", "retry-1")
            .multipart(image_form(PERSON))
            .send()
    };
    let first = png_of(send().await.unwrap()).await;
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(png_of(again).await, first);
    assert_eq!(app.balance().await, before - 1);
    assert_eq!(app.drain().await, 1, "one save queued");
    let list = app.get_json("/api/v1/assets").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        2,
        "the source and one new asset"
    );
    // The same key with another request is refused.
    let r = app
        .post(&format!("{ON_FILE}?mode=get_image"))
        .header("idempotency-key", "retry-1")
        .multipart(image_form(PERSON))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.1, "invalid_request");
}

#[tokio::test]
async fn a_background_save_lands_after_a_restart() {
    let app = spawn_app(|_| {}).await;
    let id = upload_asset(&app, &app.key, PERSON, None).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = format!(
        "mode=get_image_and_save&disposition=add_conversion&asset_id={id}&conversion_name=nobg"
    );
    let png = png_of(on_file(&app, &app.key, &q, PERSON).await).await;
    assert_eq!(
        asset(&app, &id).await["conversions"],
        json!([]),
        "answered before the save"
    );
    // Workers are off: the save is still queued when the server stops.
    let app = app.restart().await;
    assert_eq!(app.drain().await, 1);
    assert_eq!(conversion_bytes(&app, &id, "nobg").await, png);
    let staged: Vec<_> = std::fs::read_dir(app.blob_dir().join("addons"))
        .map(|d| d.count())
        .into_iter()
        .collect();
    assert_eq!(
        staged.iter().sum::<usize>(),
        0,
        "the staged PNG is cleaned up"
    );
}

#[tokio::test]
async fn concurrent_writes_of_one_conversion_leave_one_whole_file() {
    // The reader polls as fast as it can, so the per-key rate limit is off.
    let app = spawn_app(|c| {
        c.limits.max_inline_jobs = 4;
        c.limits.rate_limit_per_minute = 0;
    })
    .await;
    let id = upload_asset(&app, &app.key, PERSON, None).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let colours = [
        "#ff0000", "#00ff00", "#0000ff", "#ffff00", "#00ffff", "#ff00ff",
    ];
    let writers = colours.iter().map(|c| {
        let q = format!("mode=save_image&disposition=add_conversion&asset_id={id}&conversion_name=bg&bg_color={}", c.replace('#', "%23"));
        let app = &app;
        async move { on_file(app, &app.key, &q, PERSON).await.status().as_u16() }
    });
    // A reader polls until the writers are done, then once more: every file it gets must decode
    // whole, and the last read (after every write) must find one.
    let done = std::sync::atomic::AtomicBool::new(false);
    let writers = async {
        let statuses = futures_util::future::join_all(writers).await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        statuses
    };
    let reader = async {
        let mut seen = 0;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::SeqCst);
            let r = app
                .get(&format!("/api/v1/assets/{id}/conversions/bg"))
                .send()
                .await
                .unwrap();
            if r.status() == 200 {
                let b = r.bytes().await.unwrap();
                image::load_from_memory(&b).expect("a reader never sees half a file");
                seen += 1;
            }
            if finished {
                break seen;
            }
            tokio::task::yield_now().await;
        }
    };
    let (statuses, seen) = tokio::join!(writers, reader);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(seen > 0);
    let conv = asset(&app, &id).await["conversions"].clone();
    assert_eq!(conv.as_array().unwrap().len(), 1);
    let img = image::load_from_memory(&conversion_bytes(&app, &id, "bg").await)
        .unwrap()
        .to_rgba8();
    let corner = img.get_pixel(0, 0).0;
    assert!(
        colours
            .iter()
            .any(|c| cutout_core::compose::parse_color(c).unwrap().0[..3] == corner[..3]),
        "{corner:?}"
    );
    let prefix = format!("assets/{id}/conversions/bg/");
    let files = app.state.blobs.list(&prefix).await.unwrap();
    assert_eq!(files.len(), 1, "replaced blobs are deleted: {files:?}");
}

/// A model that will not load is the server's problem: the inline add-on answers 503 in the
/// structured shape, without the internal detail, and charges nothing.
#[tokio::test]
async fn a_broken_model_is_a_503_not_a_400() {
    let provider = cutout_testkit::fake::FakeProvider::shared();
    let app = spawn_app_with(provider.clone(), |_| {}).await;
    provider.break_model("u2netp");
    let before = app.balance().await;
    let r = on_file(&app, &app.key, "mode=get_image", PERSON).await;
    assert_eq!(r.status(), 503);
    let b: Value = r.json().await.unwrap();
    let msg = b["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(b["error"]["code"], "unavailable", "{b}");
    assert!(!msg.contains("onnx") && !msg.contains("protobuf"), "{msg}");
    assert_eq!(app.balance().await, before, "refunded");
}

/// A background URL that cannot be reached is the request's problem: 400, refunded (it was a
/// 503, which told the client to retry the same doomed call).
#[tokio::test]
async fn an_unreachable_background_url_is_a_400() {
    let app = spawn_app(|_| {}).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/bg.jpg", closed.local_addr().unwrap());
    drop(closed);
    let query = format!("mode=get_image&bg_image_url={url}");
    let r = on_file(&app, &app.key, &query, PERSON).await;
    let (status, code, msg) = error_of(r).await;
    assert_eq!((status, code.as_str()), (400, "invalid_request"), "{msg}");
    assert!(
        msg.starts_with("bg_image_url could not be fetched"),
        "{msg}"
    );
    assert_eq!(app.balance().await, 100, "refunded");
}
