//! The schema, described once: every table with its columns and their kinds, parents before
//! children. The queries' column lists and `cutout store copy` both come from here; the
//! migrations (per backend, their DDL differs) must create exactly these columns, which the copy
//! test checks by round-tripping every table.

use std::sync::LazyLock;

/// A column's kind, which is also how a NULL in it binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Int,
    Real,
    Bool,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: Kind,
}

#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    /// The primary key, for paging in a stable order.
    pub key: &'static str,
    pub columns: &'static [Column],
    /// The database generates `id` (an identity column): a copy keeps the source's ids.
    pub generated_id: bool,
}

impl Table {
    /// `a, b, c`: every column, for `SELECT` and `INSERT` lists.
    pub fn column_list(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        names.join(", ")
    }
}

const fn t(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Text,
    }
}
const fn i(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Int,
    }
}

pub(crate) const ACCOUNTS: Table = Table {
    name: "accounts",
    key: "id",
    columns: &[
        t("id"),
        t("name"),
        i("balance"),
        t("webhook_secret"),
        i("created_at"),
    ],
    generated_id: false,
};

pub(crate) const API_KEYS: Table = Table {
    name: "api_keys",
    key: "id",
    columns: &[
        t("id"),
        t("account_id"),
        t("name"),
        t("hash"),
        t("prefix"),
        t("scopes"),
        i("created_at"),
        i("revoked_at"),
    ],
    generated_id: false,
};

pub(crate) const LEDGER: Table = Table {
    name: "ledger",
    key: "id",
    columns: &[
        i("id"),
        t("account_id"),
        i("delta"),
        t("reason"),
        t("job_id"),
        i("created_at"),
    ],
    generated_id: true,
};

pub(crate) const JOBS: Table = Table {
    name: "jobs",
    key: "id",
    columns: &[
        t("id"),
        t("account_id"),
        t("key_id"),
        t("kind"),
        t("mode"),
        t("spec"),
        t("input_key"),
        t("state"),
        t("status"),
        i("progress"),
        i("attempts"),
        i("max_attempts"),
        i("run_after"),
        t("claimed_by"),
        i("heartbeat_at"),
        t("result"),
        t("error_code"),
        t("error_message"),
        i("cost"),
        i("created_at"),
        i("updated_at"),
        i("finished_at"),
    ],
    generated_id: false,
};

pub(crate) const JOB_EVENTS: Table = Table {
    name: "job_events",
    key: "id",
    columns: &[
        i("id"),
        t("job_id"),
        i("at"),
        t("from_state"),
        t("to_state"),
        t("actor"),
        t("cause"),
    ],
    generated_id: true,
};

pub(crate) const PRESETS: Table = Table {
    name: "presets",
    key: "account_id, name",
    columns: &[
        t("account_id"),
        t("name"),
        t("params"),
        i("created_at"),
        i("updated_at"),
    ],
    generated_id: false,
};

pub(crate) const IDEMPOTENCY: Table = Table {
    name: "idempotency",
    key: "key_id, idem_key",
    columns: &[
        t("key_id"),
        t("idem_key"),
        t("request_hash"),
        i("status"),
        t("body"),
        i("created_at"),
    ],
    generated_id: false,
};

pub(crate) const WEBHOOK_DELIVERIES: Table = Table {
    name: "webhook_deliveries",
    key: "id",
    columns: &[
        t("id"),
        t("job_id"),
        t("account_id"),
        t("event"),
        t("url"),
        t("body"),
        i("attempts"),
        i("next_at"),
        t("state"),
        t("last_error"),
        i("created_at"),
    ],
    generated_id: false,
};

pub(crate) const ASSETS: Table = Table {
    name: "assets",
    key: "id",
    columns: &[
        t("id"),
        t("account_id"),
        t("name"),
        t("mime"),
        i("size"),
        i("width"),
        i("height"),
        t("sha256"),
        t("blob"),
        t("custom"),
        t("source_asset_id"),
        i("created_at"),
        i("updated_at"),
    ],
    generated_id: false,
};

pub(crate) const ASSET_CONVERSIONS: Table = Table {
    name: "asset_conversions",
    key: "asset_id, name",
    columns: &[
        t("asset_id"),
        t("name"),
        t("blob"),
        t("mime"),
        i("size"),
        i("width"),
        i("height"),
        i("created_at"),
        i("updated_at"),
    ],
    generated_id: false,
};

pub(crate) const VIDEO_UPLOADS: Table = Table {
    name: "video_uploads",
    key: "id",
    columns: &[
        t("id"),
        t("account_id"),
        t("blob"),
        t("filename"),
        i("size"),
        t("info"),
        i("created_at"),
    ],
    generated_id: false,
};

pub(crate) const RATE_BUCKETS: Table = Table {
    name: "rate_buckets",
    key: "key_id",
    columns: &[
        t("key_id"),
        Column {
            name: "tokens",
            kind: Kind::Real,
        },
        i("at"),
        Column {
            name: "allowed",
            kind: Kind::Bool,
        },
    ],
    generated_id: false,
};

/// Every table, parents before children (the order a copy inserts in).
pub(crate) const TABLES: &[&Table] = &[
    &ACCOUNTS,
    &API_KEYS,
    &LEDGER,
    &JOBS,
    &JOB_EVENTS,
    &PRESETS,
    &IDEMPOTENCY,
    &WEBHOOK_DELIVERIES,
    &ASSETS,
    &ASSET_CONVERSIONS,
    &VIDEO_UPLOADS,
    &RATE_BUCKETS,
];

/// The column lists the queries select, made once.
pub(crate) static JOB_COLUMNS: LazyLock<String> = LazyLock::new(|| JOBS.column_list());
pub(crate) static ASSET_COLUMNS: LazyLock<String> = LazyLock::new(|| ASSETS.column_list());
pub(crate) static KEY_COLUMNS: LazyLock<String> = LazyLock::new(|| API_KEYS.column_list());

/// `$1, $2, ... $n`.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    let marks: Vec<String> = (from..from + n).map(|i| format!("${i}")).collect();
    marks.join(", ")
}
