//! Closed sets of names that cross module and process boundaries (job kinds, key scopes, ledger
//! reasons): each an enum with one spelling, parsed once where it enters, so nothing downstream
//! compares strings. The database stores the spelling.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A name that is not one of the enum's spellings.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
}

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownName { what: $what, value: s.to_owned() }),
                }
            }
        }
    };
}

named_enum! {
    /// Which worker handler runs a job.
    JobKind, "job kind" {
        /// An image cut-out (`POST /api/v1/upload`).
        Image = "image",
        /// Saving an add-on's answer into the asset store after the client has it.
        AssetSave = "asset_save",
        /// A video job (`POST /v1/jobs`).
        Video = "video",
    }
}

named_enum! {
    /// What an API key may do. A key holds a list of them, or [`Scope::All`].
    Scope, "scope" {
        /// Every scope, present and future (`*`).
        All = "*",
        ImagesWrite = "images:write",
        ImagesRead = "images:read",
        ParamsWrite = "params:write",
        AssetsRead = "assets:read",
        AssetsWrite = "assets:write",
        AddonsBgRemove = "addons:bg_remove",
        VideosWrite = "videos:write",
        VideosRead = "videos:read",
    }
}

named_enum! {
    /// The job's status word as clients see it: finer than its [`crate::JobState`] (what a
    /// running job is doing) and telling a cancel from a failure.
    JobPhase, "job status" {
        Draft = "draft",
        Queued = "queued",
        /// Fetching the input from its URL.
        Fetching = "fetching",
        Processing = "processing",
        /// Storing the result.
        Uploading = "uploading",
        Completed = "completed",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

named_enum! {
    /// Why a ledger line moved credits.
    LedgerReason, "ledger reason" {
        /// Credits an account starts with (`cutout keys create --credits`).
        Grant = "grant",
        /// A job's cost, debited when it was queued (or, for remote videos, once probed).
        Charge = "charge",
        /// A failed or cancelled job's charge given back (once per job).
        Refund = "refund",
        /// Credits added or removed by an operator (`cutout keys credit`).
        Admin = "admin",
    }
}

impl Scope {
    /// Whether a key holding `self` may do what `wanted` allows.
    pub fn grants(self, wanted: Scope) -> bool {
        self == Scope::All || self == wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips() {
        for k in JobKind::ALL {
            assert_eq!(k.as_str().parse::<JobKind>(), Ok(*k));
        }
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>(), Ok(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for r in LedgerReason::ALL {
            assert_eq!(r.to_string().parse::<LedgerReason>(), Ok(*r));
        }
        let err = "root".parse::<Scope>().unwrap_err();
        assert_eq!(err.to_string(), "unknown scope \"root\"");
    }

    #[test]
    fn all_grants_everything_and_others_only_themselves() {
        assert!(Scope::All.grants(Scope::VideosRead));
        assert!(Scope::AssetsRead.grants(Scope::AssetsRead));
        assert!(!Scope::AssetsRead.grants(Scope::AssetsWrite));
    }
}
