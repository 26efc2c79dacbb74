//! Progress: a bar with rate and ETA on a terminal, one plain line per file when piped.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        let bar = (std::io::stderr().is_terminal() && total > 0).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {wide_msg}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { bar }
    }

    pub fn done(&self, input: &Path, output: &Path, took: Duration) {
        match &self.bar {
            Some(bar) => {
                bar.set_message(input.display().to_string());
                bar.inc(1);
            }
            None => eprintln!(
                "ok {} -> {} ({} ms)",
                input.display(),
                output.display(),
                took.as_millis()
            ),
        }
    }

    pub fn failed(&self, input: &Path, error: &dyn std::fmt::Display) {
        let line = format!("error: {}: {error}", input.display());
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self, ok: usize, failed: usize) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!("{ok} done, {failed} failed");
    }
}
