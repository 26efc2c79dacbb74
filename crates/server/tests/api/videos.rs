//! The video API through the spawned server: uploads checked by content and limits, a job to a
//! webm with alpha and audio read back by ffprobe, cancel. Every test needs ffmpeg; the rvm test
//! also runs the real recurrent model.

use cutout_store::Scope;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::assets::error_of;
use crate::helpers::*;

use cutout_testkit::media::{ffprobe, first_frame_alpha, make_clip};
use cutout_testkit::require;

/// A `secs` s, 15 fps, 160x120 test pattern with a tone.
pub fn clip(dir: &Path, secs: u32) -> PathBuf {
    let out = dir.join(format!("clip{secs}.mp4"));
    let pattern = format!("testsrc2=size=160x120:rate=15:duration={secs}");
    make_clip(&out, &pattern, secs, &[]);
    out
}

async fn upload(app: &TestApp, path: &str, bytes: Vec<u8>, name: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("video/mp4")
            .unwrap(),
    );
    app.post(path).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn uploads_are_checked_by_content_and_limits() {
    require!(Ffmpeg);
    let app = spawn_app(|c| c.video.max_duration_secs = 3.0).await;
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(clip(dir.path(), 2)).unwrap();
    for path in ["/v1/uploads", "/api/upload"] {
        let r = upload(&app, path, good.clone(), "in.mp4").await;
        assert_eq!(r.status(), 200, "{path}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["success"], true);
        assert_eq!(
            (
                b["width"].as_u64(),
                b["height"].as_u64(),
                b["has_audio"].as_bool()
            ),
            (Some(160), Some(120), Some(true))
        );
        assert!((b["duration"].as_f64().unwrap() - 2.0).abs() < 0.1, "{b}");
        assert_eq!(b["fps"], 15.0);
        assert_eq!(b["size"], good.len());
        assert!(b["video_url"].as_str().unwrap().contains("/v1/uploads/"));
    }
    let cases = [
        (b"a text file, renamed".to_vec(), "not a readable video"),
        (good[..good.len() / 3].to_vec(), ""),
        (
            std::fs::read(clip(dir.path(), 5)).unwrap(),
            "the limit is 3 s",
        ),
    ];
    for (bytes, want) in cases {
        let (status, code, msg) = error_of(upload(&app, "/v1/uploads", bytes, "x.mp4").await).await;
        assert_eq!((status, code.as_str()), (400, "invalid_request"), "{msg}");
        assert!(msg.contains(want), "{msg}");
    }
    let small = spawn_app(|c| c.video.max_bytes = 1000).await;
    let (status, _, _) = error_of(upload(&small, "/v1/uploads", good, "in.mp4").await).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn a_video_job_makes_a_webm_with_alpha_audio_and_every_frame() {
    require!(Ffmpeg);
    let app = spawn_app(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let up = upload_clip(&app, dir.path(), 2).await;
    let r = app
        .post("/v1/jobs")
        .json(&json!({"video_url": up["video_url"], "output_format": "webm", "model": "light"}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["success"].as_bool(), body["status"].as_str()),
        (Some(true), Some("pending")),
        "{body}"
    );
    let id = body["id"].as_str().unwrap().to_owned();
    // light = 45 credits a minute, per started second: 2 s -> 2 credits.
    assert_eq!(app.balance().await, 98);
    let early = app
        .get(&format!("/api/download/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(early).await.0,
        400,
        "no download before completion"
    );
    assert_eq!(app.drain().await, 1);
    let job = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(
        (job["status"].as_str(), job["progress"].as_u64()),
        (Some("completed"), Some(100)),
        "{job}"
    );
    let dl = app.get_json(&format!("/api/download/{id}")).await;
    assert_eq!(dl["output_format"], "webm");
    let bytes = app
        .client
        .get(dl["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let out = dir.path().join("out.webm");
    std::fs::write(&out, &bytes).unwrap();
    let p = ffprobe(&out);
    let streams = p["streams"].as_array().unwrap();
    let v = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(
        (v["nb_read_frames"].as_str(), v["r_frame_rate"].as_str()),
        (Some("30"), Some("15/1"))
    );
    assert_eq!(v["tags"]["alpha_mode"], "1", "VP9 with an alpha plane");
    assert!(
        streams.iter().any(|s| s["codec_type"] == "audio"),
        "audio copied"
    );
    let list = app.get_json("/v1/jobs?status=completed").await;
    assert_eq!(list["jobs"][0]["id"], json!(id));
}

#[tokio::test]
async fn jobs_are_validated_cancelled_and_refunded() {
    require!(Ffmpeg);
    let app = spawn_app(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let up = upload_clip(&app, dir.path(), 2).await;
    let bad = [
        json!({"video_url": up["video_url"], "output_format": "avi"}),
        json!({"video_url": up["video_url"], "bg_type": "pink"}),
        json!({"video_url": up["video_url"], "model": "turbo"}),
        json!({"output_format": "webm"}),
        json!({"video_url": up["video_url"], "auto_start": "no"}),
        json!({"video_url": up["video_url"], "temporal_smoothing": 1}),
        json!({"video_url": up["video_url"], "webhook_url": "http://10.0.0.1/hook"}),
    ];
    for b in bad {
        let (status, code, msg) =
            error_of(app.post("/v1/jobs").json(&b).send().await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "invalid_request"),
            "{b}: {msg}"
        );
    }
    let (other, _, _) = create_key(&app.state, 100, &[Scope::All]).await;
    let r = app
        .with_key(reqwest::Method::POST, "/v1/jobs", &other)
        .json(&json!({"video_url": up["video_url"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, 404, "another account's upload");

    let r = app.post("/v1/jobs").json(&json!({"video_id": up["video_id"], "background": {"type": "green"}, "output_format": "mp4"})).send().await.unwrap();
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.balance().await,
        98,
        "original: 60 credits a minute, 2 s"
    );
    let r = app
        .post(&format!("/v1/jobs/{id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    assert_eq!(app.balance().await, 100, "refunded");
    let job = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(
        (job["status"].as_str(), job["billing_status"].as_str()),
        (Some("cancelled"), Some("refunded"))
    );
    assert_eq!(app.drain().await, 0, "nothing left to run");
    let again = app
        .post(&format!("/v1/jobs/{id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(again).await.0, 400);

    // The ledger as the vendor shows it: the charge and its refund.
    let usage = app.get_json("/v1/usage/summary?days=7").await;
    let figures = [
        "credits_charged",
        "credits_refunded",
        "credits_used",
        "balance",
    ]
    .map(|k| usage[k].as_i64());
    assert_eq!(figures, [Some(2), Some(2), Some(0), Some(100)], "{usage}");
    let events = app.get_json("/v1/usage/events?limit=2").await;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["refund", "charge"]);
    assert_eq!(events["events"][0]["job_id"], json!(id));
    for path in [
        "/v1/usage/summary?days=91",
        "/v1/usage/events?limit=0",
        "/v1/jobs?status=done",
        "/v1/jobs?limit=500",
    ] {
        let (status, code, _) = error_of(app.get(path).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (400, "invalid_request"), "{path}");
    }
}

/// Uploads a fresh `secs` s clip and returns the upload's answer.
pub async fn upload_clip(app: &TestApp, dir: &Path, secs: u32) -> Value {
    let bytes = std::fs::read(clip(dir, secs)).unwrap();
    let r = upload(app, "/v1/uploads", bytes, "in.mp4").await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn queue_video(app: &TestApp, dir: &Path, secs: u32, model: &str) -> String {
    let bytes = std::fs::read(clip(dir, secs)).unwrap();
    let up: Value = upload(app, "/v1/uploads", bytes, "in.mp4")
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .post("/v1/jobs")
        .json(&json!({"video_id": up["video_id"], "model": model, "output_format": "mp4"}))
        .send()
        .await
        .unwrap();
    let b: Value = r.json().await.unwrap();
    b["id"].as_str().unwrap_or_else(|| panic!("{b}")).to_owned()
}

#[tokio::test]
async fn a_cancel_stops_a_running_job_and_frees_the_worker() {
    require!(Ffmpeg);
    let app = spawn_app(|c| {
        c.jobs.run_workers = true;
        c.jobs.workers = 1;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    // 12 s at 15 fps with u2net: far longer than the test waits.
    let long = queue_video(&app, dir.path(), 12, "original").await;
    let before = app.balance().await;
    let started = std::time::Instant::now();
    loop {
        let j = app.get_json(&format!("/v1/jobs/{long}")).await;
        if j["status"] == "processing" && j["progress"].as_u64() > Some(0) {
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "never started: {j}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let r = app
        .post(&format!("/v1/jobs/{long}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.balance().await,
        before + 12,
        "12 s of original refunded"
    );
    // The only worker must come free for the next job well before the long one could finish.
    let short = queue_video(&app, dir.path(), 1, "light").await;
    let freed = std::time::Instant::now();
    loop {
        let j = app.get_json(&format!("/v1/jobs/{short}")).await;
        if j["status"] == "completed" {
            break;
        }
        assert!(
            freed.elapsed().as_secs() < 60,
            "the worker was not freed: {j}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let j = app.get_json(&format!("/v1/jobs/{long}")).await;
    assert_eq!(
        (j["status"].as_str(), j["billing_status"].as_str()),
        (Some("cancelled"), Some("refunded"))
    );
}

#[tokio::test]
async fn a_job_whose_worker_died_restarts_and_is_charged_once() {
    require!(Ffmpeg);
    let app = spawn_app(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let id = queue_video(&app, dir.path(), 2, "light").await;
    assert_eq!(app.balance().await, 98);
    // A worker claims the job and dies: no heartbeat, no result.
    let claimed = app
        .state
        .repo
        .claim_next("dead-worker", &[cutout_store::JobKind::Video])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id.to_string(), id);
    let requeued = app
        .state
        .repo
        .reap_stale(cutout_store::now_ms() + 1)
        .await
        .unwrap();
    assert_eq!(requeued.len(), 1, "the reaper puts it back");
    assert_eq!(app.drain().await, 1);
    let j = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(
        (j["status"].as_str(), j["billing_status"].as_str()),
        (Some("completed"), Some("charged")),
        "{j}"
    );
    assert_eq!(app.balance().await, 98, "charged once, not refunded");
    let events = app.get_json("/v1/usage/events").await;
    let charges = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "charge")
        .count();
    assert_eq!(charges, 1);
}

async fn create(app: &TestApp, body: Value) -> Value {
    let r = app.post("/v1/jobs").json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn drafts_start_on_request_charge_once_and_announce_themselves() {
    require!(Ffmpeg);
    let fx = fixture().await;
    let app = spawn_app(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let up = upload_clip(&app, dir.path(), 2).await;
    let hook = format!("{}/hook", fx.base);
    let body = json!({"video_id": up["video_id"], "model": "light", "auto_start": false, "webhook_url": hook});
    let draft = create(&app, body).await;
    assert_eq!(draft["status"], "created", "{draft}");
    let id = draft["id"].as_str().unwrap().to_owned();
    let job = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(
        (job["status"].as_str(), job["billing_status"].as_str()),
        (Some("created"), Some("not_reserved"))
    );
    assert_eq!(app.balance().await, 100, "a draft reserves nothing");
    assert_eq!(app.drain().await, 0, "a draft does not run");
    let drafts = app.get_json("/v1/jobs?status=created").await;
    assert_eq!(drafts["jobs"][0]["id"], json!(id));

    let start = format!("/v1/jobs/{id}/start");
    let r: Value = app.post(&start).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["status"], "pending", "{r}");
    assert_eq!(app.balance().await, 98, "reserved at start");
    let again: Value = app.post(&start).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        again["status"], "pending",
        "a retried start is harmless: {again}"
    );
    assert_eq!(app.balance().await, 98, "and charges nothing more");
    assert_eq!(app.drain().await, 1);
    let job = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(
        (job["status"].as_str(), job["billing_status"].as_str()),
        (Some("completed"), Some("charged"))
    );
    assert_eq!(
        error_of(app.post(&start).send().await.unwrap()).await.0,
        400
    );

    cutout_server::deliver_due(&app.state).await;
    let hooks = fx.hooks.lock().unwrap().clone();
    let events: Vec<(String, Value)> = hooks
        .iter()
        .map(|(h, b)| {
            let event = h["x-webhook-event"].to_str().unwrap().to_owned();
            (event, serde_json::from_str(b).unwrap())
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names, ["job.started", "job.completed"]);
    assert_eq!(events[0].1["data"]["status"], "processing");
    assert_eq!(events[1].1["data"]["id"], json!(id));
    assert!(events[1].1["data"]["output_url"].is_string());

    // A cancelled draft was never charged, so nothing is refunded.
    let other = create(
        &app,
        json!({"video_id": up["video_id"], "auto_start": false}),
    )
    .await;
    let cancel = format!("/v1/jobs/{}/cancel", other["id"].as_str().unwrap());
    assert_eq!(app.post(&cancel).send().await.unwrap().status(), 200);
    assert_eq!(app.balance().await, 98);
}

#[tokio::test]
async fn job_creation_is_idempotent() {
    require!(Ffmpeg);
    let app = spawn_app(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let up = upload_clip(&app, dir.path(), 2).await;
    let send = |body: Value| {
        app.post("/v1/jobs")
            .header("idempotency-key", "video-1")
            .json(&body)
            .send()
    };
    let body = json!({"video_id": up["video_id"], "model": "light"});
    let first: Value = send(body.clone()).await.unwrap().json().await.unwrap();
    let replay = send(body).await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_eq!(app.balance().await, 98, "charged once");
    let other = send(json!({"video_id": up["video_id"], "model": "original"}))
        .await
        .unwrap();
    let (status, code, _) = error_of(other).await;
    assert!(status == 400 || status == 422, "{status} {code}");
    assert_eq!(app.drain().await, 1, "one job");
}

#[tokio::test]
async fn a_remote_video_url_is_fetched_probed_and_charged_by_the_worker() {
    require!(Ffmpeg);
    let fx = fixture().await;
    let app = spawn_app(|c| c.video.max_duration_secs = 3.0).await;
    let dir = tempfile::tempdir().unwrap();
    {
        let mut files = fx.files.lock().unwrap();
        files.insert(
            "clip.mp4".into(),
            std::fs::read(clip(dir.path(), 2)).unwrap(),
        );
        files.insert(
            "long.mp4".into(),
            std::fs::read(clip(dir.path(), 5)).unwrap(),
        );
        files.insert("text.mp4".into(), b"not a video at all".to_vec());
    }
    let url = |name: &str| format!("{}/f/{name}", fx.base);
    let r = create(
        &app,
        json!({"video_url": url("clip.mp4"), "model": "light", "output_format": "webm"}),
    )
    .await;
    let id = r["id"].as_str().unwrap().to_owned();
    let job = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(
        job["billing_status"], "pending",
        "the cost is unknown before the probe"
    );
    assert_eq!(app.balance().await, 100);
    assert_eq!(app.drain().await, 1);
    let job = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["billing_status"].as_str(),
            job["credits"].as_i64()
        ),
        (Some("completed"), Some("charged"), Some(2)),
        "{job}"
    );
    assert_eq!(app.balance().await, 98, "2 s of light");

    // Bad remote files fail the job without a charge.
    for (name, code) in [
        ("text.mp4", "invalid_video"),
        ("long.mp4", "limit_exceeded"),
        ("missing.mp4", "fetch_http_error"),
    ] {
        let r = create(&app, json!({"video_url": url(name), "model": "light"})).await;
        app.drain().await;
        let job = app
            .get_json(&format!("/v1/jobs/{}", r["id"].as_str().unwrap()))
            .await;
        assert_eq!(
            (
                job["status"].as_str(),
                job["error"]["code"].as_str(),
                job["billing_status"].as_str()
            ),
            (Some("failed"), Some(code), Some("not_charged")),
            "{name}: {job}"
        );
    }
    assert_eq!(app.balance().await, 98);
    // Private addresses are refused at once.
    for bad in ["http://169.254.169.254/latest/v.mp4", "file:///etc/passwd"] {
        let r = app
            .post("/v1/jobs")
            .json(&json!({"video_url": bad}))
            .send()
            .await
            .unwrap();
        let (status, code, msg) = error_of(r).await;
        assert_eq!((status, code.as_str()), (400, "invalid_request"), "{bad}");
        assert!(msg.contains("video_url"), "{msg}");
    }
}

#[tokio::test]
async fn rvm_runs_video_jobs_with_its_recurrent_state() {
    require!(Ffmpeg, Models, RvmModel);
    // The real recurrent model through the service (the fake one only proves the routing).
    let app = spawn_app_with(cutout_testkit::real::provider(), |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let up = upload_clip(&app, dir.path(), 1).await;
    let r = create(
        &app,
        json!({"video_id": up["video_id"], "model": "rvm", "output_format": "mp4"}),
    )
    .await;
    let id = r["id"].as_str().unwrap().to_owned();
    assert_eq!(app.drain().await, 1);
    let job = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(
        (job["status"].as_str(), job["model"].as_str()),
        (Some("completed"), Some("rvm")),
        "{job}"
    );
}

/// ffprobe's view of a downloaded output: (frames, r_frame_rate, has audio).
fn probe_output(path: &Path) -> (u64, String, bool) {
    let p = ffprobe(path);
    let streams = p["streams"].as_array().unwrap();
    let v = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    let frames = v["nb_read_frames"].as_str().unwrap().parse().unwrap();
    let audio = streams.iter().any(|s| s["codec_type"] == "audio");
    (
        frames,
        v["r_frame_rate"].as_str().unwrap().to_owned(),
        audio,
    )
}

#[tokio::test]
async fn every_output_format_decodes_back_through_the_service() {
    require!(Ffmpeg);
    let app = spawn_app(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let up = upload_clip(&app, dir.path(), 2).await;
    for format in ["webm", "mov", "mp4", "gif", "webp", "png_sequence"] {
        let body = json!({"video_id": up["video_id"], "model": "light", "output_format": format});
        let id = create(&app, body).await["id"].as_str().unwrap().to_owned();
        assert_eq!(app.drain().await, 1);
        let dl = app.get_json(&format!("/api/download/{id}")).await;
        assert_eq!(dl["output_format"], format, "{dl}");
        let url = dl["download_url"].as_str().unwrap();
        let bytes = app
            .client
            .get(url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let ext = if format == "png_sequence" {
            "zip"
        } else {
            format
        };
        let out = dir.path().join(format!("out.{ext}"));
        std::fs::write(&out, &bytes).unwrap();
        match format {
            "png_sequence" => {
                let zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
                assert_eq!(zip.len(), 30, "one PNG per frame");
            }
            // ffmpeg reads animated WebP poorly: the image crate counts its frames instead.
            "webp" => {
                use image::AnimationDecoder;
                let dec = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&bytes[..]))
                    .unwrap();
                let frames = dec.into_frames().collect_frames().unwrap();
                assert_eq!(frames.len(), 30);
                assert!(
                    frames[0].buffer().pixels().any(|p| p[3] == 0),
                    "transparent"
                );
            }
            _ => {
                let (frames, rate, audio) = probe_output(&out);
                assert_eq!((frames, rate.as_str()), (30, "15/1"), "{format}");
                assert_eq!(audio, format != "gif", "{format}: audio");
                let (lo, hi) = first_frame_alpha(&out, format == "webm");
                let want = if format == "mp4" {
                    (255, 255)
                } else {
                    (0, 255)
                };
                assert_eq!((lo, hi), want, "{format}: alpha");
            }
        }
    }
}
