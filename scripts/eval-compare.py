"""Compares an engine's eval scores with ONNX Runtime f32's (scripts/eval.sh): the gate is 0.002
IoU and 0.002 MAE, 0.003 boundary F, and no higher video flicker (1e-4 for rounding).
Prints one line. Usage: eval-compare.py BASE.json OTHER.json [MODEL PRECISION MANIFEST]
With a model and precision bf16, the manifest's `bf16` flag says whether `auto` relies on the
result: a failure is then an error (exit 1) only for a model marked `bf16 = true`, and a pass of
an unmarked model is pointed out."""
import json
import sys
import tomllib

base, other = (json.load(open(p)) for p in sys.argv[1:3])
marked = None
if len(sys.argv) == 6 and sys.argv[4] == "bf16":
    with open(sys.argv[5], "rb") as f:
        models = tomllib.load(f)["model"]
    marked = any(m["name"] == sys.argv[3] and m.get("bf16", False) for m in models)
checks = []
for key, bound in (("iou", 0.002), ("mae", 0.002), ("bf", 0.003)):
    d = other["overall"][key] - base["overall"][key]
    checks.append((f"images {key}", d, abs(d) <= bound))
    vd = other["video"]["_mean"][key] - base["video"]["_mean"][key]
    checks.append((f"video {key}", vd, abs(vd) <= bound))
fd = other["video"]["_mean"]["flicker"] - base["video"]["_mean"]["flicker"]
checks.append(("flicker", fd, fd <= 1e-4))
ok = all(c[2] for c in checks)
verdict = "  PASS" if ok else "  FAIL: " + ", ".join(n for n, _, good in checks if not good)
if marked is False:
    verdict += (" (bf16 = true in the manifest would let auto use it)" if ok
                else " (expected: not marked bf16, auto runs it in f32)")
print("    vs onnxruntime f32: " + ", ".join(f"{n} {d:+.4f}" for n, d, _ in checks) + verdict)
sys.exit(0 if ok or marked is False else 1)
