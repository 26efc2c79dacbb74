// Cutout's page: photos through the remove.bg-compatible endpoint, videos through the video API.
// No framework, no build step, no third-party code; served from the binary.
"use strict";

const $ = (sel) => document.querySelector(sel);
const KEY = "cutout.apiKey";
const items = []; // { name, file | url, card, blob }

function apiKey() { return localStorage.getItem(KEY) || ""; }

function askKey() {
  const dialog = $("#key-dialog");
  $("#key-input").value = apiKey();
  dialog.showModal();
}

$("#key-form").addEventListener("submit", () => {
  localStorage.setItem(KEY, $("#key-input").value.trim());
  rerunAll();
});
$("#key-button").addEventListener("click", askKey);

// An error body of any family, as a sentence.
async function sentence(resp) {
  let text = `The server answered ${resp.status}.`;
  try {
    const b = await resp.json();
    const e = (b.errors && b.errors[0]) || b.error || b;
    const detail = e.detail || e.message || e.title || (typeof b.error === "string" ? b.error : "");
    if (detail) text = detail.charAt(0).toUpperCase() + detail.slice(1) + (/[.!?]$/.test(detail) ? "" : ".");
  } catch (_) { /* not JSON */ }
  if (resp.status === 403 || resp.status === 401) text += " Check your API key.";
  return text;
}

function options() {
  const f = new FormData();
  f.append("size", $("#size").value);
  f.append("format", $("#format").value);
  if ($("#model").value) f.append("model", $("#model").value);
  if ($("#crop").checked) f.append("crop", "true");
  const bg = document.querySelector("input[name=bg]:checked").value;
  if (bg === "color") f.append("bg_color", $("#bg-color").value.slice(1));
  if (bg === "image" && $("#bg-image").files[0]) f.append("bg_image_file", $("#bg-image").files[0]);
  return f;
}

function addCard(name) {
  const card = $("#card").content.firstElementChild.cloneNode(true);
  const split = card.querySelector(".split");
  const after = card.querySelector(".after");
  const show = () => { after.style.clipPath = `inset(0 0 0 ${split.value}%)`; };
  split.addEventListener("input", show);
  show();
  split.setAttribute("aria-label", `Before and after for ${name}`);
  $("#results").append(card);
  return card;
}

async function run(item) {
  const card = item.card;
  const msg = card.querySelector(".message");
  const link = card.querySelector(".download");
  card.classList.remove("done");
  msg.className = "message";
  msg.textContent = `Working on ${item.name}…`;
  link.hidden = true;
  if (!apiKey()) { askKey(); msg.textContent = "Enter your API key first."; return; }
  const form = options();
  if (item.file) form.append("image_file", item.file, item.name);
  else form.append("image_url", item.url);
  try {
    const resp = await fetch("/v1.0/removebg", { method: "POST", headers: { "X-Api-Key": apiKey() }, body: form });
    if (!resp.ok) throw new Error(await sentence(resp));
    item.blob = await resp.blob();
    const ext = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" }[item.blob.type] || "png";
    const url = URL.createObjectURL(item.blob);
    card.querySelector(".after").src = url;
    link.href = url;
    link.download = item.name.replace(/\.[^.]*$/, "") + "-cutout." + ext;
    link.textContent = `Download ${link.download}`;
    link.hidden = false;
    msg.textContent = `Done: ${resp.headers.get("X-Width")}×${resp.headers.get("X-Height")}, ${resp.headers.get("X-Credits-Charged")} credit(s).`;
    card.classList.add("done");
  } catch (e) {
    item.blob = null;
    msg.className = "message error";
    msg.textContent = e.message.startsWith("The server") || e.message.endsWith(".") ? e.message : "Could not reach the server.";
  }
  $("#zip").disabled = !items.some((i) => i.blob);
}

function add(file, url) {
  const name = file ? file.name : url.split("/").pop() || "image";
  const card = addCard(name);
  card.querySelector(".before").src = file ? URL.createObjectURL(file) : url;
  const item = { name, file, url, card, blob: null };
  items.push(item);
  run(item);
}

function addFiles(list) { [...list].filter((f) => f.type.startsWith("image/") || /\.(heic|heif|avif|psd|svg)$/i.test(f.name)).forEach((f) => add(f)); }

let timer = null;
function rerunAll() { clearTimeout(timer); timer = setTimeout(() => items.forEach(run), 250); }

const drop = $("#drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); addFiles(e.dataTransfer.files); });
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("#files").click(); } });
$("#files").addEventListener("change", (e) => { addFiles(e.target.files); e.target.value = ""; });
document.addEventListener("paste", (e) => addFiles(e.clipboardData.files));
$("#url-form").addEventListener("submit", (e) => { e.preventDefault(); const u = $("#url").value.trim(); if (u) add(null, u); $("#url").value = ""; });
for (const el of ["#size", "#format", "#model", "#crop", "#bg-color", "#bg-image"]) $(el).addEventListener("change", rerunAll);
$("#bg-color").addEventListener("input", () => { $("#bg-color-radio").checked = true; rerunAll(); });
$("#bg-image").addEventListener("change", () => { $("#bg-image-radio").checked = true; });
document.querySelectorAll("input[name=bg]").forEach((r) => r.addEventListener("change", rerunAll));

// A zip of the results: "stored" entries (the images are compressed already), CRC-32 per file.
const CRC = new Uint32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
function crc32(bytes) { let c = 0xffffffff; for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; }
async function zip(files) {
  const parts = [], central = [];
  let offset = 0;
  for (const { name, blob } of files) {
    const data = new Uint8Array(await blob.arrayBuffer());
    const n = new TextEncoder().encode(name);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    [[0, 0x04034b50, 4], [4, 20, 2], [14, crc, 4], [18, data.length, 4], [22, data.length, 4], [26, n.length, 2]].forEach(([o, v, s]) => s === 4 ? local.setUint32(o, v, true) : local.setUint16(o, v, true));
    const dir = new DataView(new ArrayBuffer(46));
    [[0, 0x02014b50, 4], [4, 20, 2], [6, 20, 2], [16, crc, 4], [20, data.length, 4], [24, data.length, 4], [28, n.length, 2], [42, offset, 4]].forEach(([o, v, s]) => s === 4 ? dir.setUint32(o, v, true) : dir.setUint16(o, v, true));
    parts.push(local, n, data);
    central.push(dir, n);
    offset += 30 + n.length + data.length;
  }
  const size = central.reduce((s, p) => s + p.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  [[0, 0x06054b50, 4], [8, files.length, 2], [10, files.length, 2], [12, size, 4], [16, offset, 4]].forEach(([o, v, s]) => s === 4 ? end.setUint32(o, v, true) : end.setUint16(o, v, true));
  return new Blob([...parts, ...central, end], { type: "application/zip" });
}
$("#zip").addEventListener("click", async () => {
  const done = items.filter((i) => i.blob);
  const blob = await zip(done.map((i) => ({ name: i.card.querySelector(".download").download, blob: i.blob })));
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "cutouts.zip";
  a.click();
});

// Video: upload with progress, create the job, follow it, then play and offer the file.
function upload(file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/uploads");
    xhr.setRequestHeader("X-Api-Key", apiKey());
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) $("#upload-progress").value = Math.round(100 * e.loaded / e.total); });
    xhr.addEventListener("load", async () => {
      const resp = new Response(xhr.responseText, { status: xhr.status });
      if (xhr.status >= 200 && xhr.status < 300) { $("#upload-progress").value = 100; resolve(JSON.parse(xhr.responseText)); }
      else reject(new Error(await sentence(resp)));
    });
    xhr.addEventListener("error", () => reject(new Error("The upload did not reach the server.")));
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}

async function api(path, init = {}) {
  const resp = await fetch(path, { ...init, headers: { "X-Api-Key": apiKey(), "Content-Type": "application/json", ...(init.headers || {}) } });
  if (!resp.ok) throw new Error(await sentence(resp));
  return resp.json();
}

$("#video-file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const status = $("#video-status");
  status.className = "";
  $("#video-out").hidden = true;
  $("#video-download").hidden = true;
  $("#upload-progress").value = 0;
  $("#job-progress").value = 0;
  if (!apiKey()) { askKey(); status.textContent = "Enter your API key first."; return; }
  try {
    status.textContent = "Uploading…";
    const up = await upload(file);
    const job = await api("/v1/jobs", { method: "POST", body: JSON.stringify({ video_url: up.video_url, output_format: "webm", model: "light" }) });
    status.textContent = "Processing…";
    for (;;) {
      const j = await api(`/v1/jobs/${job.id}`);
      $("#job-progress").value = j.progress || 0;
      if (j.status === "completed") break;
      if (j.status === "failed" || j.status === "cancelled") throw new Error((j.error && (j.error.message || j.error)) || `The job ${j.status}.`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const dl = await api(`/api/download/${job.id}`);
    const video = $("#video-out");
    video.src = dl.download_url;
    video.hidden = false;
    $("#video-download").href = dl.download_url;
    $("#video-download").hidden = false;
    status.textContent = "Done.";
  } catch (err) {
    status.className = "error";
    status.textContent = err.message;
  }
});

// The models this server has, for the picker.
fetch("/v1/models").then((r) => r.json()).then((b) => {
  for (const m of b.models.filter((m) => m.media === "image")) {
    const o = document.createElement("option");
    o.value = m.name;
    o.textContent = m.name + (m.default ? " (default)" : "");
    $("#model").append(o);
  }
}).catch(() => {});

if (!apiKey()) askKey();
