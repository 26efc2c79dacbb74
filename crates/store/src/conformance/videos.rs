//! The video API's storage checks.

use serde_json::json;

use super::{account, new_job};
use crate::*;

pub async fn videos_upload_list_and_cancel(repo: &dyn Repo) {
    let (a, key) = account(repo, 10).await;
    let (b, _) = account(repo, 0).await;
    let up = VideoUpload {
        id: VideoId::new(),
        account: a.id,
        blob: "videos/x/source".into(),
        filename: "clip.mp4".into(),
        size: 1234,
        info: json!({"duration_secs": 2.0}),
        created_at: now_ms(),
    };
    repo.create_upload(&up).await.unwrap();
    assert_eq!(
        repo.get_upload(a.id, up.id).await.unwrap(),
        Some(up.clone())
    );
    assert_eq!(repo.get_upload(b.id, up.id).await.unwrap(), None);

    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut j = new_job(&a, &key, 2);
        j.kind = "video".into();
        ids.push(j.id);
        assert!(matches!(
            repo.create_job(j, None).await.unwrap(),
            CreateOutcome::Created(_)
        ));
    }
    repo.create_job(new_job(&a, &key, 0), None).await.unwrap();
    let listed = repo.list_jobs(a.id, "video", None, 10, 0).await.unwrap();
    let got: Vec<JobId> = listed.iter().map(|j| j.id).collect();
    assert_eq!(
        got,
        [ids[2], ids[1], ids[0]],
        "newest first, video jobs only"
    );
    let page = repo.list_jobs(a.id, "video", None, 1, 1).await.unwrap();
    assert_eq!(page[0].id, ids[1]);
    assert!(repo
        .list_jobs(b.id, "video", None, 10, 0)
        .await
        .unwrap()
        .is_empty());
    let balance = |id| async move { repo.get_account(id).await.unwrap().unwrap().balance };
    assert_eq!(balance(a.id).await, 4);

    assert_eq!(repo.cancel_job(b.id, ids[0], "client").await.unwrap(), None);
    assert_eq!(
        repo.cancel_job(a.id, ids[0], "client").await.unwrap(),
        Some(Cancelled::Now)
    );
    assert_eq!(balance(a.id).await, 6, "refunded");
    assert_eq!(
        repo.cancel_job(a.id, ids[0], "client").await.unwrap(),
        Some(Cancelled::AlreadyFinal(JobState::Failed))
    );
    assert_eq!(balance(a.id).await, 6, "refunded once");
    let failed = repo
        .list_jobs(a.id, "video", Some(JobState::Failed), 10, 0)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error_code.as_deref(), Some("cancelled"));
    // The ledger shows the grant, three charges and the one refund, newest first.
    let lines = repo.ledger(a.id, 0, 10).await.unwrap();
    let reasons: Vec<&str> = lines.iter().map(|l| l.reason.as_str()).collect();
    assert_eq!(reasons, ["refund", "charge", "charge", "charge", "grant"]);
    assert_eq!((lines[0].delta, lines[0].job), (2, Some(ids[0])));
    assert_eq!(repo.ledger(a.id, 0, 2).await.unwrap().len(), 2);
    assert!(repo
        .ledger(a.id, now_ms() + 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    let events = repo.events(ids[0]).await.unwrap();
    assert_eq!(events.last().unwrap().cause, "cancelled");
}
