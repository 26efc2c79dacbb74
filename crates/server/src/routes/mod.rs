pub mod jobs;
pub mod params;
pub mod system;
pub mod upload;
