"""Compares an engine's eval scores with ONNX Runtime f32's (scripts/eval.sh): the issue's gate
is 0.002 IoU and 0.002 MAE, 0.003 boundary F, and no higher video flicker (1e-4 for rounding).
Prints one line; exits 1 when a figure is outside its bound."""
import json
import sys

base, other = (json.load(open(p)) for p in sys.argv[1:3])
checks = []
for key, bound in (("iou", 0.002), ("mae", 0.002), ("bf", 0.003)):
    d = other["overall"][key] - base["overall"][key]
    checks.append((f"images {key}", d, abs(d) <= bound))
    vd = other["video"]["_mean"][key] - base["video"]["_mean"][key]
    checks.append((f"video {key}", vd, abs(vd) <= bound))
fd = other["video"]["_mean"]["flicker"] - base["video"]["_mean"]["flicker"]
checks.append(("flicker", fd, fd <= 1e-4))
ok = all(c[2] for c in checks)
print("    vs onnxruntime f32: " + ", ".join(f"{n} {d:+.4f}" for n, d, _ in checks)
      + ("  PASS" if ok else "  FAIL: " + ", ".join(n for n, _, good in checks if not good)))
sys.exit(0 if ok else 1)
