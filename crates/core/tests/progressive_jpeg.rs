//! Progressive JPEGs decode exactly like their baseline twins.
//!
//! Cutout builds with a patched zune-jpeg whose AC refinement decoder is rewritten
//! (`vendor/zune-jpeg/PATCHES.md`). jpegtran turns a progressive file into a baseline one without
//! touching its DCT coefficients, and zune-jpeg decodes baseline files through its own, unpatched
//! path with the same IDCT and colour conversion. So the two decodes must agree to the byte, and
//! any slip in the patch (a correction bit given to the wrong coefficient, a misplaced new one,
//! a bit read too many or too few) shows up as a difference.
//!
//! Needs `cjpeg` and `jpegtran` (Debian's libjpeg-turbo-progs, installed by `scripts/test.sh`).

use cutout_testkit::require;
use std::io::Write;
use std::process::{Command, Stdio};

use cutout_core::{decode, DecodeLimits};

/// A scan script with two more successive-approximation levels than libjpeg's default, so
/// every refinement depth and both the in-run and end-of-band paths are exercised.
const DEEP_SCANS: &str = "0,1,2: 0-0, 0, 2;
0: 1-5, 0, 3;
2: 1-63, 0, 2;
1: 1-63, 0, 2;
0: 6-63, 0, 3;
0: 1-63, 3, 2;
0: 1-63, 2, 1;
0,1,2: 0-0, 2, 1;
0,1,2: 0-0, 1, 0;
2: 1-63, 2, 1;
1: 1-63, 2, 1;
2: 1-63, 1, 0;
1: 1-63, 1, 0;
0: 1-63, 1, 0;
";

fn run(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{program}: {e}; install libjpeg-turbo-progs (scripts/test.sh does)")
        });
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{program} {args:?} failed");
    writer.join().unwrap().unwrap();
    out.stdout
}

/// A photo-like PPM: smooth gradients, hard edges and fine noise, so blocks carry many non-zero
/// coefficients at every frequency. Odd sizes leave partial MCUs.
fn photo_ppm(w: u32, h: u32, grey: bool) -> Vec<u8> {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 41) as i32 - 20
    };
    let channels = if grey { 1 } else { 3 };
    let mut out = format!("P{}\n{w} {h}\n255\n", if grey { 5 } else { 6 }).into_bytes();
    for y in 0..h {
        for x in 0..w {
            let disc = (x as i32 - 200).pow(2) + (y as i32 - 180).pow(2) < 110 * 110;
            let stripes = (x / 7 + y / 11) % 2 == 0 && x > w * 3 / 4;
            for c in 0..channels {
                let base = (x * (60 + 50 * c) / w + y * 120 / h) as i32;
                let v = base + if disc { 90 } else { 0 } + if stripes { 70 } else { 0 } + noise();
                out.push(v.clamp(0, 255) as u8);
            }
        }
    }
    out
}

/// The successive-approximation high bit (Ah) of every start-of-scan in a JPEG: above 0 for a
/// refinement scan.
fn scans(jpeg: &[u8]) -> Vec<u8> {
    let mut found = Vec::new();
    let mut i = 2;
    while i + 4 < jpeg.len() {
        let (marker, len) = (
            jpeg[i + 1],
            usize::from(jpeg[i + 2]) << 8 | usize::from(jpeg[i + 3]),
        );
        if marker == 0xDA {
            let n = jpeg[i + 4];
            found.push(jpeg[i + 5 + 2 * usize::from(n) + 2] >> 4);
            // skip the entropy-coded data: up to the next marker that is not a stuffed 0xFF
            i += 2 + len;
            while i + 1 < jpeg.len()
                && !(jpeg[i] == 0xFF && jpeg[i + 1] != 0 && !(0xD0..=0xD7).contains(&jpeg[i + 1]))
            {
                i += 1;
            }
        } else if marker == 0xD9 {
            break;
        } else {
            i += 2 + len;
        }
    }
    found
}

fn rgba(jpeg: &[u8]) -> Vec<u8> {
    decode(jpeg, &DecodeLimits::default())
        .unwrap()
        .image
        .into_raw()
}

#[test]
fn progressive_files_decode_like_their_baseline_twins() {
    require!(Cjpeg);
    let scripts = std::env::temp_dir().join(format!("cutout-scans-{}.txt", std::process::id()));
    std::fs::write(&scripts, DEEP_SCANS).unwrap();
    let deep = scripts.to_str().unwrap();
    // Over 1 MP the patched decoder runs its last stage on two threads (prog_rows.rs); under
    // it, on one. Both are covered.
    let colour = photo_ppm(1283, 901, false);
    let small = photo_ppm(517, 389, false);
    let grey = photo_ppm(1283, 901, true);
    let mut cases = 0;
    for (ppm, settings, deep_fits) in [
        (
            &colour,
            ["-sample", "2x2", "-quality", "90"].as_slice(),
            true,
        ),
        (&colour, &["-sample", "2x1", "-quality", "75"], true),
        // chroma halved vertically only: the vertical-only up-sampler
        (&colour, &["-sample", "1x2", "-quality", "85"], true),
        (&colour, &["-sample", "1x1", "-quality", "98"], true),
        (
            &colour,
            &["-sample", "2x2", "-quality", "40", "-restart", "1"],
            true,
        ),
        (&small, &["-sample", "2x2", "-quality", "90"], true),
        (
            &small,
            &["-sample", "1x1", "-quality", "60", "-restart", "2"],
            true,
        ),
        // the deep script names three components
        (&grey, &["-quality", "85"], false),
    ] {
        let with_scripts: &[Option<&str>] = if deep_fits {
            &[None, Some(deep)]
        } else {
            &[None]
        };
        for &script in with_scripts {
            let mut args = settings.to_vec();
            args.push("-progressive");
            if let Some(path) = script {
                args.extend(["-scans", path]);
            }
            let progressive = run("cjpeg", &args, ppm);
            assert!(
                scans(&progressive).iter().any(|&ah| ah > 0),
                "{args:?}: no refinement scan to test"
            );
            let baseline = run("jpegtran", &["-copy", "none"], &progressive);
            assert_eq!(
                scans(&baseline).len(),
                1,
                "{args:?}: the twin is not baseline"
            );
            assert!(
                rgba(&progressive) == rgba(&baseline),
                "{args:?}: progressive and baseline decodes differ"
            );
            cases += 1;
        }
    }
    std::fs::remove_file(&scripts).ok();
    assert_eq!(cases, 15);
}

#[test]
fn damaged_progressive_scans_never_panic() {
    require!(Cjpeg);
    let progressive = run(
        "cjpeg",
        &["-quality", "90", "-progressive"],
        &photo_ppm(1283, 901, false),
    );
    let mut seed = 7u64;
    for round in 0..200 {
        let mut damaged = progressive.clone();
        for _ in 0..1 + round % 4 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            // past the headers, before the end-of-image marker
            let at = 700 + (seed >> 33) as usize % (damaged.len() - 702);
            damaged[at] ^= 1 << (seed >> 29 & 7);
        }
        // Ok (a garbled picture) or a decode error are both fine; a panic fails the test.
        let _ = decode(&damaged, &DecodeLimits::default());
    }
}
