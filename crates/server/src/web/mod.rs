//! The web page at `/`: three files compiled into the binary (no CDN, no build step), talking to
//! the public API with the key the visitor gives (kept in the browser's local storage).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("app.css");

/// Scripts and styles only from this origin (no inline code, no `unsafe-inline`); results are
/// shown as `blob:` URLs; videos play from wherever the blob store serves them (an S3 store's
/// presigned URLs are on its own origin), which media elements may load but never execute.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data: https:; \
    media-src * blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn file(body: &'static str, mime: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `/`, `/web/app.js`, `/web/app.css`: public, like `/docs`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|| async { file(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/web/app.js",
            get(|| async { file(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/web/app.css",
            get(|| async { file(STYLE, "text/css; charset=utf-8") }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page must work under its own CSP: no inline script, style or event handler.
    #[test]
    fn no_inline_code() {
        assert!(!INDEX.contains("<script>") && !INDEX.contains("<style"));
        assert!(!INDEX.contains(" style="), "inline style");
        // An event-handler attribute: ` on` + letters + `=` (` only`, ` one` are words).
        let handler = INDEX.match_indices(" on").any(|(i, _)| {
            let rest = &INDEX[i + 3..];
            let name_len = rest.chars().take_while(char::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        });
        assert!(!handler, "inline event handler");
        assert!(!CSP.contains("unsafe-inline"));
        for (path, _) in [("/web/app.js", SCRIPT), ("/web/app.css", STYLE)] {
            assert!(INDEX.contains(path), "{path} is linked");
        }
    }
}
