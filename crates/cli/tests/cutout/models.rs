//! Models users bring, end to end through the `cutout` binary: a local HTTP server stands in for
//! the model hub. A download whose checksum does not match the catalogue is refused; a good one
//! installs; `import` vets a file against its family; the imported models are listed with their
//! licences and run by name in `cutout remove` and in a job through the HTTP API, one of them as
//! `inference.default_model`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use cutout_testkit::cli::Cli;
use cutout_testkit::fixtures::{scratch_data_dir, tiny_model, PERSON};
use cutout_testkit::process;
use cutout_testkit::require;

/// Serves `body` for every GET on a free port; counts requests.
fn hub(body: Vec<u8>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: application/octet-stream\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    (port, hits)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write_catalogue(dir: &Path, port: u16, sha256: &str) -> std::path::PathBuf {
    let url = format!("http://127.0.0.1:{port}/tiny.onnx");
    let toml = format!(
        "[[hub]]\nname = \"tiny-hub\"\nfamily = \"u2net\"\nurl = \"{url}\"\nsha256 = \"{sha256}\"\n\
         license = \"MIT (hub test)\"\nsummary = \"a 1x1 convolution\"\n\n\
         [[hub]]\nname = \"tiny-tampered\"\nfamily = \"u2net\"\nurl = \"{url}\"\nsha256 = \"{}\"\n\
         license = \"MIT\"\nsummary = \"its checksum does not match\"\n",
        "0".repeat(64)
    );
    let path = dir.join("catalogue.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn hub_models_and_imports_are_vetted_listed_and_run_everywhere() {
    require!(Models);
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data = scratch_data_dir(&data_dir);
    let tiny = std::fs::read(tiny_model("tiny-u2net")).unwrap();
    let (port, hits) = hub(tiny.clone());
    let catalogue = write_catalogue(dir.path(), port, &hex::encode(Sha256::digest(&tiny)));
    let cli = Cli::new(env!("CARGO_BIN_EXE_cutout"))
        .env("CUTOUT_DATA_DIR", &data_dir)
        .env("CUTOUT_CATALOGUE", &catalogue);
    let run = |args: &[&str]| cli.run(args);

    let o = run(&["models", "install", "tiny-tampered"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("sha256 mismatch"), "{}", text(&o));
    assert_eq!(hits.load(Ordering::SeqCst), 1, "downloaded once");
    assert!(
        data.imported().is_empty(),
        "a refused download is not listed"
    );

    let o = run(&["models", "install", "tiny-hub"]);
    assert!(o.status.success(), "{}", text(&o));

    let u2 = tiny_model("tiny-u2net");
    let bi = tiny_model("tiny-birefnet");
    let o = cli.run([
        "models",
        "import",
        "wrong",
        u2.to_str().unwrap(),
        "--family",
        "birefnet",
        "--licence",
        "MIT",
    ]);
    assert!(
        !o.status.success() && text(&o).contains("1024"),
        "{}",
        text(&o)
    );
    let o = cli.run([
        "models",
        "import",
        "mine-bi",
        bi.to_str().unwrap(),
        "--family",
        "birefnet",
        "--licence",
        "CC-BY-4.0 (test weights)",
    ]);
    assert!(o.status.success(), "{}", text(&o));

    let o = run(&["models", "list"]);
    let listing = text(&o);
    for want in [
        "tiny-hub",
        "MIT (hub test)",
        "mine-bi",
        "CC-BY-4.0 (test weights)",
        "birefnet-lite",
    ] {
        assert!(listing.contains(want), "{want} missing from:\n{listing}");
    }
    assert!(!listing.contains("wrong"), "{listing}");

    let out = dir.path().join("out.png");
    let person = cutout_testkit::fixtures::path("person.jpg");
    let o = cli.run([
        "remove",
        "-m",
        "tiny-hub",
        "--engine",
        "onnxruntime",
        person.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(image::open(&out).is_ok());

    through_the_api(dir.path(), &data_dir).await;
}

/// `cutout serve` with an imported model as the default: `/v1/models` lists both imports with
/// their licences, and image jobs run on either.
async fn through_the_api(dir: &Path, data_dir: &Path) {
    let d = dir.display();
    let config = dir.join("cutout.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"127.0.0.1:0\"\n[storage]\ndatabase_url = \"sqlite://{d}/cutout.db\"\n\
             blob_url = \"file://{d}/blobs\"\n[security]\nsigning_secret_file = \"{d}/signing.key\"\n\
             [limits]\nrate_limit_per_minute = 0\n[inference]\nengine = \"onnxruntime\"\n\
             default_model = \"mine-bi\"\ndata_dir = \"{}\"\n",
            data_dir.display()
        ),
    )
    .unwrap();
    let cutout = || Cli::new(env!("CARGO_BIN_EXE_cutout")).cmd();
    let key = process::create_key(cutout(), &config, 10);
    let mut cmd: Command = cutout();
    cmd.args(["serve", "--config"]).arg(&config);
    let (_server, line) = process::start(cmd, "listening");
    let base = format!("http://127.0.0.1:{}", line["port"].as_u64().unwrap());
    let client = reqwest::Client::new();
    let get = |path: String| {
        let req = client
            .get(format!("{base}{path}"))
            .header("x-api-key", &key);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let models = get("/v1/models".into()).await;
    let find = |name: &str| {
        models["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in {models}"))
    };
    assert_eq!(find("mine-bi")["licence"], "CC-BY-4.0 (test weights)");
    assert_eq!(find("mine-bi")["default"], true);
    assert_eq!(find("tiny-hub")["licence"], "MIT (hub test)");
    assert_eq!(find("tiny-hub")["engine"], "onnxruntime");
    let ready = get("/readyz".into()).await;
    let runs = ready["inference"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "mine-bi")
        .cloned()
        .unwrap_or_else(|| panic!("mine-bi not in {ready}"));
    assert_eq!(
        (&runs["engine"], &runs["device"], &runs["precision"]),
        (&"onnxruntime".into(), &"cpu".into(), &"f32".into())
    );
    for model in [None, Some("tiny-hub")] {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(PERSON.to_vec()).file_name("p.jpg"),
        );
        if let Some(m) = model {
            form = form.text("model", m);
        }
        let r = client
            .post(format!("{base}/api/v1/upload"))
            .header("x-api-key", &key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{model:?}");
        let job = r.json::<Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let t = Instant::now();
        loop {
            let s = get(format!("/api/v1/status?job_id={job}")).await;
            if s["state"] == "done" {
                break;
            }
            assert!(s["state"] != "failed", "{s}");
            assert!(t.elapsed() < Duration::from_secs(60), "{s}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
