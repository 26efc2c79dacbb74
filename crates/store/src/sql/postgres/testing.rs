//! Test support: a fresh, empty database per test on a shared PostgreSQL server, dropped when
//! the guard goes. The test command (`scripts/test.sh`) starts the server and names it in
//! `CUTOUT_TEST_PG_URL`.

use sqlx::{Connection, PgConnection};

use crate::secret::DatabaseUrl;
use crate::StoreError;

/// The admin URL of the tests' server, if the test command set one.
pub fn server_url() -> Option<String> {
    std::env::var("CUTOUT_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Runs one statement on the server at `admin` (to take a test's database away and back).
pub async fn admin_execute(admin: &str, sql: &str) -> Result<(), StoreError> {
    let mut conn = PgConnection::connect(admin).await?;
    sqlx::query(sql).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// A database that exists until this is dropped.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    admin: String,
    pub name: String,
}

/// Creates `cutout_test_<random>` on the server at `admin` (an URL to any database there).
pub async fn fresh_database(admin: &str) -> Result<TestDatabase, StoreError> {
    let name = format!("cutout_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(admin).await?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    Ok(TestDatabase {
        url: DatabaseUrl::new(format!("{base}/{name}")),
        admin: admin.to_owned(),
        name,
    })
}

impl Drop for TestDatabase {
    /// Drops the database from a thread of its own: `Drop` cannot await, and the test's runtime
    /// may be shutting down. `WITH (FORCE)` ends the pool's connections still open.
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                sqlx::query(&sql).execute(&mut conn).await.ok()
            })
        });
        let _ = dropped.join();
    }
}
