// Drives the page at `/` in headless Chromium (playwright-core + Debian's chromium), as a user:
// key, two photos dropped, background colour changed, a download; a clip uploaded, processed and
// played. Usage: node page.cjs BASE KEY PHOTO1 PHOTO2 CLIP OUT_DIR
const { chromium } = require("playwright-core");
const fs = require("fs");
const path = require("path");

const [base, key, photo1, photo2, clip, out] = process.argv.slice(2);

function fail(msg) { console.error("FAILED: " + msg); process.exit(1); }

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CUTOUT_TEST_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(base + "/");

  // The key is asked once and kept.
  await page.fill("#key-input", key);
  await page.click("#key-save");

  // Drop two photos on the drop zone.
  const files = [photo1, photo2].map((p) => ({ name: path.basename(p), b64: fs.readFileSync(p).toString("base64") }));
  const dt = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: "image/jpeg" }));
    }
    return dt;
  }, files);
  await page.dispatchEvent("#drop", "drop", { dataTransfer: dt });
  await page.waitForFunction(() => document.querySelectorAll(".card.done").length === 2, null, { timeout: 60000 });

  // A background colour: both are redone on it.
  await page.check("#bg-color-radio");
  await page.fill("#bg-color", "#ff0000");
  await page.dispatchEvent("#bg-color", "input");
  // Both results are redone on red: wait until each result's corner pixel is red.
  const redCorners = () => {
    const imgs = [...document.querySelectorAll(".card.done .after")];
    return imgs.length === 2 && imgs.every((img) => {
      if (!img.complete || !img.naturalWidth) return false;
      const c = document.createElement("canvas");
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext("2d"); g.drawImage(img, 0, 0);
      const [r, gr, b, a] = g.getImageData(1, 1, 1, 1).data;
      return r > 230 && gr < 30 && b < 30 && a === 255;
    });
  };
  await page.waitForFunction(redCorners, null, { timeout: 60000, polling: 200 })
    .catch(() => fail("the results were not redone on the chosen red"));
  await page.screenshot({ path: path.join(out, "images.png"), fullPage: true });

  // Download one result.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(".card .download")]);
  const saved = path.join(out, download.suggestedFilename());
  await download.saveAs(saved);
  if (fs.statSync(saved).size < 1000) fail("the download is empty");
  // All as one zip, made in the browser: two stored entries.
  const [zipped] = await Promise.all([page.waitForEvent("download"), page.click("#zip")]);
  const zipPath = path.join(out, "cutouts.zip");
  await zipped.saveAs(zipPath);
  const zip = fs.readFileSync(zipPath);
  const entries = zip.toString("latin1").split("PK\x01\x02").length - 1;
  if (zip.readUInt32LE(0) !== 0x04034b50 || entries !== 2) fail(`the zip has ${entries} entries`);
  if (!zip.includes(Buffer.from("cat-cutout.png"))) fail("the zip lacks cat-cutout.png");

  // A clip: upload progress, job progress to 100 %, then it plays.
  await page.setInputFiles("#video-file", clip);
  await page.waitForFunction(() => document.querySelector("#upload-progress").value === 100, null, { timeout: 60000 });
  await page.waitForFunction(() => !document.querySelector("#video-out").hidden, null, { timeout: 120000 });
  const progress = await page.$eval("#job-progress", (p) => p.value);
  if (progress !== 100) fail("job progress ended at " + progress);
  const played = await page.$eval("#video-out", async (v) => {
    v.muted = true;
    await v.play();
    await new Promise((r) => setTimeout(r, 700));
    return v.currentTime;
  });
  if (!(played > 0)) fail("the video did not play");
  await page.screenshot({ path: path.join(out, "video.png"), fullPage: true });

  if (problems.length) fail("page errors: " + problems.join(" | "));
  await browser.close();
  console.log(`ok downloaded=${path.basename(saved)} played=${played.toFixed(2)}s`);
})().catch((e) => fail(e.stack || String(e)));
