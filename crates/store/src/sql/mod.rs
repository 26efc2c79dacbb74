//! Every repository trait implemented once, over SQLite and PostgreSQL.
//!
//! **Why this shape.** The two engines share nearly all their SQL: every column is text, a
//! 64-bit integer, a double or a boolean, times are Unix milliseconds, and both bind `$N`
//! placeholders. So each query is written once against a small [`Conn`] trait (run a
//! [`value::Query`], get [`value::Row`]s back), and [`Backend`] and [`Conn`] are implemented
//! once over sqlx (`driver.rs`) for any [`driver::Driver`]. A driver file (`sqlite.rs`,
//! `postgres/mod.rs`) holds only what differs: opening and pragmas, how a write transaction
//! starts, decoding values, the dialect constants (row locks, `SKIP LOCKED`, the queue-bound
//! advisory lock, `NOTIFY`, identity columns in a copy), the preset upsert whose "was it new?"
//! answer differs, and PostgreSQL's `LISTEN`. The higher-ranked sqlx bounds that generic code
//! needs are written on those two impls only; `sqlx::Any` was the alternative, but it lacks
//! SQLite's `BEGIN IMMEDIATE` and PostgreSQL's `LISTEN`, which we would have kept beside it.
//!
//! Adding a column to `jobs` takes five edits: the two migrations, [`schema::JOBS`], the `Job`
//! field and its line in [`rows::job`]; when the API sets it at creation, also the `NewJob`
//! field and its bind in `statements::insert_job`.

mod accounts;
mod assets;
mod backend;
pub(crate) mod driver;
mod jobs;
mod misc;
#[cfg(feature = "postgres")]
pub mod postgres;
mod queue;
pub(crate) mod rows;
pub(crate) mod schema;
mod sequence;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod statements;
pub(crate) mod value;
mod videos;

pub(crate) use backend::{Backend, Conn};

/// Every repository trait over one database backend `B`.
#[derive(Clone, Debug)]
pub struct SqlRepo<B> {
    db: B,
}

// The backends are sealed: only this crate's two implement `Backend`, and users name the
// aliases (`SqliteRepo`, `PgRepo`).
#[allow(private_bounds)]
impl<B: Backend> SqlRepo<B> {
    pub(crate) fn new(db: B) -> Self {
        Self { db }
    }

    pub(crate) fn backend(&self) -> &B {
        &self.db
    }
}
