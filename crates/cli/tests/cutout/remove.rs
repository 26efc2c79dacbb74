//! Black-box tests of the `cutout` binary. Those that cut images out need the real models and ONNX
//! Runtime (`scripts/test.sh` installs them); the argument checks run anywhere.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cutout_testkit::cli::Cli;
use cutout_testkit::require;

fn cutout() -> Command {
    Cli::new(env!("CARGO_BIN_EXE_cutout")).cmd()
}

fn sample(name: &str) -> PathBuf {
    cutout_testkit::fixtures::path(name)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("spawn cutout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The subject of the cat photo is in the middle; its top-left corner is background.
fn assert_cat_cutout(path: &Path) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8();
    let (w, h) = img.dimensions();
    let opaque = img.pixels().filter(|p| p[3] > 200).count() as f64 / f64::from(w * h);
    assert!((0.05..0.9).contains(&opaque), "opaque share {opaque}");
    assert_eq!(img.get_pixel(2, 2)[3], 0, "corner should be background");
}

#[test]
fn folder_run_keeps_relative_paths_and_skips_bad_files() {
    require!(Models);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("animals/cats")).unwrap();
    std::fs::copy(sample("cat.jpg"), input.join("animals/cats/cat.jpg")).unwrap();
    std::fs::copy(sample("product.jpg"), input.join("product.jpg")).unwrap();
    std::fs::write(
        input.join("notes.jpg"),
        b"just some text named like a photo",
    )
    .unwrap();
    std::fs::write(input.join("empty.png"), b"").unwrap();
    let jpeg = std::fs::read(sample("person.jpg")).unwrap();
    std::fs::write(input.join("truncated.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
    std::fs::copy(
        cutout_testkit::fixtures::path("bomb_30000.png"),
        input.join("bomb.png"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = run(cutout()
        .args(["remove", "-m", "u2netp", "-j", "2", "-o"])
        .arg(&out)
        .arg(&input));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_cat_cutout(&out.join("animals/cats/cat.png"));
    assert!(out.join("product.png").is_file());
    for (name, why) in [
        ("notes.jpg", "unsupported or unrecognised image format"),
        ("empty.png", "the input is empty"),
        ("truncated.jpg", "corrupt or truncated"),
        ("bomb.png", "30000x30000"),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not reported:\n{err}"));
        assert!(line.contains(why), "{line}");
        assert!(!out.join(name).with_extension("png").exists());
    }
    assert!(err.contains("2 done, 4 failed"), "{err}");
}

#[test]
fn stdin_to_stdout() {
    require!(Models);
    let mut child = cutout()
        .args(["remove", "-m", "u2netp", "-", "-o", "-", "--format", "webp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(sample("cat.jpg")).unwrap())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        image::guess_format(&o.stdout).unwrap(),
        image::ImageFormat::WebP
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.webp");
    std::fs::write(&p, &o.stdout).unwrap();
    assert_cat_cutout(&p);
}

#[test]
fn background_crop_mask_and_formats() {
    require!(Models);
    let dir = tempfile::tempdir().unwrap();
    let src = sample("cat.jpg");
    let (w, h) = image::image_dimensions(&src).unwrap();

    let jpg = dir.path().join("c.jpg");
    let o = run(cutout()
        .args([
            "remove",
            "-m",
            "u2netp",
            "--bg-color",
            "00ff00",
            "--crop",
            "--crop-margin",
            "10px",
        ])
        .arg(&src)
        .arg("-o")
        .arg(&jpg));
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&jpg).unwrap().to_rgb8();
    assert!(
        img.width() < w || img.height() < h,
        "crop should shrink the canvas"
    );
    let corner = img.get_pixel(1, 1);
    assert!(
        corner[1] > 200 && corner[0] < 60 && corner[2] < 60,
        "green margin expected, got {corner:?}"
    );

    let mask = dir.path().join("m.png");
    let o = run(cutout()
        .args(["remove", "-m", "u2netp", "--only-mask"])
        .arg(&src)
        .arg("-o")
        .arg(&mask));
    assert!(o.status.success(), "{}", stderr(&o));
    let m = image::open(&mask).unwrap();
    assert_eq!(m.color(), image::ColorType::L8);
    assert_eq!((m.width(), m.height()), (w, h));

    for fmt in ["png", "tiff", "psd"] {
        let p = dir.path().join(format!("o.{fmt}"));
        let o = run(cutout()
            .args(["remove", "-m", "u2netp", "--format", fmt])
            .arg(&src)
            .arg("-o")
            .arg(&p));
        assert!(o.status.success(), "{fmt}: {}", stderr(&o));
        assert!(std::fs::metadata(&p).unwrap().len() > 1000, "{fmt}");
    }
    assert_cat_cutout(&dir.path().join("o.tiff"));

    let small = dir.path().join("s.png");
    let o = run(cutout()
        .args(["remove", "-m", "u2netp", "--max-width", "100"])
        .arg(&src)
        .arg("-o")
        .arg(&small));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(image::image_dimensions(&small).unwrap().0, 100);
}

#[test]
fn bad_options_fail_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    for (args, why) in [
        (vec!["--bg-color", "nope"], "invalid colour"),
        (vec!["--format", "gif"], "invalid output format"),
        (
            vec!["--crop", "--crop-margin", "90%"],
            "invalid crop margin",
        ),
        (vec!["--scale", "3"], "--scale"),
        (vec!["--work-size", "0"], "--work-size"),
        (vec!["-m", "nosuchmodel"], "unknown model"),
    ] {
        let o = run(cutout()
            .arg("remove")
            .args(&args)
            .arg(sample("cat.jpg"))
            .arg("-o")
            .arg(dir.path().join("x.png")));
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn missing_model_names_the_install_command() {
    let empty = tempfile::tempdir().unwrap();
    let o = run(cutout()
        .env("CUTOUT_DATA_DIR", empty.path())
        .env_remove("ORT_DYLIB_PATH")
        .args(["remove", "-m", "modnet"])
        .arg(sample("cat.jpg"))
        .arg("-o")
        .arg(empty.path().join("x.png")));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cutout models install modnet"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn models_list_shows_licences() {
    require!(Models);
    let o = run(cutout().args(["models", "list"]));
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "u2netp",
        "Apache-2.0",
        "isnet",
        "AGPL-3.0",
        "rvm",
        "GPL-3.0",
        "opt-in",
    ] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
    let u2netp = out.lines().find(|l| l.starts_with("u2netp")).unwrap();
    assert!(
        u2netp.contains("installed") && u2netp.contains("1x3x320x320"),
        "{u2netp}"
    );
}

/// Outputs are written to a temporary file and renamed into place; they must still get the
/// permissions any other written file gets (0666 less the umask), not the temporary's 0600.
#[cfg(unix)]
#[test]
fn outputs_get_the_usual_file_permissions() {
    require!(Models);
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cat.png");
    let o = run(Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" remove -m u2netp \"$1\" -o \"$2\"")
        .arg(env!("CARGO_BIN_EXE_cutout"))
        .arg(sample("cat.jpg"))
        .arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "{mode:o}");
    assert_cat_cutout(&out);
}

#[test]
fn a_folder_of_avif_heic_psd_and_svg_is_cut_out() {
    require!(Models, Libheif);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (file, name) in [
        ("lossy-12bit.avif", "a.avif"),
        ("rotated.heic", "b.HEIC"),
        ("imagemagick.psd", "c.psd"),
    ] {
        std::fs::write(
            input.join(name),
            cutout_testkit::fixtures::format_sample(file),
        )
        .unwrap();
    }
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20"><circle cx="20" cy="10" r="8" fill="#333"/></svg>"##;
    std::fs::write(input.join("d.svg"), svg).unwrap();
    let out = dir.path().join("out");
    let o = run(cutout()
        .args(["remove", "-m", "u2netp", "-o"])
        .arg(&out)
        .arg(&input));
    assert!(o.status.success(), "{}", stderr(&o));
    for (name, size) in [
        ("a", (160, 120)),
        ("b", (160, 120)),
        ("c", (160, 120)),
        ("d", (1024, 512)),
    ] {
        let img = image::open(out.join(name).with_extension("png")).unwrap();
        assert_eq!((img.width(), img.height()), size, "{name}");
    }
}
