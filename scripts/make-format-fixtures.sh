#!/usr/bin/env bash
# Remakes the small AVIF/HEIC/PSD fixtures in crates/testkit/data/formats from person.jpg.
# Not run by the tests (the files are committed); kept so that anyone can see and redo how each
# was made. Needs: imagemagick, libavif-bin (avifenc), python3 with pip (pillow-heif from PyPI).
set -euo pipefail
cd "$(dirname "$0")/../crates/testkit/data"
out=formats
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The reference picture: 160x120 RGBA, transparent on its left 24 columns, a ramp to opaque.
convert person.jpg -resize '160x120!' -alpha set -channel A \
    -fx 'i<24 ? 0 : (i<40 ? (i-24)/16 : 1)' +channel -strip "$out/reference.png"
convert "$out/reference.png" -alpha off -strip "$out/reference-rgb.png"
# AVIF (libavif's avifenc): 8-bit lossless with alpha; 10- and 12-bit lossy from a 16-bit PNG.
avifenc -l "$out/reference.png" "$out/alpha-8bit.avif" >/dev/null
convert "$out/reference.png" -depth 16 "PNG64:$tmp/ref16.png"
avifenc -d 10 --min 8 --max 8 "$tmp/ref16.png" "$out/lossy-10bit.avif" >/dev/null
avifenc -d 12 -y 444 --min 8 --max 8 "$tmp/ref16.png" "$out/lossy-12bit.avif" >/dev/null
# HEIC as phones store it: pixels coded rotated, an `irot` box turning them upright again.
python3 -m venv "$tmp/venv" && "$tmp/venv/bin/pip" -q install pillow-heif==1.8.1
"$tmp/venv/bin/python" - "$out/reference-rgb.png" "$out/rotated.heic" <<'PY'
import sys, PIL.Image as I, pillow_heif
# Given EXIF orientation 6, pillow-heif 1.8.1 codes the pixels turned 90° and writes an `irot`
# under which libheif (and so Pillow, GIMP, ImageMagick) shows the picture turned 180°: fed
# upside down, it makes a file coded 120x160 that displays as the upright 160x120 reference.
im = I.open(sys.argv[1]).transpose(I.Transpose.ROTATE_180)
exif = I.Exif(); exif[0x0112] = 6
im.info["exif"] = exif.tobytes()
pillow_heif.from_pillow(im).save(sys.argv[2], quality=92)
PY
# PSD by another writer than ours (ImageMagick), with transparency.
convert "$out/reference.png" "$out/imagemagick.psd"
ls -l "$out"
