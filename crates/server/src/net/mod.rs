//! Outbound requests to user-supplied URLs (inputs, backgrounds, webhooks) that cannot be turned
//! against the private network.

pub mod fetch;
pub mod guard;
#[cfg(test)]
mod ssrf_tests;

pub use fetch::{check_url, FetchError, Fetcher};
