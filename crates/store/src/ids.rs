//! Typed ids: parsed once at the boundary, so a key id can never be passed where a job id goes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (UUIDv7) id: ids sort by creation and index well.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A job (image, asset save or video).
    JobId
);
id_type!(
    /// A billing account; keys belong to one.
    AccountId
);
id_type!(
    /// An API key's public id (the key itself is secret and only its hash is stored).
    KeyId
);
id_type!(
    /// A webhook delivery attempt series.
    DeliveryId
);
id_type!(
    /// An uploaded video, referenced by video jobs.
    VideoId
);
id_type!(
    /// A stored asset (an original image, or a result saved as a new asset).
    AssetId
);

/// Unix time in milliseconds, the unit every table uses.
pub type Millis = i64;

/// The current time in Unix milliseconds.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}
