//! What every API family shares at the HTTP level: authentication and scopes, the deadline,
//! error rendering per dialect, request metrics, rate limits, idempotency, and extractors
//! (caller, request id, JSON body, multipart files). It knows nothing of any one family.

pub mod auth;
pub mod deadline;
pub mod doc;
pub mod extract;
pub mod form;
pub mod idempotency;
pub mod metrics;
pub mod render;
pub mod request_id;

pub use auth::Caller;
pub use extract::{Idempotency, JsonBody};
pub use render::{Dialect, ErrorDialect, Structured};
pub use request_id::RequestId;
