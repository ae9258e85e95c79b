// The search page: upload or pick an image, show its nearest neighbours,
// search again from any result, browse the t-SNE map when there is one.
"use strict";

const $ = (id) => document.getElementById(id);
const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
let info = null, map = null, hits = [], queryRow = -1;

function status(msg, isError) {
  $("status").textContent = msg;
  $("status").className = isError ? "error" : "";
}

function k() {
  const v = parseInt($("k").value, 10);
  return Math.max(1, Math.min(v || 12, info ? info.max_k : 100));
}

async function answer(resp) {
  const body = await resp.json().catch(() => ({ error: resp.statusText }));
  if (!resp.ok) throw new Error(body.error || resp.statusText);
  return body;
}

function imageURL(row, size) { return "/v1/images/" + row + "?size=" + size; }

function showQuery(src, text) {
  $("query").hidden = false;
  $("query-img").src = src;
  $("query-text").textContent = text;
}

async function searchFile(file) {
  queryRow = -1;
  showQuery(URL.createObjectURL(file), file.name + " (" + Math.round(file.size / 1024) + " KiB)");
  const form = new FormData();
  form.append("image", file);
  await run(fetch("/v1/search?k=" + k(), { method: "POST", body: form }), "uploaded image");
}

async function searchRow(row) {
  queryRow = row;
  const e = hits.find((h) => h.row === row);
  showQuery(info.images ? imageURL(row, 256) : "", "row " + row + (e && e.label ? " · " + e.label : ""));
  await run(fetch("/v1/search?row=" + row + "&k=" + k()), "row " + row);
}

async function run(request, what) {
  status("searching…");
  const t0 = performance.now();
  try {
    const body = await answer(await request);
    hits = body.results;
    render();
    status(hits.length + " results for the " + what + " in " + Math.round(performance.now() - t0) + " ms");
  } catch (err) {
    status(err.message, true);
  }
}

function render() {
  const box = $("results");
  box.replaceChildren();
  for (const h of hits) {
    const div = document.createElement("div");
    div.className = "result";
    div.dataset.row = h.row;
    div.title = h.path + " (row " + h.row + ")";
    if (info.images) {
      const img = document.createElement("img");
      img.src = imageURL(h.row, 128);
      img.alt = h.path;
      div.append(img);
    }
    const score = document.createElement("div");
    score.className = "score";
    score.textContent = h.score.toFixed(3);
    const label = document.createElement("div");
    label.className = "label";
    label.textContent = h.label || h.path;
    div.append(score, label);
    div.addEventListener("click", () => searchRow(h.row));
    box.append(div);
  }
  $("result-note").textContent = queryRow >= 0 ? "(from row " + queryRow + ")" : "";
  drawMap();
}

// --- the t-SNE map ---
let view = null; // scale from map coordinates to canvas pixels

function colour(i) { return i < palette.length ? palette[i] : "hsl(" + (i * 137) % 360 + ",60%,50%)"; }

function drawMap() {
  if (!map) return;
  const cv = $("map"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  for (let i = 0; i < map.rows.length; i++) {
    ctx.fillStyle = colour(map.label[i]);
    ctx.fillRect(view.x(map.x[i]) - 1.5, view.y(map.y[i]) - 1.5, 3, 3);
  }
  const at = new Map(map.rows.map((r, i) => [r, i]));
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#000";
  for (const h of hits) {
    const i = at.get(h.row);
    if (i === undefined) continue;
    ctx.beginPath();
    ctx.arc(view.x(map.x[i]), view.y(map.y[i]), 5, 0, 2 * Math.PI);
    ctx.stroke();
  }
  const q = at.get(queryRow);
  if (q !== undefined) {
    ctx.strokeStyle = "#d00";
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.arc(view.x(map.x[q]), view.y(map.y[q]), 8, 0, 2 * Math.PI);
    ctx.stroke();
  }
}

async function loadMap() {
  map = await answer(await fetch("/v1/tsne"));
  if (!map.rows.length) return;
  const cv = $("map"), pad = 10;
  const range = (a) => a.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);
  const [x0, x1] = range(map.x), [y0, y1] = range(map.y);
  const s = Math.min((cv.width - 2 * pad) / (x1 - x0 || 1), (cv.height - 2 * pad) / (y1 - y0 || 1));
  view = { x: (v) => pad + (v - x0) * s, y: (v) => pad + (v - y0) * s };
  $("map-box").hidden = false;
  $("legend").replaceChildren(...map.labels.map((l, i) => {
    const span = document.createElement("span"), dot = document.createElement("i");
    dot.style.background = colour(i);
    span.append(dot, l || "(no label)");
    return span;
  }));
  cv.addEventListener("click", (ev) => {
    const r = cv.getBoundingClientRect();
    const px = (ev.clientX - r.left) * cv.width / r.width, py = (ev.clientY - r.top) * cv.height / r.height;
    let best = -1, bd = 64; // within 8 px
    for (let i = 0; i < map.rows.length; i++) {
      const d = (view.x(map.x[i]) - px) ** 2 + (view.y(map.y[i]) - py) ** 2;
      if (d < bd) { bd = d; best = i; }
    }
    if (best >= 0) searchRow(map.rows[best]);
  });
  drawMap();
}

// --- start ---
async function start() {
  try {
    info = await answer(await fetch("/v1/info"));
  } catch (err) {
    status("cannot reach the server: " + err.message, true);
    return;
  }
  $("info").textContent = info.vectors.toLocaleString() + " images · " + info.dim + "-d" + (info.model ? " · " + info.model : "");
  $("k").max = info.max_k;
  status("ready");
  const drop = $("drop");
  $("file").addEventListener("change", (ev) => { if (ev.target.files[0]) searchFile(ev.target.files[0]); });
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    const f = ev.dataTransfer.files[0];
    if (f) searchFile(f);
  });
  if (info.tsne) loadMap().catch((err) => status("t-SNE map: " + err.message, true));
}

start();
