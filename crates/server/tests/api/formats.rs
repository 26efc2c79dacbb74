//! AVIF, HEIC, PSD and SVG inputs end to end: uploaded, cut out, returned; and their bad forms
//! refused at the upload with a 422 that says why, nothing charged, nothing fetched.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cutout_testkit::fixtures::format_sample;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">
  <rect width="200" height="100" fill="#f4f4f4"/>
  <circle cx="100" cy="50" r="40" fill="#c0392b"/>
</svg>"##;

/// The new formats, with the size each displays at.
fn samples() -> Vec<(&'static str, Vec<u8>, (u32, u32))> {
    let mut v = vec![
        ("psd", format_sample("imagemagick.psd"), (160, 120)),
        ("svg", SVG.as_bytes().to_vec(), (200, 100)),
    ];
    if cutout_testkit::tier::available("formats: AVIF and HEIC", &[cutout_testkit::Need::Libheif]) {
        v.push(("avif", format_sample("lossy-10bit.avif"), (160, 120)));
        v.push(("heic", format_sample("rotated.heic"), (160, 120)));
    }
    v
}

#[tokio::test]
async fn every_new_format_is_cut_out_through_the_upload() {
    let app = spawn_app(|_| {}).await;
    for (name, bytes, size) in samples() {
        let r = app.upload_file(&bytes, &[]).await;
        assert_eq!(r.status(), 202, "{name}: {}", r.text().await.unwrap());
        let job: Value = r.json().await.unwrap();
        let (_, png) = app.result(job["job_id"].as_str().unwrap()).await;
        let (w, h, lo, hi) = alpha_range(&png);
        assert_eq!((w, h), size, "{name}");
        assert_eq!((lo, hi), (0, 255), "{name}: a cut-out");
    }
}

#[tokio::test]
async fn the_addon_assets_and_removebg_take_them_too() {
    let app = spawn_app(|_| {}).await;
    for (name, bytes, size) in samples() {
        let form = reqwest::multipart::Form::new().part(
            "image",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(format!("in.{name}")),
        );
        let r = app
            .with_key(
                Method::POST,
                "/api/v1/assets/file/addons/bg_remove",
                &app.key,
            )
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}: {}", r.text().await.unwrap());
        let (w, h, _, _) = alpha_range(&r.bytes().await.unwrap());
        assert_eq!((w, h), size, "{name}");

        let form = reqwest::multipart::Form::new().part(
            "image_file",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(format!("in.{name}")),
        );
        let r = app
            .post("/v1.0/removebg")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "remove.bg API, {name}: {}",
            r.text().await.unwrap()
        );
        let (w, h, _, _) = alpha_range(&r.bytes().await.unwrap());
        assert_eq!((w, h), size, "remove.bg API, {name}");

        let asset = crate::assets::upload_asset(&app, &app.key, &bytes, None).await;
        let mime = asset["content_type"].as_str().unwrap();
        assert!(
            mime.contains(if name == "psd" { "photoshop" } else { name }),
            "{mime}"
        );
    }
}

/// A listener that counts connections: an SVG must never make the server fetch.
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x.png", l.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        while l.accept().await.is_ok() {
            h.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, hits)
}

fn bad_inputs(listener: &str) -> Vec<(String, Vec<u8>, &'static str)> {
    let svg_ref = |href: &str| {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50"><image href="{href}" width="50" height="50"/></svg>"#
        )
    };
    let laughs = cutout_testkit::fixtures::svg_billion_laughs(9, 9);
    let psd = format_sample("imagemagick.psd");
    let mut psd_huge = psd.clone();
    psd_huge[14..22].copy_from_slice(&[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]);
    let mut v = vec![
        (
            "svg /etc/passwd".into(),
            svg_ref("/etc/passwd").into_bytes(),
            "only embedded data",
        ),
        (
            "svg local URL".into(),
            svg_ref(listener).into_bytes(),
            "only embedded data",
        ),
        (
            "svg billion laughs".into(),
            laughs.into_bytes(),
            "entities expand",
        ),
        (
            "svg 100000x100000".into(),
            br#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"/>"#.to_vec(),
            "100000x100000",
        ),
        (
            "svg truncated".into(),
            SVG.as_bytes()[..60].to_vec(),
            "corrupt",
        ),
        ("psd 100000x100000".into(), psd_huge, "100000x100000"),
    ];
    if cutout_testkit::tier::available("formats: bad AVIF/HEIC", &[cutout_testkit::Need::Libheif]) {
        for (name, file) in [("avif", "alpha-8bit.avif"), ("heic", "rotated.heic")] {
            let bytes = format_sample(file);
            v.push((format!("{name} truncated"), bytes[..300].to_vec(), "HEIF"));
            let mut huge = bytes.clone();
            let at = huge.windows(4).position(|w| w == b"ispe").unwrap() + 8;
            huge[at..at + 8].copy_from_slice(&[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]);
            v.push((format!("{name} 100000x100000"), huge, "100000x100000"));
        }
    }
    v
}

#[tokio::test]
async fn bad_files_of_each_new_kind_are_a_clear_422() {
    let app = spawn_app(|_| {}).await;
    let (listener, hits) = counting_listener().await;
    for (name, bytes, why) in bad_inputs(&listener) {
        let r = app.upload_file(&bytes, &[]).await;
        let status = r.status().as_u16();
        let b: Value = r.json().await.unwrap();
        assert_eq!(
            (status, b["error"].as_str()),
            (422, Some("validation")),
            "{name}: {b}"
        );
        let detail = b["details"]["file"][0].as_str().unwrap_or_default();
        assert!(detail.contains(why), "{name}: {detail}");
    }
    assert_eq!(app.balance().await, 100, "nothing charged");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the SVG made the server connect"
    );
}

/// Cut after an intact header. PSD: accepted (the header is all the upload reads), then the job
/// fails as `corrupt_image` and is refunded, as a truncated JPEG does. HEIF: libheif already
/// sees at the upload that the data the header points at is missing: a 422.
#[tokio::test]
async fn files_cut_after_their_header_fail_the_job_and_are_refunded() {
    let app = spawn_app(|_| {}).await;
    for (name, bytes, _) in samples().into_iter().filter(|(n, ..)| *n != "svg") {
        let r = app.upload_file(&bytes[..bytes.len() * 2 / 3], &[]).await;
        if name != "psd" {
            assert_eq!(r.status(), 422, "{name}");
            let b: Value = r.json().await.unwrap();
            assert!(
                b["details"]["file"][0].as_str().unwrap().contains("HEIF"),
                "{b}"
            );
            continue;
        }
        assert_eq!(r.status(), 202, "{name}");
        let job = r.json::<Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.drain().await;
        let s = app.status(&job).await;
        assert_eq!(s["error"]["code"], "corrupt_image", "{name}: {s}");
    }
    assert_eq!(app.balance().await, 100, "refunded");
}

/// Fonts named by path or URL in an SVG's CSS are ignored (text uses the system's fonts): the
/// picture is cut out, and nothing is fetched.
#[tokio::test]
async fn svg_fonts_from_paths_and_urls_are_ignored() {
    let app = spawn_app(|_| {}).await;
    let (listener, hits) = counting_listener().await;
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60">
  <style>@font-face {{ font-family: Evil; src: url({listener}) }}
         @font-face {{ font-family: Local; src: url(/etc/passwd) }}</style>
  <rect width="120" height="60" fill="white"/>
  <text x="10" y="40" font-family="Evil, Local" font-size="30">Hi</text>
</svg>"#
    );
    let r = app.upload_file(svg.as_bytes(), &[]).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job: Value = r.json().await.unwrap();
    let (_, png) = app.result(job["job_id"].as_str().unwrap()).await;
    assert_eq!(alpha_range(&png).0, 120);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the font URL was fetched");
}
