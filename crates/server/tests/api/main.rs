//! Black-box tests: each spawns the real server (real u2netp model, its own SQLite file and blob
//! directory) on port 0 and talks HTTP to it.

mod helpers;

mod addon;
mod assets;
mod errors;
mod idempotency;
mod jobs;
mod security;
mod system;
mod videos;
