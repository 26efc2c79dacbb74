use std::process::ExitCode;

use cutout_infer::{check_model, resolve, CpuFeatures};
use cutout_models::{
    hub_catalogue, hub_entry, install_from_hub, install_model, install_openvino, install_runtime,
    manifest, DataDir, ImportedModel, InstallOutcome, ModelsError,
};

use crate::args::{EngineArgs, ImportArgs, InstallArgs};

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
    list_brought(data)?;
    Ok(ExitCode::SUCCESS)
}

/// The imported models, and the hub catalogue with each entry's state.
fn list_brought(data: &DataDir) -> Result<(), ModelsError> {
    let imported = data.imported();
    if !imported.is_empty() {
        println!(
            "\n{:<18} {:<9} {:<10} {:<40} SOURCE",
            "IMPORTED", "FAMILY", "STATE", "LICENCE"
        );
        let installed = data.installed_models();
        for m in &imported {
            let state = if installed.iter().any(|s| s.name == m.name) {
                "installed"
            } else {
                "changed"
            };
            println!(
                "{:<18} {:<9} {:<10} {:<40} {}",
                m.name, m.family, state, m.licence, m.source
            );
        }
    }
    println!(
        "\n{:<18} {:<9} {:>7}  {:<10} SUMMARY",
        "HUB MODEL", "FAMILY", "SIZE", "LICENCE"
    );
    for h in hub_catalogue()? {
        let size = h
            .size_bytes
            .map_or_else(|| "?".into(), |b| format!("{}MB", b / 1_000_000));
        println!(
            "{:<18} {:<9} {:>7}  {:<10} {}",
            h.name, h.family, size, h.license, h.summary
        );
    }
    println!(
        "\nhub models: `cutout models install NAME` downloads one (official URL, published \
         checksum); offline, `cutout models import NAME FILE --family F --licence TEXT`"
    );
    Ok(())
}

/// `cutout models import`: vets the graph, copies the file in, records sha256 and licence.
pub fn import(data: &DataDir, args: &ImportArgs) -> Result<ExitCode, ModelsError> {
    let source = args.file.display().to_string();
    let check = |p: &std::path::Path| check_model(data, p, &args.family);
    let m = data.import(
        &args.name,
        &args.file,
        &args.family,
        &args.licence,
        &source,
        &check,
    )?;
    report_import(&m);
    Ok(ExitCode::SUCCESS)
}

fn report_import(m: &ImportedModel) {
    eprintln!(
        "{}: imported as family {} (sha256 {}, licence: {})",
        m.name, m.family, m.sha256, m.licence
    );
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
        let mut builtin = Vec::new();
        for n in &args.names {
            match hub_entry(n)? {
                Some(h) if manifest().get(n).is_err() => {
                    eprintln!(
                        "{n}: downloading {} (licence {})",
                        args.url.as_deref().unwrap_or(&h.url),
                        h.license
                    );
                    let check = |p: &std::path::Path| check_model(data, p, &h.family);
                    report_import(&install_from_hub(data, &h, args.url.as_deref(), &check)?);
                }
                _ => builtin.push(manifest().get(n)?),
            }
        }
        builtin
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
