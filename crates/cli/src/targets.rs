//! Which files to read and where each result goes.

use std::path::{Path, PathBuf};

const IMAGE_EXTENSIONS: [&str; 13] = [
    "jpg", "jpeg", "png", "webp", "avif", "heic", "heif", "tif", "tiff", "gif", "bmp", "psd", "svg",
];

/// One unit of work: an input and the path of its result (`None` for stdin/stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub input: Option<PathBuf>,
    pub output: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("`-` (stdin) must be the only input, with `-o -` or no output")]
    Stdin,
    #[error("an output (-o) is required")]
    NoOutput,
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{0} is a file, but several inputs need an output folder")]
    OutputIsFile(PathBuf),
}

/// Expands inputs (files, folders searched recursively) into targets. Folder inputs keep their
/// relative paths under the output folder; the extension becomes `ext`.
pub fn plan(
    inputs: &[PathBuf],
    output: Option<&Path>,
    ext: &str,
) -> Result<Vec<Target>, TargetError> {
    if inputs.iter().any(|p| p.as_os_str() == "-") {
        let out_ok = output.is_none_or(|o| o.as_os_str() == "-");
        if inputs.len() != 1 || !out_ok {
            return Err(TargetError::Stdin);
        }
        return Ok(vec![Target {
            input: None,
            output: None,
        }]);
    }
    let output = output.ok_or(TargetError::NoOutput)?;
    let single_file = inputs.len() == 1 && inputs[0].is_file();
    if single_file && !output.is_dir() && output.extension().is_some() {
        return Ok(vec![Target {
            input: Some(inputs[0].clone()),
            output: Some(output.to_path_buf()),
        }]);
    }
    if output.is_file() {
        return Err(TargetError::OutputIsFile(output.to_path_buf()));
    }
    let mut targets = Vec::new();
    for input in inputs {
        if input.is_file() {
            let name = input.file_name().map(Path::new).unwrap_or(Path::new("out"));
            targets.push(Target {
                input: Some(input.clone()),
                output: Some(output.join(name).with_extension(ext)),
            });
        } else if input.is_dir() {
            for entry in walkdir::WalkDir::new(input)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
            {
                let path = entry.path();
                if entry.file_type().is_file() && is_image_name(path) {
                    let rel = path.strip_prefix(input).unwrap_or(path);
                    targets.push(Target {
                        input: Some(path.to_path_buf()),
                        output: Some(output.join(rel).with_extension(ext)),
                    });
                }
            }
        } else {
            return Err(TargetError::Missing(input.clone()));
        }
    }
    Ok(targets)
}

/// Folder walks pick files by extension; explicitly named files are always tried (and their
/// content, not their name, decides the format).
fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_keep_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in");
        std::fs::create_dir_all(src.join("a/b")).unwrap();
        for f in ["x.jpg", "a/y.PNG", "a/b/z.webp", "a/notes.txt"] {
            std::fs::write(src.join(f), b"").unwrap();
        }
        let out = dir.path().join("out");
        let t = plan(std::slice::from_ref(&src), Some(&out), "png").unwrap();
        let outs: Vec<_> = t.iter().map(|t| t.output.clone().unwrap()).collect();
        assert_eq!(
            outs,
            [
                out.join("a/b/z.png"),
                out.join("a/y.png"),
                out.join("x.png")
            ]
        );
    }

    #[test]
    fn single_file_to_named_output() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("cat.jpg");
        std::fs::write(&f, b"").unwrap();
        let t = plan(
            std::slice::from_ref(&f),
            Some(&dir.path().join("r.webp")),
            "webp",
        )
        .unwrap();
        assert_eq!(
            t[0].output.as_deref(),
            Some(dir.path().join("r.webp").as_path())
        );
    }

    #[test]
    fn stdin_rules() {
        assert_eq!(
            plan(&["-".into()], None, "png").unwrap(),
            [Target {
                input: None,
                output: None
            }]
        );
        assert!(matches!(
            plan(&["-".into(), "x".into()], None, "png"),
            Err(TargetError::Stdin)
        ));
        assert!(matches!(
            plan(&["nope.jpg".into()], None, "png"),
            Err(TargetError::NoOutput)
        ));
        assert!(matches!(
            plan(&["/no/such".into()], Some(Path::new("/tmp/o")), "png"),
            Err(TargetError::Missing(_))
        ));
    }
}
