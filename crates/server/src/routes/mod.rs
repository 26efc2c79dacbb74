pub mod addon;
mod addon_output;
pub mod assets;
pub mod intake;
pub mod jobs;
pub mod params;
pub mod system;
pub mod upload;
pub mod videos;
