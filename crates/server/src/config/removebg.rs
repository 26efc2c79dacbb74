//! `[removebg]`: the remove.bg-compatible API (`POST /v1.0/removebg`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RemoveBgConfig {
    /// Credits for a result of at most 0.25 MP (`size=preview`, `small`, `regular`). remove.bg
    /// charges 0.25; Cutout's ledger counts whole credits, so previews are free by default.
    pub credits_preview: i64,
    /// Credits for any larger result (`medium`, `hd`, `full`, `4k`, `50MP`, `auto`), as remove.bg.
    pub credits_full: i64,
    /// How long a call waits for a free inference slot (`limits.max_inline_jobs`, shared with
    /// the add-on) before answering 503 with `Retry-After`, in milliseconds.
    pub max_wait_ms: u64,
    /// The model for `type=person` (a portrait matting model); other types use
    /// `inference.default_model`. Falls back to the default when not installed.
    pub person_model: String,
}

impl Default for RemoveBgConfig {
    fn default() -> Self {
        Self {
            credits_preview: 0,
            credits_full: 1,
            max_wait_ms: 2000,
            person_model: "modnet".into(),
        }
    }
}
