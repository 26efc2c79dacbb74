//! `cutout`: background removal from the command line.

mod args;
mod models_cmd;
mod progress;
mod remove;
mod targets;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let data = cli.data_dir.clone().map_or_else(
        cutout_models::DataDir::from_env,
        cutout_models::DataDir::new,
    );
    let result = match cli.command {
        args::Command::Remove(a) => remove::run(&data, a),
        args::Command::Models(args::ModelsCommand::List) => {
            models_cmd::list(&data).map_err(Into::into)
        }
        args::Command::Models(args::ModelsCommand::Install(a)) => {
            models_cmd::install(&data, &a).map_err(Into::into)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
