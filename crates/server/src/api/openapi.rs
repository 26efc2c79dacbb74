//! The API description at `/openapi.json`, generated once from each family's `Doc` (its
//! handlers' `#[utoipa::path]` attributes and the types they answer with), over the shared
//! parts: info, the security schemes, and the headers every response carries. The route/spec
//! test (`tests/api/system.rs`) fails when the router and the document disagree.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{Html, IntoResponse, Response as HttpResponse};
use axum::routing::get;
use axum::Router;

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, RefOr, Response, SecurityRequirement,
    Server,
};
use utoipa::OpenApi as _;

use crate::http::doc::{int_header, retry_after, text_header};
use crate::http::Dialect;
use crate::service::state::AppState;

/// The description and the page that renders it; no key needed.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(openapi, docs))]
struct Doc;

/// This API description
///
/// The OpenAPI 3.1 document, generated from the handlers and the types they answer with.
#[utoipa::path(get, path = "/openapi.json", tag = "System", operation_id = "openapi", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object)))]
async fn openapi() -> HttpResponse {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

/// API reference page
///
/// A self-contained HTML page (no CDN) that renders `/openapi.json`.
#[utoipa::path(get, path = "/docs", tag = "System", operation_id = "docs", security(()),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String)))]
async fn docs() -> Html<&'static str> {
    Html(include_str!("../../docs.html"))
}

const DESCRIPTION: &str = "\
Cutout removes image and video backgrounds asynchronously: create a job with \
`POST /api/v1/upload`, poll `GET /api/v1/status?job_id=...`, download `final_url`.\n\n\
Authentication: send the API key as `X-API-Key: <key>` or `Authorization: Bearer <key>`.\n\n\
Each family answers errors in its vendor's shape: the image jobs family \
`{\"error\":\"<code>\",\"message\":\"...\"}` (or `{\"error\":\"validation\",\"details\":{...}}` \
for 422); the assets and video families `{\"error\":{\"code\",\"message\",\"request_id\"}}`.\n\n\
Every response carries `X-Request-Id` (the one sent, or a new UUID). Authenticated responses \
carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` when rate limiting \
is on; a 429 or 503 carries `Retry-After`.\n\n\
POSTs that take an `Idempotency-Key` header: a retry with the same key and body returns the \
first response (with `Idempotent-Replayed: true`) and creates or charges nothing again.";

/// The whole document, as served.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        // Built from compiled-in types: failing to serialise is a bug in this build.
        build().to_json().expect("the OpenAPI document serialises")
    })
}

/// Each family's document, with the dialect its errors use.
fn families() -> [(OpenApi, Option<Dialect>); 6] {
    [
        (
            super::image_jobs::Doc::openapi(),
            Some(super::image_jobs::DIALECT),
        ),
        (super::system::Doc::openapi(), None),
        (Doc::openapi(), None),
        (super::assets::Doc::openapi(), Some(super::assets::DIALECT)),
        (super::video::Doc::openapi(), Some(super::video::DIALECT)),
        (
            super::removebg::Doc::openapi(),
            Some(super::removebg::DIALECT),
        ),
    ]
}

fn build() -> OpenApi {
    let mut doc = base();
    for (family, dialect) in families() {
        doc.merge(decorate(family, dialect));
    }
    doc
}

fn base() -> OpenApi {
    let info = InfoBuilder::new()
        .title("Cutout API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(DESCRIPTION))
        .build();
    let components = ComponentsBuilder::new()
        .security_scheme(
            "ApiKeyHeader",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "The API key.",
            ))),
        )
        .security_scheme(
            "BearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`Authorization: Bearer <key>` (the same key)."))
                    .build(),
            ),
        )
        .schema_from::<crate::http::doc::StructuredError>()
        .schema_from::<super::removebg::error::RemoveBgErrors>()
        .build();
    let either_key = ["ApiKeyHeader", "BearerAuth"]
        .map(|scheme| SecurityRequirement::new(scheme, Vec::<String>::new()));
    OpenApiBuilder::new()
        .info(info)
        .servers(Some(vec![Server::new("/")]))
        .security(Some(either_key.to_vec()))
        .components(Some(components))
        .build()
}

/// What the families' attributes leave to one place: the headers every response carries, the
/// rate-limit headers and 429 of authenticated operations, `Retry-After` on 429 and 503, and
/// `Idempotent-Replayed` where an `Idempotency-Key` is taken. Public operations (those that say
/// `security(())`) get an explicit empty requirement.
fn decorate(mut doc: OpenApi, dialect: Option<Dialect>) -> OpenApi {
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            let public = op
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
            if public {
                op.security = Some(Vec::new());
            }
            let idempotent = op
                .parameters
                .iter()
                .flatten()
                .any(|p| p.name == "Idempotency-Key");
            if let (false, Some(d)) = (public, dialect) {
                let r = &mut op.responses.responses;
                r.entry("429".into()).or_insert_with(|| rate_limited(d));
                r.entry("500".into()).or_insert_with(|| internal(d));
                if idempotent {
                    r.entry("422".into()).or_insert_with(|| key_reused(d));
                }
            }
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(r) = response else { continue };
                add_headers(r, status, !public, idempotent);
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        for (name, response) in components.responses.iter_mut() {
            if let RefOr::T(r) = response {
                // `http::doc` already gave 429 and 503 their `Retry-After`.
                let limited = name == "RateLimited";
                add_headers(r, if limited { "429" } else { "4XX" }, limited, false);
            }
        }
    }
    doc
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn add_headers(r: &mut Response, status: &str, rate_limited: bool, idempotent: bool) {
    let h = &mut r.headers;
    h.entry("X-Request-Id".into()).or_insert_with(|| {
        text_header("The request's id: the one sent in `X-Request-Id`, or a generated UUID.")
    });
    if matches!(status, "429" | "503") {
        h.entry("Retry-After".into()).or_insert_with(retry_after);
    }
    if rate_limited && (status.starts_with('2') || status == "429") {
        h.insert(
            "X-RateLimit-Limit".into(),
            int_header("The key's burst size (requests).", None),
        );
        h.insert(
            "X-RateLimit-Remaining".into(),
            int_header("Requests left in the bucket now.", None),
        );
        h.insert(
            "X-RateLimit-Reset".into(),
            int_header("Seconds until the bucket is full again.", None),
        );
    }
    if idempotent && status.starts_with('2') {
        h.insert(
            "Idempotent-Replayed".into(),
            text_header(
                "`true` when this is the stored response to an earlier request with the same \
                 Idempotency-Key.",
            ),
        );
    }
}

/// The 429 every authenticated operation can answer, in `dialect`'s shape.
fn rate_limited(dialect: Dialect) -> RefOr<Response> {
    shared(
        dialect,
        "RateLimited",
        "Too many requests for this API key; retry after `Retry-After` seconds.",
    )
}

/// The answer to an `Idempotency-Key` sent again with a different request.
fn key_reused(dialect: Dialect) -> RefOr<Response> {
    shared(
        dialect,
        "ValidationError",
        "This Idempotency-Key was already used with a different request.",
    )
}

/// The opaque 500 any operation can answer, in `dialect`'s shape.
fn internal(dialect: Dialect) -> RefOr<Response> {
    shared(
        dialect,
        "InternalError",
        "An unexpected failure; the body is opaque and the cause is logged under the request id.",
    )
}

/// The shared response `name` as `dialect` documents it.
fn shared(dialect: Dialect, name: &str, description: &str) -> RefOr<Response> {
    dialect.doc_response(name, description)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    /// Merging keeps the first schema of a name: two families defining different types under
    /// one name would silently document one family's body with the other's.
    #[test]
    fn families_do_not_share_schema_names_for_different_types() {
        let mut seen: std::collections::BTreeMap<String, Value> = Default::default();
        for (doc, _) in families() {
            let Some(components) = doc.components else {
                continue;
            };
            for (name, schema) in components.schemas {
                let schema = serde_json::to_value(schema).unwrap();
                if let Some(earlier) = seen.insert(name.clone(), schema.clone()) {
                    assert_eq!(earlier, schema, "two different schemas are named {name}");
                }
            }
        }
    }

    fn refs(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => {
                            out.insert(r.clone());
                        }
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    fn doc() -> Value {
        serde_json::from_str(document()).unwrap()
    }

    #[test]
    fn every_reference_resolves() {
        let doc = doc();
        let mut used = BTreeSet::new();
        refs(&doc, &mut used);
        assert!(used.len() > 20, "too few references: {used:?}");
        for r in used {
            let path = r.strip_prefix("#/").unwrap();
            let found = path.split('/').try_fold(&doc, |v, part| v.get(part));
            assert!(found.is_some(), "{r} does not resolve");
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }

    /// Every operation is tagged, has a summary and a unique id, documents a success and, unless
    /// public, the 401 and 429 a key can get.
    #[test]
    fn every_operation_is_complete() {
        let doc = doc();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let name = format!("{method} {path}");
                let id = op["operationId"].as_str().unwrap_or_default();
                assert!(
                    ids.insert(id.to_owned()),
                    "{name}: operationId {id:?} twice"
                );
                assert!(
                    op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                    "{name}"
                );
                assert!(
                    op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                    "{name}"
                );
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.keys().any(|s| s.starts_with('2')), "{name}");
                let public = op["security"] == Value::Array(vec![]);
                if !public {
                    for status in ["401", "429", "500"] {
                        assert!(responses.contains_key(status), "{name}: no {status}");
                    }
                }
                for (status, r) in responses {
                    if let Some(h) = r.get("headers") {
                        assert!(h.get("X-Request-Id").is_some(), "{name} {status}");
                    }
                }
            }
        }
    }

    /// The image family's shared error responses carry examples rendered by the renderer.
    #[test]
    fn error_examples_are_what_the_renderer_sends() {
        let doc = doc();
        let r = &doc["components"]["responses"];
        let example = |name: &str| r[name]["content"]["application/json"]["example"].clone();
        assert_eq!(
            example("NotFound"),
            serde_json::json!({"error": "not_found"})
        );
        assert_eq!(
            example("ValidationError")["details"]["mode"][0],
            "must be one of background, clipping, params"
        );
        assert_eq!(example("InternalError")["request_id"], "6f1c0d1e-example");
        assert!(r["RateLimited"]["headers"]["Retry-After"].is_object());
    }
}
