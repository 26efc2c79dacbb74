//! Loading: defaults, file, environment, old keys.

use super::*;

#[test]
fn secrets_are_masked_everywhere() {
    let mut c = Config::default();
    c.security.signing_secret = Secret::new("hunter2");
    assert!(!format!("{c:?}").contains("hunter2"));
    assert!(!c.to_masked_toml().contains("hunter2"));
    assert!(c.to_masked_toml().contains("signing_secret = \"***\""));
}

#[test]
fn file_then_env_override_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    std::fs::write(&f, "[limits]\nmax_megapixels = 12.5\nmax_side = 9000\n").unwrap();
    #[allow(clippy::result_large_err)] // figment's own test harness signature
    figment::Jail::expect_with(|jail| {
        jail.set_env("CUTOUT_LIMITS__MAX_SIDE", "4000");
        let c = Config::load(Some(&f)).unwrap();
        assert_eq!(c.limits.max_megapixels, 12.5);
        assert_eq!(c.limits.max_side, 4000);
        assert_eq!(c.jobs.max_attempts, JobsConfig::default().max_attempts);
        Ok(())
    });
}

#[test]
fn old_inference_keys_still_apply() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    let old = "[jobs]\ninference_threads = 3\ndefault_model = \"u2netp\"\ndata_dir = \"/m\"\n";
    std::fs::write(&f, old).unwrap();
    #[allow(clippy::result_large_err)] // figment's own test harness signature
    figment::Jail::expect_with(|_| {
        let c = Config::load(Some(&f)).unwrap();
        assert_eq!(c.inference.threads, 3);
        assert_eq!(c.inference.default_model, "u2netp");
        assert_eq!(c.inference.data_dir.as_deref(), Some(Path::new("/m")));
        assert_eq!(c.jobs.default_model, None, "moved, not shown twice");
        let printed = c.to_masked_toml();
        assert!(printed.contains("[inference]") && !printed.contains("inference_threads"));
        Ok(())
    });
}

#[test]
fn storage_takes_the_tagged_form_and_the_old_urls() {
    let dir = tempfile::tempdir().unwrap();
    let (new, old) = (dir.path().join("new.toml"), dir.path().join("old.toml"));
    let tagged = "[storage.database]\ntype = \"sqlite\"\npath = \"/d/c.db\"\n\
                  [storage.blobs]\ntype = \"local\"\nroot = \"/d/b\"\n";
    std::fs::write(&new, tagged).unwrap();
    let urls = "[storage]\ndatabase_url = \"sqlite:///d/c.db\"\nblob_url = \"file:///d/b\"\n";
    std::fs::write(&old, urls).unwrap();
    #[allow(clippy::result_large_err)] // figment's own test harness signature
    figment::Jail::expect_with(|jail| {
        let a = Config::load(Some(&new)).unwrap();
        let b = Config::load(Some(&old)).unwrap();
        assert_eq!(a.storage, b.storage);
        assert_eq!(
            a.storage.blobs,
            cutout_store::BlobsConfig::Local {
                root: "/d/b".into()
            }
        );
        jail.set_env("CUTOUT_STORAGE__DATABASE__PATH", "/e/c.db");
        let c = Config::load(Some(&new)).unwrap();
        let cutout_store::DatabaseConfig::Sqlite { path, .. } = &c.storage.database else {
            panic!("not sqlite: {:?}", c.storage.database);
        };
        assert_eq!(path, Path::new("/e/c.db"));
        // A value under the new name wins over an old key, whichever source sets it.
        let d = Config::load(Some(&old)).unwrap();
        let cutout_store::DatabaseConfig::Sqlite { path, .. } = &d.storage.database else {
            panic!("not sqlite: {:?}", d.storage.database);
        };
        assert_eq!(path, Path::new("/e/c.db"));
        jail.clear_env();
        std::fs::write(&old, "[storage]\ndatabase_url = \"mysql://x\"\n").unwrap();
        assert!(Config::load(Some(&old)).is_err());
        Ok(())
    });
}

#[test]
fn unknown_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    std::fs::write(&f, "[limits]\nmax_megapixel = 1\n").unwrap();
    assert!(Config::load(Some(&f)).is_err());
}
