//! `cutout`: background removal from the command line.

mod args;
mod keys_cmd;
mod models_cmd;
mod progress;
mod remove;
mod serve;
mod store_cmd;
mod targets;

use std::process::ExitCode;

use clap::Parser;

// mimalloc keeps freed pages of the large per-image buffers (a 12 MP photo is 48 MB of RGBA, plus
// refine's planes) for reuse, where glibc returns them to the kernel and takes page faults again
// on the next image.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Errors of the commands: reported on stderr, exit code 2.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let data = cli.data_dir.clone().map_or_else(
        cutout_models::DataDir::from_env,
        cutout_models::DataDir::new,
    );
    let result = match cli.command {
        args::Command::Remove(a) => remove::run(&data, a),
        args::Command::Models(args::ModelsCommand::List(e)) => {
            models_cmd::list(&data, e).map_err(Into::into)
        }
        args::Command::Models(args::ModelsCommand::Install(a)) => {
            models_cmd::install(&data, &a).map_err(Into::into)
        }
        args::Command::Models(args::ModelsCommand::Import(a)) => {
            models_cmd::import(&data, &a).map_err(Into::into)
        }
        args::Command::Serve(a) => serve::run(&data, &a, true),
        args::Command::Worker(a) => serve::run(&data, &a, false),
        args::Command::Migrate(a) => serve::migrate(&a),
        args::Command::Store(args::StoreCommand::Copy(a)) => store_cmd::copy(&a),
        args::Command::Keys(k) => keys_cmd::run(k),
        args::Command::Config(args::ConfigCommand::Print(a)) => keys_cmd::print_config(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
