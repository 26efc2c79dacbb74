//! The stability measurement through a running service, as a client would do it: upload the
//! clip, create PNG-sequence jobs, poll them, download the results.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    pub fn new(base: &str, key: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
        }
    }

    async fn json(&self, req: reqwest::RequestBuilder) -> Value {
        let r = req.header("x-api-key", &self.key).send().await.unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert!(status.is_success(), "HTTP {status}: {body}");
        body
    }

    /// `POST /v1/uploads`; returns the upload's `video_url`.
    pub async fn upload(&self, path: &Path) -> String {
        let bytes = std::fs::read(path).unwrap();
        let part = reqwest::multipart::Part::bytes(bytes).file_name("clip.mp4");
        let form = reqwest::multipart::Form::new().part("file", part);
        let req = self
            .http
            .post(format!("{}/v1/uploads", self.base))
            .multipart(form);
        let up = self.json(req).await;
        up["video_url"].as_str().unwrap().to_owned()
    }

    /// Runs one job to a PNG sequence and saves the zip at `dest`.
    pub async fn png_sequence(&self, video_url: &str, model: &str, smoothing: bool, dest: &Path) {
        let body = json!({
            "video_url": video_url,
            "model": model,
            "output_format": "png_sequence",
            "temporal_smoothing": smoothing,
        });
        let req = self.http.post(format!("{}/v1/jobs", self.base)).json(&body);
        let id = self.json(req).await["id"].as_str().unwrap().to_owned();
        let started = Instant::now();
        loop {
            let req = self.http.get(format!("{}/v1/jobs/{id}", self.base));
            let job = self.json(req).await;
            match job["status"].as_str() {
                Some("completed") => break,
                Some("pending" | "processing") => {}
                _ => panic!("job {id} ended badly: {job}"),
            }
            assert!(
                started.elapsed() < Duration::from_secs(900),
                "job {id} too slow"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let req = self.http.get(format!("{}/api/download/{id}", self.base));
        let link = self.json(req).await;
        let url = link["download_url"].as_str().unwrap();
        let bytes = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        std::fs::write(dest, &bytes).unwrap();
    }
}
