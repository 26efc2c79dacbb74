//! The remove.bg-compatible API: each input kind, each parameter, the headers, the JSON form,
//! zip contents, credits per size, and every error in remove.bg's shape and statuses.

use base64::Engine;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const URL: &str = "/v1.0/removebg";

fn photo_form(extra: &[(&str, &str)]) -> Form {
    let mut f = Form::new().part(
        "image_file",
        Part::bytes(PERSON.to_vec()).file_name("p.jpg"),
    );
    for (k, v) in extra {
        f = f.text(k.to_string(), v.to_string());
    }
    f
}

async fn call(app: &TestApp, extra: &[(&str, &str)]) -> reqwest::Response {
    app.post(URL)
        .multipart(photo_form(extra))
        .send()
        .await
        .unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
        .to_owned()
}

fn num(r: &reqwest::Response, name: &str) -> u32 {
    header(r, name).parse().unwrap()
}

/// Status and remove.bg's first error code.
async fn error(r: reqwest::Response) -> (u16, String, String) {
    let s = r.status().as_u16();
    let b: Value = r.json().await.unwrap();
    let e = &b["errors"][0];
    assert!(e["title"].is_string(), "{b}");
    (
        s,
        e["code"].as_str().unwrap().into(),
        e["detail"].as_str().unwrap_or("").into(),
    )
}

#[tokio::test]
async fn a_photo_comes_back_cut_out_with_removebgs_headers() {
    let app = spawn_app(|_| {}).await;
    let r = call(&app, &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type"),
        "image/png",
        "auto + transparent = PNG"
    );
    assert_eq!(
        (
            header(&r, "x-type").as_str(),
            header(&r, "x-credits-charged").as_str()
        ),
        ("other", "1")
    );
    let (w, h) = (num(&r, "x-width"), num(&r, "x-height"));
    let (top, left, fw, fh) = (
        num(&r, "x-foreground-top"),
        num(&r, "x-foreground-left"),
        num(&r, "x-foreground-width"),
        num(&r, "x-foreground-height"),
    );
    assert!(r.headers().contains_key("x-ratelimit-remaining"));
    let bytes = r.bytes().await.unwrap();
    let (pw, ph, lo, hi) = alpha_range(&bytes);
    assert_eq!((pw, ph, lo, hi), (640, 427, 0, 255));
    assert_eq!((w, h), (640, 427));
    assert!(fw > 0 && fh > 0 && left + fw <= w && top + fh <= h);
    assert_eq!(app.balance().await, 99);
}

#[tokio::test]
async fn every_input_kind_is_accepted() {
    let app = spawn_app(|_| {}).await;
    let fx = fixture().await;
    let b64 = base64::engine::general_purpose::STANDARD.encode(PERSON);
    let form = app
        .post(URL)
        .form(&[("image_file_b64", b64.as_str()), ("size", "preview")])
        .send()
        .await
        .unwrap();
    let json_b64 = app
        .post(URL)
        .json(
            &json!({"image_file_b64": format!("data:image/jpeg;base64,{b64}"), "size": "preview"}),
        )
        .send()
        .await
        .unwrap();
    let url = app
        .post(URL)
        .json(&json!({"image_url": format!("{}/person.jpg", fx.base), "size": "preview"}))
        .send()
        .await
        .unwrap();
    let b64_part = app
        .post(URL)
        .multipart(
            Form::new()
                .text("image_file_b64", b64.clone())
                .text("size", "preview"),
        )
        .send()
        .await
        .unwrap();
    for (what, r) in [
        ("form", form),
        ("json", json_b64),
        ("url", url),
        ("multipart b64", b64_part),
    ] {
        assert_eq!(r.status(), 200, "{what}");
        let (w, h, _, _) = alpha_range(&r.bytes().await.unwrap());
        assert!(w * h <= 250_000 && w > 500, "{what}: {w}x{h}");
    }
}

#[tokio::test]
async fn sizes_set_the_pixels_and_the_credits() {
    let app = spawn_app(|c| c.removebg.credits_preview = 0).await;
    for (size, max_px, credits) in [
        ("preview", 250_000, "0"),
        ("small", 250_000, "0"),
        ("regular", 250_000, "0"),
        ("medium", 1_500_000, "1"),
        ("hd", 4_000_000, "1"),
        ("full", u32::MAX, "1"),
        ("4k", u32::MAX, "1"),
        ("auto", u32::MAX, "1"),
    ] {
        let r = call(&app, &[("size", size)]).await;
        assert_eq!(header(&r, "x-credits-charged"), credits, "{size}");
        let (w, h) = (num(&r, "x-width"), num(&r, "x-height"));
        assert!(w * h <= max_px, "{size}: {w}x{h}");
        assert_eq!(w * h == 640 * 427, max_px > 640 * 427, "{size}: {w}x{h}");
    }
    assert_eq!(app.balance().await, 100 - 5);
}

#[tokio::test]
async fn formats_channels_and_the_zip_layout() {
    let app = spawn_app(|_| {}).await;
    for (format, mime) in [
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("webp", "image/webp"),
    ] {
        let r = call(&app, &[("format", format), ("size", "preview")]).await;
        assert_eq!(header(&r, "content-type"), mime);
        image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    }
    let r = call(&app, &[("bg_color", "81d4fa"), ("size", "preview")]).await;
    assert_eq!(
        header(&r, "content-type"),
        "image/jpeg",
        "auto + opaque = JPG"
    );
    let px = image::load_from_memory(&r.bytes().await.unwrap())
        .unwrap()
        .to_rgb8();
    let corner = px.get_pixel(0, 0).0;
    assert!(
        corner
            .iter()
            .zip([0x81, 0xd4, 0xfa])
            .all(|(a, b)| a.abs_diff(b) < 8),
        "{corner:?}"
    );

    let r = call(&app, &[("channels", "alpha"), ("size", "preview")]).await;
    let matte = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(matte.color(), image::ColorType::L8, "the matte alone");

    let r = call(&app, &[("format", "zip"), ("size", "preview")]).await;
    assert_eq!(header(&r, "content-type"), "application/zip");
    let (w, h) = (num(&r, "x-width"), num(&r, "x-height"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.bytes().await.unwrap())).unwrap();
    let mut names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    names.sort();
    assert_eq!(names, ["alpha.png", "color.jpg"]);
    for name in names {
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut zip.by_name(&name).unwrap(), &mut data).unwrap();
        let img = image::load_from_memory(&data).unwrap();
        assert_eq!((img.width(), img.height()), (w, h), "{name}");
    }
}

#[tokio::test]
async fn crop_roi_scale_position_and_semitransparency() {
    let app = spawn_app(|_| {}).await;
    let full = call(&app, &[]).await;
    let (fw, fh) = (
        num(&full, "x-foreground-width"),
        num(&full, "x-foreground-height"),
    );

    let r = call(&app, &[("crop", "true"), ("crop_margin", "10px 20px")]).await;
    assert_eq!(
        (num(&r, "x-width"), num(&r, "x-height")),
        (fw + 40, fh + 20)
    );
    assert_eq!(
        (num(&r, "x-foreground-top"), num(&r, "x-foreground-left")),
        (10, 20)
    );

    let r = call(&app, &[("roi", "0 0 50% 100%")]).await;
    let (left, w) = (num(&r, "x-foreground-left"), num(&r, "x-foreground-width"));
    assert!(
        left + w <= 320,
        "subject kept only in the left half: {left}+{w}"
    );

    let r = call(&app, &[("scale", "50%"), ("position", "center")]).await;
    let (top, left) = (num(&r, "x-foreground-top"), num(&r, "x-foreground-left"));
    let (w, h) = (
        num(&r, "x-foreground-width"),
        num(&r, "x-foreground-height"),
    );
    assert!((left + w / 2).abs_diff(320) <= 2 && (top + h / 2).abs_diff(213) <= 2);
    assert!(
        w.abs_diff(320) <= 2 || h.abs_diff(213) <= 2,
        "half the canvas: {w}x{h}"
    );

    let r = call(&app, &[("position", "0% 0%")]).await;
    assert_eq!(
        (num(&r, "x-foreground-top"), num(&r, "x-foreground-left")),
        (0, 0)
    );

    let r = call(&app, &[("semitransparency", "false"), ("format", "png")]).await;
    let img = image::load_from_memory(&r.bytes().await.unwrap())
        .unwrap()
        .to_rgba8();
    assert!(img.pixels().all(|p| p[3] == 0 || p[3] == 255));
    let r = call(
        &app,
        &[
            ("type", "person"),
            ("add_shadow", "true"),
            ("type_level", "2"),
        ],
    )
    .await;
    assert_eq!(
        (r.status().as_u16(), header(&r, "x-type")),
        (200, "person".into())
    );
}

#[tokio::test]
async fn backgrounds_from_a_file_or_a_url() {
    let app = spawn_app(|_| {}).await;
    let fx = fixture().await;
    let bg = Part::bytes(cutout_testkit::fixtures::PRODUCT.to_vec()).file_name("bg.jpg");
    let r = app
        .post(URL)
        .multipart(photo_form(&[("size", "preview"), ("format", "png")]).part("bg_image_file", bg))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, _, lo, _) = alpha_range(&r.bytes().await.unwrap());
    assert_eq!(lo, 255, "opaque on the background image");
    let url = format!("{}/person.jpg", fx.base);
    let r = call(
        &app,
        &[
            ("size", "preview"),
            ("bg_image_url", &url),
            ("format", "png"),
        ],
    )
    .await;
    let (_, _, lo, _) = alpha_range(&r.bytes().await.unwrap());
    assert_eq!(lo, 255);
}

#[tokio::test]
async fn the_json_answer_form() {
    let app = spawn_app(|_| {}).await;
    let r = app
        .post(URL)
        .header("accept", "application/json")
        .multipart(photo_form(&[("size", "preview")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (w, top) = (num(&r, "x-width"), num(&r, "x-foreground-top"));
    let b: Value = r.json().await.unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b["data"]["result_b64"].as_str().unwrap())
        .unwrap();
    assert_eq!(alpha_range(&bytes).0, w);
    assert_eq!(b["data"]["foreground_top"], top);
    for k in ["foreground_left", "foreground_width", "foreground_height"] {
        assert!(b["data"][k].is_u64(), "{b}");
    }
}

#[tokio::test]
async fn every_error_in_removebgs_shape() {
    let app = spawn_app(|_| {}).await;
    let no_key = app
        .client
        .post(format!("{}{URL}", app.base))
        .multipart(photo_form(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(error(no_key).await.0, 403);
    let bad_key = app
        .with_key(Method::POST, URL, "nope")
        .multipart(photo_form(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(error(bad_key).await.1, "auth_failed");

    let none = app
        .post(URL)
        .json(&json!({"size": "preview"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error(none).await.1, "missing_source");
    let two = call(&app, &[("image_url", "https://example.com/a.jpg")]).await;
    assert_eq!(error(two).await.0, 400);
    let (s, code, detail) = error(call(&app, &[("size", "huge"), ("scale", "5%")]).await).await;
    assert_eq!((s, code.as_str()), (400, "invalid_parameter"));
    assert!(
        detail.contains("size:") && detail.contains("scale:"),
        "{detail}"
    );
    let text = app
        .post(URL)
        .multipart(Form::new().part("image_file", Part::bytes(b"not a picture".to_vec())))
        .send()
        .await
        .unwrap();
    assert_eq!(error(text).await.1, "unsupported_format");
    let bomb = Part::bytes(cutout_testkit::fixtures::BOMB_PNG.to_vec());
    let r = app
        .post(URL)
        .multipart(Form::new().part("image_file", bomb))
        .send()
        .await
        .unwrap();
    assert_eq!(error(r).await.1, "image_too_large");
    let ssrf = app
        .post(URL)
        .json(&json!({"image_url": "http://169.254.169.254/x.jpg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error(ssrf).await.0, 400);
    let wrong_type = app.post(URL).body("x").send().await.unwrap();
    assert_eq!(error(wrong_type).await.0, 400);
    assert_eq!(app.balance().await, 100, "nothing charged for refusals");

    let (poor, _, _) = create_key(&app.state, 0, &[cutout_store::Scope::All]).await;
    let r = app
        .with_key(Method::POST, URL, &poor)
        .multipart(photo_form(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(error(r).await.0, 402);
    let r = app
        .with_key(Method::GET, "/v1.0/account", &poor)
        .send()
        .await
        .unwrap();
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["data"]["attributes"]["credits"]["total"], 0);
    assert_eq!(b["data"]["attributes"]["api"]["sizes"], "all");
}

#[tokio::test]
async fn rate_limits_and_a_saturated_pool_answer_with_retry_after() {
    let app = spawn_app(|c| {
        // A burst of two, refilled once a minute: the third request is over.
        c.limits.rate_limit_per_minute = 1;
        c.limits.rate_limit_burst = 2;
        c.limits.max_inline_jobs = 1;
        c.removebg.max_wait_ms = 100;
    })
    .await;
    // Every slot taken (as by a long call): the next call waits 100 ms, then 503.
    let slot = app.state.inline_slots.acquire().await.unwrap();
    let r = call(&app, &[("size", "preview")]).await;
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(
        error(r).await,
        (
            503,
            "unavailable".into(),
            "every inference slot is busy, retry later".into()
        )
    );
    drop(slot);
    let r = call(&app, &[("size", "preview")]).await;
    assert_eq!(r.status(), 200);
    let r = app.get("/v1.0/account").send().await.unwrap();
    assert_eq!(r.status(), 429);
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
    ] {
        assert!(r.headers().contains_key(h), "{h}");
    }
    assert_eq!(error(r).await.1, "rate_limit_exceeded");
}

/// A client written only from remove.bg's public docs (Python, `requests`; no shared code)
/// works against Cutout with nothing changed but the base URL and the key.
#[tokio::test]
async fn a_client_written_from_removebgs_docs_works() {
    cutout_testkit::require!(PyRequests);
    let app = spawn_app(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/removebg_client.py"
    );
    let out = tokio::process::Command::new(cutout_testkit::tier::python())
        .arg(script)
        .arg(&app.base)
        .arg(&app.key)
        .arg(cutout_testkit::fixtures::path("person.jpg"))
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("ok credits_charged=1"), "{said}");
    let (w, h, lo, hi) = alpha_range(&std::fs::read(dir.path().join("no-bg.png")).unwrap());
    assert_eq!((w, h, lo, hi), (640, 427, 0, 255));
}
