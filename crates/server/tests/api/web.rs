//! The page at `/`: served from the binary under a strict CSP, and driven in headless Chromium
//! as a user would (photos, background colour, download, a clip played back).

use crate::helpers::*;

#[tokio::test]
async fn the_page_and_its_files_are_served_under_a_strict_csp() {
    let app = spawn_app(|_| {}).await;
    for (path, mime) in [
        ("/", "text/html; charset=utf-8"),
        ("/web/app.js", "text/javascript; charset=utf-8"),
        ("/web/app.css", "text/css; charset=utf-8"),
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], mime);
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(!r.text().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_visitor_cuts_out_two_photos_and_a_clip_in_the_browser() {
    cutout_testkit::require!(Browser, Ffmpeg);
    let app = spawn_app(|c| {
        c.jobs.run_workers = true;
        c.jobs.workers = 1;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let clip = crate::videos::clip(dir.path(), 2);
    // Screenshots go where the README takes them from when asked to.
    let shots = std::env::var("CUTOUT_SCREENSHOTS").map_or(dir.path().to_owned(), Into::into);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web/page.cjs");
    let out = tokio::process::Command::new("node")
        .arg(script)
        .arg(&app.base)
        .arg(&app.key)
        .arg(cutout_testkit::fixtures::path("person.jpg"))
        .arg(cutout_testkit::fixtures::path("cat.jpg"))
        .arg(&clip)
        .arg(&shots)
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("ok downloaded=person-cutout.png"), "{said}");
    for shot in ["images.png", "video.png"] {
        assert!(
            shots.join(shot).metadata().unwrap().len() > 10_000,
            "{shot}"
        );
    }
}
