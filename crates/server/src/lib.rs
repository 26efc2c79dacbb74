//! Cutout's HTTP API and job workers, in layers whose imports point one way:
//!
//! - [`api`]: one module per API family (router, handlers, request/response types, dialect);
//! - [`http`]: what the families share at the HTTP level (auth, deadline, error rendering,
//!   metrics, idempotency, extractors);
//! - [`service`]: domain operations the families and the workers both call, and the state;
//! - [`worker`]: the job loop and one module per job kind, on `service` only;
//! - [`net`]: the guarded client for user-supplied URLs;
//! - [`web`]: the page at `/` (static files compiled in; it only calls the public API).
//!
//! `api` → `http` → `service` ← `worker`; `service` imports none of them
//! (`scripts/check-module-cycles.py` checks it). The crate links neither ONNX Runtime nor ffmpeg:
//! segmentation comes in through [`SegmenterProvider`], so API tests build fast and the binary
//! plugs in the real runtime.

pub mod api;
pub mod app;
pub mod config;
pub mod error;
pub mod http;
pub mod keys;
mod listen;
pub mod logging;
mod metrics;
pub mod net;
pub mod service;
mod time;
pub mod web;
pub mod worker;

pub use app::{Application, StartupError};
pub use config::Config;
pub use cutout_core::SegmenterProvider;
pub use service::state;
pub use service::webhook::deliver_due;
