# The peer: rembg with the same model file, end to end from JPEG bytes to PNG bytes, model loaded
# once and warmed up, like Cutout's side of the benchmark. Prints one JSON line.
import json, os, resource, statistics, sys, time
from pathlib import Path

model, model_file, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
home = Path(os.environ["U2NET_HOME"])
home.mkdir(parents=True, exist_ok=True)
link = home / f"{model}.onnx"
if not link.exists():
    link.symlink_to(model_file)
os.environ.setdefault("MODEL_CHECKSUM_DISABLED", "1")
from rembg import new_session, remove  # noqa: E402

session = new_session(model)
results = {}
for path in sys.argv[4:]:
    data = Path(path).read_bytes()
    remove(data, session=session)  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = remove(data, session=session)
        times.append((time.perf_counter() - t) * 1000)
    results[path] = {
        "median_ms": statistics.median(times),
        "times_ms": times,
        "out_bytes": len(out),
    }
def peak_rss_mb():
    # VmHWM is this process's own peak. ru_maxrss is not: Linux carries the parent's peak over
    # fork and exec, so it would report the bench's peak whenever that was higher.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


results["peak_rss_mb"] = peak_rss_mb()
print(json.dumps(results))
