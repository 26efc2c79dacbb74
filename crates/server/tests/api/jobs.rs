//! The happy paths: every mode, delivery mode and output format, with the result decoded.

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn multipart_clipping_png_cuts_the_subject_out() {
    let app = spawn_app(|_| {}).await;
    let r = app.upload_file(PERSON, &[]).await;
    assert_eq!(r.status(), 202);
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["mode"].as_str()),
        (Some("queued"), Some("clipping"))
    );
    let job = body["job_id"].as_str().unwrap();
    let pending = app.status(job).await;
    assert_eq!(
        (pending["state"].as_str(), pending["final_url"].clone()),
        (Some("pending"), Value::Null)
    );
    assert_eq!(app.balance().await, 99, "one credit per image");
    let (status, bytes) = app.result(job).await;
    assert_eq!(status["progress"], 100);
    assert_eq!(status["final_urls"][0], status["final_url"]);
    let (w, h, lo, hi) = alpha_range(&bytes);
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(w > 100 && h > 100);
    assert_eq!(
        (lo, hi),
        (0, 255),
        "a cut-out has both transparent background and opaque subject"
    );
}

#[tokio::test]
async fn json_file_url_background_mode_flattens_on_the_colour() {
    let app = spawn_app(|_| {}).await;
    let fx = fixture().await;
    let r = app
        .post("/api/v1/upload")
        .json(&json!({"file_url": format!("{}/person.jpg", fx.base), "mode": "background", "bg_color": "#00ff00", "output_format": "png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, bytes) = app.result(&job).await;
    let img = image::load_from_memory(&bytes).unwrap().to_rgba8();
    assert!(
        img.pixels().all(|p| p[3] == 255),
        "background mode is opaque"
    );
    let corner = img.get_pixel(0, 0);
    assert!(
        corner[1] > 200 && corner[0] < 60 && corner[2] < 60,
        "corner {corner:?} is not the green background"
    );
}

#[tokio::test]
async fn every_output_format_decodes() {
    let app = spawn_app(|_| {}).await;
    for fmt in ["png", "jpg", "jpeg", "webp", "tiff", "psd"] {
        let job = app.queue(&[("output_format", fmt)]).await;
        let (_, bytes) = app.result(&job).await;
        if fmt == "psd" {
            assert_eq!(&bytes[..4], b"8BPS", "psd signature");
            continue;
        }
        let (w, _, lo, hi) = alpha_range(&bytes);
        assert!(w > 100, "{fmt}");
        if fmt.starts_with("jp") {
            assert_eq!((lo, hi), (255, 255), "{fmt} has no alpha");
        } else {
            assert_eq!((lo, hi), (0, 255), "{fmt} keeps the alpha");
        }
    }
}

#[tokio::test]
async fn only_mask_crop_and_size_options_apply() {
    let app = spawn_app(|_| {}).await;
    let full = app.queue(&[]).await;
    let (_, full) = app.result(&full).await;
    let (fw, fh, _, _) = alpha_range(&full);
    let job = app.queue(&[("only_mask", "true")]).await;
    let (_, mask) = app.result(&job).await;
    let img = image::load_from_memory(&mask).unwrap();
    assert!(
        matches!(img.color(), image::ColorType::L8),
        "mask is grayscale, got {:?}",
        img.color()
    );
    let job = app.queue(&[("crop", "true"), ("size", "200x200")]).await;
    let (_, small) = app.result(&job).await;
    let (w, h, _, _) = alpha_range(&small);
    assert!(w <= 200 && h <= 200 && (w == 200 || h == 200), "{w}x{h}");
    let job = app.queue(&[("size", "preview")]).await;
    let (_, prev) = app.result(&job).await;
    let (w, h, _, _) = alpha_range(&prev);
    assert!(
        (w * h) as f64 <= 250_000.0 * 1.01 && w <= fw && h <= fh,
        "{w}x{h}"
    );
}

#[tokio::test]
async fn params_mode_uses_named_and_inline_presets() {
    let app = spawn_app(|_| {}).await;
    let r = app
        .with_key(reqwest::Method::PUT, "/api/v1/params/web", &app.key)
        .json(&json!({"bg_color": "#ff0000", "output_format": "jpg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let listed: Value = app
        .get("/api/v1/params")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["params"][0]["name"], "web");
    let job = app.queue(&[("mode", "params"), ("params", "web")]).await;
    let (_, bytes) = app.result(&job).await;
    assert_eq!(
        &bytes[..2],
        &[0xff, 0xd8],
        "the preset's jpg format applies"
    );
    let corner = image::load_from_memory(&bytes)
        .unwrap()
        .to_rgb8()
        .get_pixel(0, 0)
        .0;
    assert!(
        corner[0] > 200 && corner[1] < 60,
        "the preset's red background applies: {corner:?}"
    );
    // A request field overrides the preset; an inline object works like a stored one.
    let job = app
        .queue(&[
            ("mode", "params"),
            ("params", "web"),
            ("output_format", "png"),
        ])
        .await;
    assert_eq!(&app.result(&job).await.1[1..4], b"PNG");
    let job = app
        .queue(&[("mode", "params"), ("params", r#"{"only_mask": true}"#)])
        .await;
    let (_, mask) = app.result(&job).await;
    assert!(matches!(
        image::load_from_memory(&mask).unwrap().color(),
        image::ColorType::L8
    ));
    let r = app
        .with_key(reqwest::Method::DELETE, "/api/v1/params/web", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app
        .upload_file(PERSON, &[("mode", "params"), ("params", "web")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["details"]["params"][0]
        .as_str()
        .unwrap()
        .contains("web"));
}

#[tokio::test]
async fn final_url_delivery_is_permanent_and_public() {
    let app = spawn_app(|c| c.security.signed_url_ttl_secs = 1).await;
    let job = app.queue(&[("delivery_mode", "final_url")]).await;
    let (status, bytes) = app.result(&job).await;
    let url = status["final_url"].as_str().unwrap();
    // Served by this node under /files, or straight from the bucket where the store has a
    // public URL of its own.
    let probe = cutout_store::BlobKey::parse("public/x").unwrap();
    let base = match app.state.blobs.public_url(&probe) {
        Some(u) => u.trim_end_matches("x").to_owned(),
        None => format!("{}/files/public/", app.base),
    };
    assert!(url.starts_with(&base), "{url} is not under {base}");
    assert!(!url.to_ascii_lowercase().contains("signature"), "{url}");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let again = reqwest::get(url).await.unwrap();
    assert_eq!(again.status(), 200, "final URLs do not expire");
    assert_eq!(again.bytes().await.unwrap(), bytes);
}

#[tokio::test]
async fn job_detail_has_the_audit_trail_and_account_shows_usage() {
    let app = spawn_app(|_| {}).await;
    let job = app.queue(&[]).await;
    app.drain().await;
    let d: Value = app
        .get(&format!("/api/v1/jobs/{job}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let trail: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to"].as_str().unwrap())
        .collect();
    assert_eq!(trail, ["queued", "running", "completed"]);
    assert_eq!(d["result"]["format"], "png");
    let acc: Value = app
        .get("/api/v1/account")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            acc["balance"].as_i64(),
            acc["usage"]["jobs_completed"].as_u64()
        ),
        (Some(99), Some(1))
    );
}

#[tokio::test]
async fn workers_in_process_pick_up_jobs_without_draining() {
    let app = spawn_app(|c| {
        c.jobs.run_workers = true;
        c.jobs.workers = 1;
        c.jobs.poll_interval_ms = 60_000; // only the wake-up can start the job in time
    })
    .await;
    let job = app.queue(&[]).await;
    for _ in 0..100 {
        if app.status(&job).await["state"] == "done" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the job was not processed by the in-process worker");
}

/// A model removed while its job waited is not a busy runtime: the job fails on its first
/// attempt with `model_not_installed` and its credit comes back, instead of being retried.
#[tokio::test]
async fn a_job_whose_model_is_gone_fails_at_once_and_is_refunded() {
    let provider = cutout_testkit::fake::FakeProvider::shared();
    let app = spawn_app_with(provider.clone(), |c| c.jobs.max_attempts = 3).await;
    let job = app.queue(&[("model", "u2netp")]).await;
    assert_eq!(app.balance().await, 99);
    provider.remove("u2netp");
    assert_eq!(app.drain().await, 1, "one attempt, no retry queued");
    let s = app.status(&job).await;
    assert_eq!(
        (s["status"].as_str(), s["error"]["code"].as_str()),
        (Some("failed"), Some("model_not_installed")),
        "{s}"
    );
    let detail = app.get_json(&format!("/api/v1/jobs/{job}")).await;
    assert_eq!(detail["attempts"], 1, "{detail}");
    assert_eq!(app.balance().await, 100, "refunded");
}

/// A job whose stored spec this version cannot read fails at once, refunded, and its webhook
/// still hears about it (read from the raw spec).
#[tokio::test]
async fn an_unreadable_spec_fails_refunds_and_still_calls_the_webhook() {
    let app = spawn_app(|_| {}).await;
    let fx = fixture().await;
    let hook = format!("{}/hook", fx.base);
    let key = app
        .state
        .repo
        .find_key(&cutout_server::keys::hash(&app.key))
        .await
        .unwrap()
        .unwrap();
    let job = cutout_store::NewJob {
        id: cutout_store::JobId::new(),
        account: app.account,
        key: key.id,
        kind: cutout_store::JobKind::Image,
        mode: "clipping".into(),
        spec: json!({"from_a_newer_version": true, "webhook_url": hook}),
        input_key: None,
        max_attempts: 3,
        cost: 1,
        max_pending: 100,
        draft: false,
    };
    let id = job.id;
    app.state.repo.create_job(job, None).await.unwrap();
    assert_eq!(app.balance().await, 99);
    assert_eq!(app.drain().await, 1);
    let s = app.status(&id.to_string()).await;
    assert_eq!(
        (s["status"].as_str(), s["error"]["code"].as_str()),
        (Some("failed"), Some("invalid_job")),
        "{s}"
    );
    assert_eq!(app.balance().await, 100);
    assert_eq!(cutout_server::deliver_due(&app.state).await, 1);
    let hooks = fx.hooks.lock().unwrap().clone();
    let body: Value = serde_json::from_str(&hooks[0].1).unwrap();
    assert_eq!(hooks[0].0["x-webhook-event"], "job.failed", "{body}");
}

/// A null option is an absent one: a preset stores and shows only what was set (schemathesis
/// found nulls echoed where the schema promises a string).
#[tokio::test]
async fn null_options_are_not_stored_in_presets() {
    let app = spawn_app(|_| {}).await;
    let r = app
        .with_key(reqwest::Method::PUT, "/api/v1/params/n", &app.key)
        .json(&json!({"bg_color": "#ff0000", "bg_image_url": null, "webhook_url": "", "only_mask": 0, "crop": "yes", "crop_margin": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["params"],
        json!({"bg_color": "#ff0000", "only_mask": false, "crop": true, "crop_margin": "0"}),
        "{body}"
    );
}
