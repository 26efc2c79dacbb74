//! The bg_remove add-on's query parameters, checked against the contract's validation rules.
//! Each rule has its own message, so a 400 says which rule the request broke.

use bytes::Bytes;
use cutout_store::AssetId;
use serde_json::{Map, Value};

/// What the call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddonMode {
    /// The PNG only; nothing is saved.
    GetImage,
    /// Saves, answers JSON.
    SaveImage,
    /// The PNG now; the save completes in the background.
    GetImageAndSave,
}

/// Where a save goes, as requested (before the assets it names are looked up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    AddConversion {
        asset_id: AssetId,
        name: String,
    },
    AddNewAsset {
        source: Option<AssetId>,
        inherit: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddonRequest {
    pub mode: AddonMode,
    /// `None` for `get_image` (the disposition is ignored there).
    pub save: Option<Disposition>,
    /// Whether the client sent `asset_id` in the query (the contract echoes it only then).
    pub asset_id_given: bool,
}

fn valid_conversion_name(s: &str) -> bool {
    (1..=30).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Applies the contract's rules. `path_asset` is the asset in the path of
/// `/api/v1/assets/{asset_id}/addons/bg_remove`: it stands in for a missing `asset_id`.
pub fn parse(q: &Map<String, Value>, path_asset: Option<AssetId>) -> Result<AddonRequest, String> {
    let get = |k: &str| q.get(k).and_then(Value::as_str).map(str::trim);
    let mode = match get("mode").filter(|m| !m.is_empty()) {
        None | Some("get_image") => AddonMode::GetImage,
        Some("save_image") => AddonMode::SaveImage,
        Some("get_image_and_save") => AddonMode::GetImageAndSave,
        Some(_) => {
            return Err("mode must be one of get_image, save_image, get_image_and_save".into())
        }
    };
    let query_asset = match get("asset_id").filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(
            a.parse::<AssetId>()
                .map_err(|_| "asset_id must be an asset id".to_owned())?,
        ),
    };
    let asset_id = query_asset.or(path_asset);
    let base = AddonRequest {
        mode,
        save: None,
        asset_id_given: query_asset.is_some(),
    };
    if mode == AddonMode::GetImage {
        return Ok(base);
    }
    let metadata = get("metadata");
    let save = match get("disposition").filter(|d| !d.is_empty()) {
        None => {
            return Err(
                "disposition is required when mode is save_image or get_image_and_save".into(),
            )
        }
        Some("add_conversion") => {
            if metadata.is_some() {
                return Err("metadata is only allowed when disposition is add_new_asset".into());
            }
            let asset_id = asset_id
                .ok_or("asset_id query parameter is required when disposition is add_conversion")?;
            let name = get("conversion_name").unwrap_or_default();
            if !valid_conversion_name(name) {
                return Err("conversion_name is required when disposition is add_conversion and must match ^[a-zA-Z0-9_-]{1,30}$".into());
            }
            Disposition::AddConversion {
                asset_id,
                name: name.to_owned(),
            }
        }
        Some("add_new_asset") => {
            let inherit = match metadata {
                None => false,
                Some("inherit") => true,
                Some(_) => return Err("metadata must be inherit".into()),
            };
            if inherit && asset_id.is_none() {
                return Err("metadata=inherit requires the asset_id query parameter".into());
            }
            Disposition::AddNewAsset {
                source: asset_id,
                inherit,
            }
        }
        Some(_) => return Err("disposition must be one of add_conversion, add_new_asset".into()),
    };
    Ok(AddonRequest {
        save: Some(save),
        ..base
    })
}

/// One add-on call, whatever route it came in by.
pub(super) struct Call {
    pub(super) req: AddonRequest,
    /// Query parameters and form/JSON fields: the add-on's own and the processing options.
    pub(super) fields: Map<String, Value>,
    pub(super) input: Bytes,
    pub(super) input_name: Option<String>,
    pub(super) idem: Option<String>,
    pub(super) hash: String,
    pub(super) request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(q: Value, path: Option<AssetId>) -> Result<AddonRequest, String> {
        parse(q.as_object().unwrap(), path)
    }

    #[test]
    fn every_rule_has_its_own_message() {
        let id = AssetId::new().to_string();
        let cases = [
            (json!({"mode": "zip"}), "mode must be one of"),
            (json!({"mode": "save_image"}), "disposition is required"),
            (
                json!({"mode": "get_image_and_save"}),
                "disposition is required",
            ),
            (
                json!({"mode": "save_image", "disposition": "x"}),
                "disposition must be one of",
            ),
            (
                json!({"mode": "save_image", "disposition": "add_conversion", "conversion_name": "a"}),
                "asset_id query parameter is required",
            ),
            (
                json!({"mode": "save_image", "disposition": "add_conversion", "asset_id": id}),
                "conversion_name is required",
            ),
            (
                json!({"mode": "save_image", "disposition": "add_conversion", "asset_id": id, "conversion_name": "a b"}),
                "must match ^[a-zA-Z0-9_-]{1,30}$",
            ),
            (
                json!({"mode": "save_image", "disposition": "add_conversion", "asset_id": id, "conversion_name": "a".repeat(31)}),
                "must match",
            ),
            (
                json!({"mode": "save_image", "disposition": "add_conversion", "asset_id": id, "conversion_name": "a", "metadata": "inherit"}),
                "metadata is only allowed when disposition is add_new_asset",
            ),
            (
                json!({"mode": "save_image", "disposition": "add_new_asset", "metadata": "copy"}),
                "metadata must be inherit",
            ),
            (
                json!({"mode": "save_image", "disposition": "add_new_asset", "metadata": "inherit"}),
                "metadata=inherit requires the asset_id",
            ),
            (
                json!({"mode": "save_image", "disposition": "add_new_asset", "asset_id": "nope"}),
                "asset_id must be an asset id",
            ),
        ];
        for (q, want) in cases {
            let err = run(q.clone(), None).unwrap_err();
            assert!(err.contains(want), "{q}: {err}");
        }
    }

    #[test]
    fn valid_requests_parse() {
        let id = AssetId::new();
        let r = run(json!({}), None).unwrap();
        assert_eq!((r.mode, r.save), (AddonMode::GetImage, None));
        // get_image ignores the save parameters entirely.
        let r = run(json!({"disposition": "bogus", "metadata": "x"}), None).unwrap();
        assert_eq!(r.save, None);
        let r = run(json!({"mode": "save_image", "disposition": "add_conversion", "conversion_name": "no_bg-1"}), Some(id)).unwrap();
        assert_eq!(
            r.save,
            Some(Disposition::AddConversion {
                asset_id: id,
                name: "no_bg-1".into()
            })
        );
        assert!(!r.asset_id_given);
        let r = run(json!({"mode": "get_image_and_save", "disposition": "add_new_asset", "metadata": "inherit", "asset_id": id.to_string()}), None).unwrap();
        assert_eq!(
            r.save,
            Some(Disposition::AddNewAsset {
                source: Some(id),
                inherit: true
            })
        );
        assert!(r.asset_id_given);
        let r = run(
            json!({"mode": "save_image", "disposition": "add_new_asset"}),
            None,
        )
        .unwrap();
        assert_eq!(
            r.save,
            Some(Disposition::AddNewAsset {
                source: None,
                inherit: false
            })
        );
    }
}
