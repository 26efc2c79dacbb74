use std::process::ExitCode;

use cutout_infer::{resolve, CpuFeatures};
use cutout_models::{
    install_model, install_openvino, install_runtime, manifest, DataDir, InstallOutcome,
    ModelsError,
};

use crate::args::{EngineArgs, InstallArgs};

/// Prints the engines, what runs the models on this machine, and every model of the manifest
/// with its licence, size, input and install state.
pub fn list(data: &DataDir, e: EngineArgs) -> Result<ExitCode, ModelsError> {
    println!("data directory: {}", data.root().display());
    let installed = |yes: bool| if yes { "installed" } else { "not installed" };
    let (m, ov) = (manifest(), &manifest().openvino);
    println!(
        "onnxruntime {} ({}): {}",
        m.runtime.version,
        m.runtime.license,
        installed(data.runtime_path().is_file())
    );
    println!(
        "openvino {} ({}): {}",
        ov.version,
        ov.license,
        installed(data.openvino_installed())
    );
    let cpu = CpuFeatures::detect();
    println!(
        "this CPU computes bf16 natively: {}",
        if cpu.native_bf16 { "yes" } else { "no" }
    );
    match resolve(
        e.engine,
        e.precision,
        e.device,
        cpu,
        data.openvino_installed(),
    ) {
        Ok(p) => println!(
            "models run on: {} {} {} (asked; a loaded model reports what its engine computes in)\n",
            p.engine.as_str(),
            p.device.as_str(),
            p.precision.as_str()
        ),
        Err(err) => println!("models cannot run as asked: {err}\n"),
    }
    println!(
        "{:<8} {:<10} {:>8}  {:<10} {:<11} {:<30} LICENCE",
        "MODEL", "STATE", "SIZE", "COMMERCIAL", "DEFAULT", "INPUT"
    );
    for m in &manifest().models {
        let state = if data.is_installed(m) {
            "installed"
        } else {
            "missing"
        };
        let size = std::fs::metadata(data.model_path(m)).map_or(m.size_bytes, |md| md.len());
        let commercial = match (m.commercial_use, m.copyleft) {
            (true, false) => "yes",
            (true, true) => "copyleft",
            (false, _) => "no",
        };
        let default = if m.default { "yes" } else { "opt-in" };
        println!(
            "{:<8} {:<10} {:>6}MB  {:<10} {:<11} {:<30} {}",
            m.name,
            state,
            size / 1_000_000,
            commercial,
            default,
            m.input,
            m.license
        );
    }
    println!("\ninstall: cutout models install [NAME...]   (isnet and rvm are copyleft: named installs only)");
    Ok(ExitCode::SUCCESS)
}

/// Installs the runtime and the named models (or the defaults), verifying each by sha256.
pub fn install(data: &DataDir, args: &InstallArgs) -> Result<ExitCode, ModelsError> {
    report("onnxruntime", install_runtime(data)?);
    if args.engine.is_some() {
        report("openvino", install_openvino(data)?);
    }
    if args.runtime_only {
        return Ok(ExitCode::SUCCESS);
    }
    let entries: Vec<_> = if args.names.is_empty() {
        manifest().defaults().collect()
    } else {
        args.names
            .iter()
            .map(|n| manifest().get(n))
            .collect::<Result<_, _>>()?
    };
    for m in entries {
        if m.copyleft || !m.commercial_use {
            eprintln!(
                "note: {} is licensed {} (package {}, {}); installing because it was named.",
                m.name,
                m.license,
                m.package_spec(),
                m.package_license
            );
        }
        report(&m.name, install_model(data, m)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn report(name: &str, outcome: InstallOutcome) {
    match outcome {
        InstallOutcome::AlreadyInstalled(p) => {
            eprintln!("{name}: already installed at {}", p.display())
        }
        InstallOutcome::Installed(p) => {
            eprintln!("{name}: installed and verified at {}", p.display())
        }
    }
}
