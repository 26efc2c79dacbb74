"""A remove.bg client written only from remove.bg's public API documentation
(https://www.remove.bg/api), as its users write them: `requests`, the documented
endpoint, parameters, headers and error shape. It shares no code with Cutout; the
test points it at a Cutout server by changing the base URL and the key.

Usage: removebg_client.py BASE_URL API_KEY PHOTO OUT_DIR
"""
import base64
import io
import sys
import zipfile

import requests

base, key, photo, out = sys.argv[1:5]
api = base.rstrip("/") + "/v1.0"


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)


# The docs' first example: multipart upload, size=auto, the PNG written to a file.
with open(photo, "rb") as f:
    r = requests.post(
        api + "/removebg",
        files={"image_file": f},
        data={"size": "auto"},
        headers={"X-Api-Key": key},
    )
check(r.status_code == requests.codes.ok, f"upload: {r.status_code} {r.text[:200]}")
with open(out + "/no-bg.png", "wb") as o:
    o.write(r.content)
check(r.headers["Content-Type"] == "image/png", "auto with transparency is PNG")
for h in ("X-Width", "X-Height", "X-Credits-Charged", "X-Type", "X-Foreground-Top"):
    check(h in r.headers, f"header {h}")
credits = float(r.headers["X-Credits-Charged"])

# Base64 input, a background colour, JSON output (Accept: application/json).
with open(photo, "rb") as f:
    b64 = base64.b64encode(f.read()).decode()
r = requests.post(
    api + "/removebg",
    data={"image_file_b64": b64, "size": "preview", "bg_color": "81d4fa", "format": "jpg"},
    headers={"X-Api-Key": key, "Accept": "application/json"},
)
check(r.status_code == 200, f"b64: {r.status_code} {r.text[:200]}")
data = r.json()["data"]
check(base64.b64decode(data["result_b64"])[:2] == b"\xff\xd8", "a JPEG in result_b64")
check(all(k in data for k in ("foreground_top", "foreground_left", "foreground_width", "foreground_height")), "foreground box")

# The zip format: color.jpg + alpha.png.
with open(photo, "rb") as f:
    r = requests.post(api + "/removebg", files={"image_file": f}, data={"size": "preview", "format": "zip"}, headers={"X-Api-Key": key})
check(r.status_code == 200, "zip")
names = sorted(zipfile.ZipFile(io.BytesIO(r.content)).namelist())
check(names == ["alpha.png", "color.jpg"], f"zip contents {names}")

# Errors: {"errors": [{"title": ..., "code": ...}]}; a bad key is 403.
r = requests.post(api + "/removebg", data={"size": "auto"}, headers={"X-Api-Key": key})
check(r.status_code == 400 and r.json()["errors"][0]["title"], f"no image: {r.status_code}")
r = requests.post(api + "/removebg", data={"image_url": "https://example.com/a.jpg"}, headers={"X-Api-Key": "wrong"})
check(r.status_code == 403 and "errors" in r.json(), f"bad key: {r.status_code}")

# The account.
r = requests.get(api + "/account", headers={"X-Api-Key": key})
check(r.status_code == 200, "account")
total = r.json()["data"]["attributes"]["credits"]["total"]
print(f"ok credits_charged={credits} total={total}")
