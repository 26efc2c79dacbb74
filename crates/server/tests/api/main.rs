//! Black-box tests: each spawns the real server (its own SQLite file and blob directory, the fake
//! segmenter provider unless a test is about the models) on port 0 and talks HTTP to it.

mod helpers;

mod addon;
mod assets;
mod connections;
mod errors;
mod formats;
mod idempotency;
mod jobs;
mod removebg;
mod security;
mod store_copy;
mod system;
mod tenants;
mod videos;
mod web;
