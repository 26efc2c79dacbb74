//! The seam between the server and inference (defined in the core so both sides can name it).

pub use cutout_core::SegmenterProvider;
