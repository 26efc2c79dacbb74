"""Writes the golden masks of crates/infer/tests/golden with the reference pipeline itself.

rembg (PyPI) is the reference preprocessing of U2-Net and U2-Net-p. Its model folder is pointed
at Cutout's installed model files, so it downloads nothing. Run with the rembg virtualenv:

    MODEL_CHECKSUM_DISABLED=1 U2NET_HOME=DIR python tools/golden_masks.py DATA_DIR/models
"""
import os
import sys
from pathlib import Path

from PIL import Image
from rembg import new_session, remove

models_dir = Path(sys.argv[1])
root = Path(__file__).resolve().parent.parent
data = root / "crates/infer/tests/data"
out = root / "crates/infer/tests/golden"
home = Path(os.environ["U2NET_HOME"])
home.mkdir(parents=True, exist_ok=True)
for model in ("u2netp", "u2net"):
    link = home / f"{model}.onnx"
    if not link.exists():
        link.symlink_to(models_dir / f"{model}.onnx")
    session = new_session(model)
    for img in sorted(data.glob("*.jpg")):
        mask = remove(Image.open(img), session=session, only_mask=True)
        mask.save(out / f"{img.stem}_{model}.png")
        print(model, img.name, mask.size)
