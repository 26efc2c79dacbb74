pub mod addon;
pub mod assets;
pub mod intake;
pub mod jobs;
pub mod params;
pub mod system;
pub mod upload;
