//! The asset store's conformance checks.

use serde_json::json;

use crate::jobs::{account, key};
use cutout_store::*;

fn asset(acc: AccountId, name: &str) -> Asset {
    let now = now_ms();
    let id = AssetId::new();
    Asset {
        id,
        account: acc,
        name: name.into(),
        mime: "image/png".into(),
        size: 10,
        width: 4,
        height: 3,
        sha256: "00".into(),
        blob: BlobKey::asset_original(id),
        custom: json!({"team": "a", "tags": ["x"]}),
        source: None,
        created_at: now,
        updated_at: now,
    }
}

fn conversion(name: &str, blob: &str) -> Conversion {
    Conversion {
        name: name.into(),
        blob: key(blob),
        mime: "image/png".into(),
        size: 5,
        width: 4,
        height: 3,
        created_at: now_ms(),
        updated_at: now_ms(),
    }
}

pub async fn assets_are_scoped_listed_and_patched(repo: &dyn Repo) {
    let (a, _) = account(repo, 0).await;
    let (b, _) = account(repo, 0).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let x = asset(a.id, &format!("a{i}.png"));
        repo.create_asset(&x).await.unwrap();
        ids.push(x.id);
    }
    let first = repo.get_asset(a.id, ids[0]).await.unwrap().unwrap();
    assert_eq!((first.name.as_str(), first.width), ("a0.png", 4));
    assert_eq!(first.custom, json!({"team": "a", "tags": ["x"]}));
    // Another account sees nothing, whatever it does.
    assert!(repo.get_asset(b.id, ids[0]).await.unwrap().is_none());
    assert!(repo.list_assets(b.id, None, 10).await.unwrap().is_empty());
    let patch = json!({"team": null, "k": 1});
    assert!(repo
        .patch_asset_custom(b.id, ids[0], &patch)
        .await
        .unwrap()
        .is_none());
    assert!(repo.delete_asset(b.id, ids[0]).await.unwrap().is_none());

    // Newest first, paged by the last id seen.
    let page1 = repo.list_assets(a.id, None, 3).await.unwrap();
    let names: Vec<_> = page1.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["a4.png", "a3.png", "a2.png"]);
    let page2 = repo.list_assets(a.id, Some(page1[2].id), 3).await.unwrap();
    let names: Vec<_> = page2.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["a1.png", "a0.png"]);

    let patched = repo
        .patch_asset_custom(a.id, ids[0], &patch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.custom, json!({"tags": ["x"], "k": 1}));
    let blobs = repo.delete_asset(a.id, ids[0]).await.unwrap().unwrap();
    assert_eq!(blobs, vec![BlobKey::asset_original(ids[0])]);
    assert!(repo.get_asset(a.id, ids[0]).await.unwrap().is_none());
}

pub async fn conversions_replace_atomically(repo: &dyn Repo) {
    let (a, _) = account(repo, 0).await;
    let (b, _) = account(repo, 0).await;
    let x = asset(a.id, "x.png");
    repo.create_asset(&x).await.unwrap();
    let put = |name: &'static str, blob: &'static str, acc: AccountId| async move {
        repo.put_conversion(acc, x.id, &conversion(name, blob))
            .await
            .unwrap()
    };
    assert_eq!(put("cut", "c/1", b.id).await, PutConversion::NoAsset);
    assert_eq!(put("cut", "c/1", a.id).await, PutConversion::Created);
    assert_eq!(
        put("cut", "c/2", a.id).await,
        PutConversion::Replaced {
            old_blob: key("c/1")
        }
    );
    assert_eq!(put("mask", "m/1", a.id).await, PutConversion::Created);
    let got = repo
        .get_conversion(a.id, x.id, "cut")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.blob, key("c/2"));
    assert!(repo
        .get_conversion(b.id, x.id, "cut")
        .await
        .unwrap()
        .is_none());
    let names: Vec<_> = repo
        .list_conversions(a.id, x.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["cut", "mask"]);
    assert!(repo.list_conversions(b.id, x.id).await.unwrap().is_empty());

    // Concurrent writers of one name: each replaces exactly one predecessor, so every blob but
    // the survivor is handed back for deletion once.
    let blobs: Vec<BlobKey> = (0..8).map(|i| key(&format!("r/{i}"))).collect();
    let conv: Vec<Conversion> = blobs
        .iter()
        .map(|b| conversion("race", b.as_str()))
        .collect();
    let repo_ref = &repo;
    let outcomes =
        futures_util::future::join_all(conv.iter().map(|c| repo_ref.put_conversion(a.id, x.id, c)))
            .await;
    let mut freed: Vec<BlobKey> = outcomes
        .into_iter()
        .filter_map(|o| match o.unwrap() {
            PutConversion::Replaced { old_blob } => Some(old_blob),
            _ => None,
        })
        .collect();
    let survivor = repo
        .get_conversion(a.id, x.id, "race")
        .await
        .unwrap()
        .unwrap()
        .blob;
    freed.push(survivor);
    freed.sort();
    assert_eq!(freed, blobs);

    let mut gone = repo.delete_asset(a.id, x.id).await.unwrap().unwrap();
    gone.sort();
    assert_eq!(gone.len(), 4, "{gone:?}");
    assert!(repo
        .get_conversion(a.id, x.id, "cut")
        .await
        .unwrap()
        .is_none());
}
