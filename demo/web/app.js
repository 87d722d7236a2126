// app.js drives the web demo's page: it asks /api/search for the neighbours of
// a digit, draws every digit from its 64 pixel values on a <canvas>, and shows
// the SQL that ran, its time and the strategy vecdb used.
"use strict";

const $ = (id) => document.getElementById(id);
let rows = 1797;
let queryId = null;

// drawDigit returns a figure with the 8x8 image (intensities 0..16, dark ink on white) and caption lines.
function drawDigit(pixels, captions, className) {
  const fig = document.createElement("figure");
  fig.className = "digit " + className;
  const canvas = document.createElement("canvas");
  canvas.width = 8;
  canvas.height = 8;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(8, 8);
  pixels.forEach((v, i) => {
    const grey = Math.round(255 - (Math.min(16, Math.max(0, v)) * 255) / 16);
    img.data.set([grey, grey, grey, 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
  fig.appendChild(canvas);
  for (const [text, cls] of captions) {
    const cap = document.createElement("figcaption");
    cap.textContent = text;
    if (cls) cap.className = cls;
    fig.appendChild(cap);
  }
  return fig;
}

// search asks for the neighbours of digit id under the current filter and k, and shows them.
async function search(id) {
  const params = new URLSearchParams({ id: String(id), k: $("k").value });
  if ($("label").value !== "") params.set("label", $("label").value);
  $("results").dataset.state = "loading";
  const resp = await fetch("/api/search?" + params);
  const data = await resp.json();
  if (!resp.ok) {
    $("error").textContent = data.error;
    $("error").hidden = false;
    $("results").dataset.state = "error";
    return;
  }
  $("error").hidden = true;
  queryId = data.query.id;
  history.replaceState(null, "", "?" + params);
  show(data);
}

// show renders one search answer.
function show(data) {
  const q = data.query;
  const fig = drawDigit(q.pixels, [[`query #${q.id}`], [`label ${q.label}`]], "query");
  fig.id = "query";
  $("query").replaceWith(fig);
  const results = $("results");
  results.replaceChildren(...data.results.map((r) => {
    const fig = drawDigit(r.pixels, [[`#${r.id}`], [`label ${r.label}`, r.label === q.label ? "same" : "other"],
      [`dist ${r.distance.toFixed(2)}`]], "result");
    fig.dataset.id = r.id;
    fig.dataset.label = r.label;
    fig.title = `search from digit #${r.id}`;
    fig.addEventListener("click", () => search(r.id));
    return fig;
  }));
  const same = data.results.filter((r) => r.label === q.label).length;
  $("stats").textContent = `${data.results.length} neighbours, ${same} with the query's label ${q.label}. ` +
    `Server: execution ${data.execution_ms.toFixed(3)} ms, planning ${data.planning_ms.toFixed(3)} ms ` +
    `(EXPLAIN ANALYZE); round trip ${data.round_trip_ms.toFixed(2)} ms.`;
  const segs = data.segments.map((s) =>
    `segment ${s.segment ?? "growing"} (${s.kind}, ${s.rows} rows): ${s.strategy}, ` +
    `${s.allowed} allowed, ${s.returned} returned`);
  $("strategy").textContent = `Plan: ${data.plan}.` + (segs.length ? " vecdb: " + segs.join("; ") + "." : "");
  $("sql").textContent = data.sql;
  results.dataset.query = q.id;
  results.dataset.state = "ready";
}

// randomQuery searches from a random digit other than the current query.
function randomQuery() {
  let id;
  do id = Math.floor(Math.random() * rows); while (id === queryId && rows > 1);
  search(id);
}

// start reads the table size and runs the first search (?id=N&label=L&k=K in the address, else random).
async function start() {
  const info = await (await fetch("/api/info")).json();
  rows = info.rows;
  $("indexdef").textContent = info.index.replace(/^CREATE INDEX \S+ ON \S+ USING /, "").replace(/ WITH .*/, "");
  const params = new URLSearchParams(location.search);
  if (params.has("label")) $("label").value = params.get("label");
  if (params.has("k")) $("k").value = params.get("k");
  $("random").addEventListener("click", randomQuery);
  $("label").addEventListener("change", () => search(queryId));
  $("k").addEventListener("change", () => search(queryId));
  if (params.has("id")) search(Number(params.get("id")));
  else randomQuery();
}

start();
