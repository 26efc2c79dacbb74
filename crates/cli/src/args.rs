use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cutout",
    version,
    about = "Self-hosted background removal for images"
)]
pub struct Cli {
    /// Where models and the ONNX Runtime library are installed [default: ~/.local/share/cutout]
    #[arg(long, global = true, env = "CUTOUT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cut the subject out of images, files or whole folders (`-` reads stdin, writes stdout).
    Remove(RemoveArgs),
    /// List or install segmentation models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Run the HTTP API and job workers (SQLite and local disk by default: no other service).
    Serve(ServeArgs),
    /// Run job workers only, against the configured shared database and blob store.
    Worker(ServeArgs),
    /// Bring the configured database to this version's schema: run once per upgrade, before
    /// starting the new nodes (they refuse an older PostgreSQL schema).
    Migrate(ServeArgs),
    /// Create, list, revoke and credit API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Move an install between storage backends.
    #[command(subcommand)]
    Store(StoreCommand),
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy everything (accounts, keys, ledger, jobs and events, presets, assets with
    /// conversions, videos, blobs) into an empty target and verify the counts, e.g. from an
    /// embedded install to PostgreSQL + S3. Stop the source's nodes first.
    Copy(StoreCopyArgs),
}

#[derive(Debug, Args)]
pub struct StoreCopyArgs {
    /// The source database: `sqlite://PATH` or `postgres://…`.
    #[arg(long)]
    pub from: String,
    /// The target database (migrated, and empty).
    #[arg(long)]
    pub to: String,
    /// The source blobs: `file://DIR` or `s3://BUCKET?endpoint=URL` (credentials from
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
    #[arg(long)]
    pub blobs_from: String,
    /// The target blobs, spelled the same way.
    #[arg(long)]
    pub blobs_to: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); `CUTOUT_SECTION__KEY` variables override it.
    #[arg(short, long, env = "CUTOUT_CONFIG")]
    pub config: Option<PathBuf>,
    /// `serve` only: the API alone, for a scale-out API node (`cutout worker` runs the jobs).
    #[arg(long)]
    pub no_workers: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML, secrets masked.
    Print(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key (and an account, unless --account names one); the key is printed once.
    Create {
        #[arg(long)]
        name: String,
        /// Credits granted to the new account.
        #[arg(long, default_value_t = 0)]
        credits: i64,
        /// Comma-separated scopes (default: all).
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Add the key to this existing account instead of a new one.
        #[arg(long)]
        account: Option<String>,
        #[command(flatten)]
        cfg: ServeArgs,
    },
    /// List keys (never the keys themselves).
    List(ServeArgs),
    /// Revoke a key by id.
    Revoke {
        id: String,
        #[command(flatten)]
        cfg: ServeArgs,
    },
    /// Add (or with a negative amount remove) credits on an account.
    Credit {
        account: String,
        #[arg(allow_negative_numbers = true)]
        amount: i64,
        #[command(flatten)]
        cfg: ServeArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Installed and available models, with licences, sizes and inputs, and the engine, device
    /// and precision they run with here.
    List(EngineArgs),
    /// Install models (the Apache-2.0 defaults when none are named) and the ONNX Runtime library.
    /// Names from the hub catalogue (`cutout models list`) are downloaded from their official URL
    /// and checked against the published checksum.
    Install(InstallArgs),
    /// Import an ONNX model file (e.g. one downloaded elsewhere, for an air-gapped server): its
    /// graph is checked against the family, its sha256 and licence recorded, and it becomes
    /// usable by name in the CLI, all three APIs and `/v1/models`.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The name to use it by (a-z, 0-9, - and _).
    pub name: String,
    /// The .onnx file.
    pub file: PathBuf,
    /// Its preprocessing family: u2net, isnet, birefnet, modnet.
    #[arg(long)]
    pub family: String,
    /// The weights' licence, shown wherever the model is listed.
    #[arg(long)]
    pub licence: String,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Models to install. Copyleft models (isnet, rvm) install only when named here.
    pub names: Vec<String>,
    /// Install only the ONNX Runtime library.
    #[arg(long)]
    pub runtime_only: bool,
    /// Also install a second engine's libraries: `openvino` (bf16 on CPUs with AMX or
    /// AVX-512 BF16, picked by `engine = "auto"` there).
    #[arg(long, value_parser = ["openvino"])]
    pub engine: Option<String>,
    /// For a hub model: download from this URL (a mirror) instead of the catalogue's; the
    /// catalogue's checksum still applies.
    #[arg(long)]
    pub url: Option<String>,
}

/// Which engine, precision and device run the models (as `[inference]` in the config file).
#[derive(Debug, Args, Clone, Copy)]
pub struct EngineArgs {
    /// auto (OpenVINO bf16 on native-bf16 CPUs where installed, else ONNX Runtime), onnxruntime,
    /// openvino.
    #[arg(long, default_value = "auto")]
    pub engine: cutout_core::EngineChoice,
    /// auto, f32, bf16 (OpenVINO only).
    #[arg(long, default_value = "auto")]
    pub precision: cutout_core::PrecisionChoice,
    /// cpu, or cuda (ONNX Runtime's CUDA provider; see `scripts/install-cuda.sh`).
    #[arg(long, default_value = "cpu")]
    pub device: cutout_core::Device,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Image files or folders (searched recursively); `-` for stdin.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output file (one input) or folder; `-` for stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Segmentation model (see `cutout models list`).
    #[arg(short, long, default_value = "u2net")]
    pub model: String,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Output format: png, jpg, webp, tiff, psd, mask [default: the output file's extension, else png].
    #[arg(short, long)]
    pub format: Option<String>,
    /// Background colour (hex RRGGBB[AA] or a name); default transparent.
    #[arg(long, conflicts_with = "bg_image")]
    pub bg_color: Option<String>,
    /// Background image, scaled to cover the output.
    #[arg(long)]
    pub bg_image: Option<PathBuf>,
    /// Crop to the subject.
    #[arg(long)]
    pub crop: bool,
    /// Margin around the cropped subject: pixels (`20`, `20px`) or percent (`10%`).
    #[arg(long, default_value = "0", requires = "crop")]
    pub crop_margin: String,
    /// Write the mask (grayscale alpha) instead of the cut-out.
    #[arg(long)]
    pub only_mask: bool,
    /// Files processed in parallel (each with its own inference session).
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// JPEG / lossy WebP quality (1-100).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Lossy WebP (alpha stays lossless).
    #[arg(long)]
    pub webp_lossy: bool,
    /// Scale the output by this factor (0-1].
    #[arg(long)]
    pub scale: Option<f32>,
    /// Shrink the output to at most this width.
    #[arg(long)]
    pub max_width: Option<u32>,
    /// Shrink the output to at most this height.
    #[arg(long)]
    pub max_height: Option<u32>,
    /// Turn off the guided-filter edge refinement.
    #[arg(long)]
    pub no_edge_refine: bool,
    /// Edge refinement window radius, in working-resolution pixels.
    #[arg(long, default_value_t = cutout_core::RefineOptions::default().radius)]
    pub edge_radius: u32,
    /// Edge refinement regularisation (smaller follows image edges more tightly).
    #[arg(long, default_value_t = cutout_core::RefineOptions::default().epsilon)]
    pub edge_epsilon: f32,
    /// Long side, in pixels, of the resolution edge refinement and decontamination solve at.
    #[arg(
        long,
        default_value_t = cutout_core::RefineOptions::default().work_size,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub work_size: u32,
    /// Turn off foreground colour decontamination.
    #[arg(long)]
    pub no_decontaminate: bool,
    /// Largest accepted input file, in bytes.
    #[arg(long, default_value_t = 64 << 20)]
    pub max_bytes: u64,
    /// Largest accepted image, in megapixels.
    #[arg(long, default_value_t = 100.0)]
    pub max_megapixels: f64,
}
