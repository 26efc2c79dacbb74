//! Rows back into records, once for every backend.

use super::value::Row;
use crate::model::*;
use crate::StoreError;

type R<T> = Result<T, StoreError>;

pub(crate) fn job(row: &Row) -> R<Job> {
    Ok(Job {
        id: row.parsed("id")?,
        account: row.parsed("account_id")?,
        key: row.parsed("key_id")?,
        kind: row.parsed("kind")?,
        mode: row.get("mode")?,
        spec: row.json("spec")?,
        input_key: row.get("input_key")?,
        state: row.parsed("state")?,
        status: row.parsed("status")?,
        progress: row.get::<i64>("progress")?.clamp(0, 100) as u8,
        attempts: row.get::<i64>("attempts")? as u32,
        max_attempts: row.get::<i64>("max_attempts")? as u32,
        claimed_by: row.get("claimed_by")?,
        result: row.json_opt("result")?,
        error_code: row.get("error_code")?,
        error_message: row.get("error_message")?,
        cost: row.get("cost")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        finished_at: row.get("finished_at")?,
    })
}

pub(crate) fn key(row: &Row) -> R<ApiKey> {
    let scopes: String = row.get("scopes")?;
    Ok(ApiKey {
        id: row.parsed("id")?,
        account: row.parsed("account_id")?,
        name: row.get("name")?,
        prefix: row.get("prefix")?,
        scopes: scopes
            .split_whitespace()
            .map(|s| {
                s.parse()
                    .map_err(|_| StoreError::Corrupt(format!("unknown scope {s:?}")))
            })
            .collect::<R<_>>()?,
        created_at: row.get("created_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

pub(crate) fn asset(row: &Row) -> R<Asset> {
    Ok(Asset {
        id: row.parsed("id")?,
        account: row.parsed("account_id")?,
        name: row.get("name")?,
        mime: row.get("mime")?,
        size: row.get::<i64>("size")? as u64,
        width: row.get::<i64>("width")? as u32,
        height: row.get::<i64>("height")? as u32,
        sha256: row.get("sha256")?,
        blob: row.get("blob")?,
        custom: row.json("custom")?,
        source: row.parsed_opt("source_asset_id")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub(crate) fn conversion(row: &Row) -> R<Conversion> {
    Ok(Conversion {
        name: row.get("name")?,
        blob: row.get("blob")?,
        mime: row.get("mime")?,
        size: row.get::<i64>("size")? as u64,
        width: row.get::<i64>("width")? as u32,
        height: row.get::<i64>("height")? as u32,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub(crate) fn preset(row: &Row) -> R<Preset> {
    Ok(Preset {
        name: row.get("name")?,
        params: row.json("params")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub(crate) fn delivery(row: &Row) -> R<Delivery> {
    Ok(Delivery {
        id: row.parsed("id")?,
        job: row.parsed("job_id")?,
        account: row.parsed("account_id")?,
        event: row.get("event")?,
        url: row.get("url")?,
        body: row.get("body")?,
        attempts: row.get::<i64>("attempts")? as u32,
    })
}
