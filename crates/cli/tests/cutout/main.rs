//! Black-box tests of the `cutout` binary, as one test binary: each of these links the whole
//! server through the test kit, and one link instead of six saves CI minutes.

mod admin;
mod cluster;
mod models;
mod remove;
mod secrets;
mod serve_crash;
