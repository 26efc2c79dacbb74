//! SSRF refusals, signed URL expiry and tampering, and webhook signatures.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::*;

async fn upload_url(app: &TestApp, url: &str) -> reqwest::Response {
    app.post("/api/v1/upload")
        .json(&json!({"file_url": url}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn private_addresses_are_refused_at_once() {
    let app = spawn_app(|_| {}).await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/a.jpg",
        "http://[::1]/a.jpg",
        "http://[::ffff:127.0.0.2]/a.jpg",
        "http://0x7f000002/a.jpg",
        "http://localhost/a.jpg",
        "file:///etc/passwd",
    ] {
        let r = upload_url(&app, url).await;
        assert_eq!(r.status(), 422, "{url}");
        assert!(
            r.json::<Value>().await.unwrap()["details"]["file_url"].is_array(),
            "{url}"
        );
    }
    let r = app.post("/api/v1/upload")
        .json(&json!({"file_url": "https://example.com/a.jpg", "mode": "background", "bg_image_url": "http://192.168.0.1/bg.jpg"}))
        .send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(app.balance().await, 100);
}

#[tokio::test]
async fn names_and_redirects_to_private_addresses_fail_the_job() {
    let app = spawn_app(|_| {}).await;
    let fx = fixture().await;
    // A name that resolves to loopback (checked after DNS), and a redirect to the metadata service.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let by_name = upload_url(&app, &format!("http://{}:8080/a.jpg", host.trim())).await;
    let by_redirect = upload_url(&app, &format!("{}/to-metadata", fx.base)).await;
    let mut jobs = Vec::new();
    for r in [by_name, by_redirect] {
        assert_eq!(r.status(), 202);
        jobs.push(
            r.json::<Value>().await.unwrap()["job_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    app.drain().await;
    for job in jobs {
        let s = app.status(&job).await;
        assert_eq!(
            (s["status"].as_str(), s["error"]["code"].as_str()),
            (Some("failed"), Some("url_forbidden")),
            "{s}"
        );
    }
    assert_eq!(app.balance().await, 100, "both refunded");
}

#[tokio::test]
async fn without_the_allow_list_loopback_is_refused() {
    let app = spawn_app(|c| c.fetch.allow_hosts.clear()).await;
    let fx = fixture().await;
    let r = upload_url(&app, &format!("{}/person.jpg", fx.base)).await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn signed_urls_expire_and_refuse_tampering() {
    let app = spawn_app(|c| c.security.signed_url_ttl_secs = 1).await;
    let job = app.queue(&[]).await;
    let (status, _) = app.result(&job).await;
    let url = status["final_url"].as_str().unwrap().to_owned();
    // This node's own signed link, or the bucket's presigned GET (S3 checks that one).
    assert!(url.to_ascii_lowercase().contains("signature="), "{url}");
    let flipped = {
        let last = url.chars().last().unwrap();
        format!(
            "{}{}",
            &url[..url.len() - 1],
            if last == '0' { '1' } else { '0' }
        )
    };
    let r = app.client.get(&flipped).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let later = url
        .replace("expires=", "expires=9")
        .replace("X-Amz-Expires=1", "X-Amz-Expires=9");
    assert_ne!(later, url);
    assert_eq!(
        app.client.get(&later).send().await.unwrap().status(),
        403,
        "extended expiry"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .to_ascii_lowercase()
        .contains("expired"));
    // A fresh status call signs a fresh link.
    let fresh = app.status(&job).await["final_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.client.get(&fresh).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn webhooks_are_signed_as_documented() {
    let app = spawn_app(|_| {}).await;
    let fx = fixture().await;
    let hook = format!("{}/hook", fx.base);
    let ok = app.queue(&[("webhook_url", &hook)]).await;
    let bad = app
        .upload_file(&PERSON[..PERSON.len() / 2], &[("webhook_url", &hook)])
        .await;
    let bad = bad.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.drain().await;
    assert_eq!(cutout_server::deliver_due(&app.state).await, 2);
    let hooks = fx.hooks.lock().unwrap().clone();
    assert_eq!(hooks.len(), 2);
    for (headers, body) in &hooks {
        let ts = headers["x-webhook-timestamp"].to_str().unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(app.webhook_secret.as_bytes()).unwrap();
        mac.update(format!("{ts}.{body}").as_bytes());
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(headers["x-webhook-signature"].to_str().unwrap(), expected);
        assert!(headers.contains_key("x-webhook-delivery-id"));
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            headers["x-webhook-event"].to_str().unwrap(),
            v["event"].as_str().unwrap()
        );
        match v["event"].as_str().unwrap() {
            "job.completed" => assert_eq!(v["data"]["job_id"], ok.as_str()),
            "job.failed" => {
                assert_eq!(v["data"]["job_id"], bad.as_str());
                assert_eq!(v["data"]["error"]["code"], "corrupt_image");
            }
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(
        cutout_server::deliver_due(&app.state).await,
        0,
        "delivered once"
    );
}
