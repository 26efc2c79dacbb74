//! The application as a value under test (zero2prod's `spawn_app`): each test gets its own
//! server on port 0 with its own database, blob directory and key, workers off (tests drain
//! the queue when they choose), and typed helpers for the endpoints it calls. The fake provider
//! is the default, so none of this needs ONNX Runtime.
//!
//! The database is a SQLite file, or with `CUTOUT_TEST_DATABASE=postgres` a fresh database on
//! the tests' PostgreSQL server (`CUTOUT_TEST_PG_URL`); blobs are a directory, or with
//! `CUTOUT_TEST_BLOBS=s3` a fresh bucket on the tests' S3 server: the same black-box suites run
//! on the embedded and the scale-out backends.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use bytes::Bytes;
use cutout_core::SegmenterProvider;
use cutout_server::state::AppState;
use cutout_server::{Application, Config};
use cutout_store::{AccountId, Scope};
use serde_json::Value;

use crate::fake::FakeProvider;
use crate::fixtures::PERSON;

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub key: String,
    pub account: AccountId,
    pub webhook_secret: String,
    pub client: reqwest::Client,
    config: Config,
    provider: Arc<dyn SegmenterProvider>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    dir: tempfile::TempDir,
    /// Keeps a PostgreSQL test database until the app is dropped.
    _database: Option<Arc<cutout_store::postgres::testing::TestDatabase>>,
}

/// The blob store a test app runs on: `CUTOUT_TEST_BLOBS` (`local`, the default, or `s3`: a
/// fresh bucket on the tests' S3 server, `CUTOUT_TEST_S3_ENDPOINT`).
fn test_blobs(dir: &std::path::Path) -> cutout_store::BlobsConfig {
    let backend = std::env::var("CUTOUT_TEST_BLOBS").unwrap_or_default();
    match backend.as_str() {
        "" | "local" => cutout_store::BlobsConfig::Local {
            root: dir.join("blobs"),
        },
        "s3" => cutout_store::BlobsConfig::S3(
            cutout_store::blob::testing::fresh_bucket()
                .expect("CUTOUT_TEST_BLOBS=s3 needs CUTOUT_TEST_S3_ENDPOINT (scripts/test.sh)"),
        ),
        other => panic!("CUTOUT_TEST_BLOBS={other:?}: use local or s3"),
    }
}

/// The database a test app runs on: `CUTOUT_TEST_DATABASE` (`sqlite`, the default, or
/// `postgres`).
async fn test_database(
    dir: &std::path::Path,
) -> (
    cutout_store::DatabaseConfig,
    Option<Arc<cutout_store::postgres::testing::TestDatabase>>,
) {
    let backend = std::env::var("CUTOUT_TEST_DATABASE").unwrap_or_default();
    match backend.as_str() {
        "" | "sqlite" => {
            let path = dir.join("cutout.db");
            let config = cutout_store::DatabaseConfig::Sqlite {
                path,
                max_connections: 8,
            };
            (config, None)
        }
        "postgres" => {
            let admin = cutout_store::postgres::testing::server_url()
                .expect("CUTOUT_TEST_DATABASE=postgres needs CUTOUT_TEST_PG_URL (scripts/test.sh)");
            let db = cutout_store::postgres::testing::fresh_database(&admin)
                .await
                .unwrap();
            let config = cutout_store::DatabaseConfig::Postgres {
                url: db.url.clone(),
                max_connections: 8,
            };
            cutout_store::migrate(&config).await.unwrap();
            (config, Some(Arc::new(db)))
        }
        other => panic!("CUTOUT_TEST_DATABASE={other:?}: use sqlite or postgres"),
    }
}

/// Spawns a server on the fake provider with workers off and one key with 100 credits.
pub async fn spawn_app(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(FakeProvider::shared(), tweak).await
}

/// [`spawn_app`] on a provider of the test's choosing (a [`FakeProvider`] it keeps a handle
/// to, or the real one from `crate::real` for tests about the models themselves).
pub async fn spawn_app_with(
    provider: Arc<dyn SegmenterProvider>,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::default();
    c.server.bind = "127.0.0.1:0".parse().unwrap();
    let (database, guard) = test_database(dir.path()).await;
    c.storage.database = database;
    c.storage.blobs = test_blobs(dir.path());
    c.security.signing_secret_file = dir.path().join("signing.key");
    c.jobs.run_workers = false;
    c.inference.default_model = "u2netp".into();
    c.jobs.retry_backoff_secs = 0;
    c.fetch.allow_hosts = vec!["127.0.0.1".into()];
    tweak(&mut c);
    let mut app = start(c, dir, provider, guard).await;
    let (key, account, webhook_secret) = create_key(&app.state, 100, &[Scope::All]).await;
    (app.key, app.account, app.webhook_secret) = (key, account, webhook_secret);
    app
}

async fn start(
    config: Config,
    dir: tempfile::TempDir,
    provider: Arc<dyn SegmenterProvider>,
    database: Option<Arc<cutout_store::postgres::testing::TestDatabase>>,
) -> TestApp {
    let app = Application::build(config.clone(), provider.clone(), true)
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        state,
        key: String::new(),
        account: AccountId::new(),
        webhook_secret: String::new(),
        client: reqwest::Client::new(),
        config,
        provider,
        stop: Some(stop),
        server,
        dir,
        _database: database,
    }
}

impl TestApp {
    /// Stops this server and starts a new one on the same database and blobs, as a restart
    /// would; the key stays valid.
    pub async fn restart(mut self) -> TestApp {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await.unwrap().unwrap();
        let (key, account, secret) = (self.key.clone(), self.account, self.webhook_secret.clone());
        let database = self._database.clone();
        let mut app = start(
            self.config.clone(),
            self.dir,
            self.provider.clone(),
            database,
        )
        .await;
        (app.key, app.account, app.webhook_secret) = (key, account, secret);
        app
    }

    /// A second API node on the same database and blob store (as a scale-out deployment runs
    /// several), answering to the same keys.
    pub async fn another_node(&self) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let database = self._database.clone();
        let mut app = start(self.config.clone(), dir, self.provider.clone(), database).await;
        (app.key, app.account, app.webhook_secret) =
            (self.key.clone(), self.account, self.webhook_secret.clone());
        app
    }

    /// The configuration the app runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The blob store's directory.
    pub fn blob_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("blobs")
    }
}

/// A new account with one key: (key, account, webhook secret).
pub async fn create_key(
    state: &AppState,
    credits: i64,
    scopes: &[Scope],
) -> (String, AccountId, String) {
    let secret = cutout_server::keys::webhook_secret();
    let acc = state
        .repo
        .create_account("test", credits, &secret)
        .await
        .unwrap();
    let key = cutout_server::keys::generate();
    state
        .repo
        .create_key(
            acc.id,
            "test",
            &cutout_server::keys::hash(&key),
            "ck",
            scopes,
        )
        .await
        .unwrap();
    (key, acc.id, secret)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .header("x-api-key", &self.key)
    }

    /// A request with another key than the app's own.
    pub fn with_key(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("x-api-key", key)
    }

    /// GETs a public (keyless) route and parses its JSON.
    pub async fn public_json(&self, path: &str) -> Value {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        r.json().await.unwrap()
    }

    /// GETs `path` with the app's key and parses the JSON answer.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).send().await.unwrap().json().await.unwrap()
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(self.url(path))
            .header("x-api-key", &self.key)
    }

    /// Multipart upload of `bytes` with extra text fields.
    pub async fn upload_file(&self, bytes: &[u8], fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec())
                .file_name("in.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        self.post("/api/v1/upload")
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads, expects 202, and returns the job id.
    pub async fn queue(&self, fields: &[(&str, &str)]) -> String {
        let r = self.upload_file(PERSON, fields).await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
        r.json::<Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn drain(&self) -> usize {
        cutout_server::worker::drain(&self.state).await
    }

    pub async fn status(&self, job: &str) -> Value {
        let r = self
            .get(&format!("/api/v1/status?job_id={job}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn balance(&self) -> i64 {
        self.state
            .repo
            .get_account(self.account)
            .await
            .unwrap()
            .unwrap()
            .balance
    }

    /// Runs the queue, checks the job completed, and downloads its result.
    pub async fn result(&self, job: &str) -> (Value, Bytes) {
        self.drain().await;
        let s = self.status(job).await;
        assert_eq!(
            (s["state"].as_str(), s["status"].as_str()),
            (Some("done"), Some("completed")),
            "{s}"
        );
        let url = s["final_url"].as_str().unwrap().to_owned();
        let r = self.client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        (s, r.bytes().await.unwrap())
    }
}

/// A stand-in for the internet: serves the test photo, redirects, and records webhook calls.
pub struct Fixture {
    pub base: String,
    pub hooks: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    /// Served at `/f/{name}`.
    pub files: Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>>,
}

pub async fn fixture() -> Fixture {
    let hooks: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let recorded = hooks.clone();
    let files: Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>> = Arc::default();
    let served = files.clone();
    let app = axum::Router::new()
        .route(
            "/f/{name}",
            get(
                move |axum::extract::Path(name): axum::extract::Path<String>| {
                    let found = served.lock().unwrap().get(&name).cloned();
                    async move {
                        match found {
                            Some(b) => b.into_response(),
                            None => axum::http::StatusCode::NOT_FOUND.into_response(),
                        }
                    }
                },
            ),
        )
        .route(
            "/person.jpg",
            get(|| async { ([("content-type", "image/jpeg")], PERSON) }),
        )
        .route("/text.jpg", get(|| async { "just some text" }))
        .route(
            "/to-metadata",
            get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }),
        )
        .route("/gone", get(|| async { axum::http::StatusCode::NOT_FOUND }))
        .route(
            "/hook",
            post(move |headers: HeaderMap, body: String| {
                let recorded = recorded.clone();
                async move {
                    recorded.lock().unwrap().push((headers, body));
                    "ok".into_response()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Fixture { base, hooks, files }
}

/// Decodes a result and returns (width, height, min alpha, max alpha).
pub fn alpha_range(bytes: &[u8]) -> (u32, u32, u8, u8) {
    let img = image::load_from_memory(bytes).unwrap().to_rgba8();
    let (lo, hi) = img
        .pixels()
        .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p[3]), hi.max(p[3])));
    (img.width(), img.height(), lo, hi)
}
