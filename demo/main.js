// The demo page: starts the training worker, draws the loss curve as the losses arrive, then the
// 2-D layout of the test embeddings, and offers vecs.tsv / meta.tsv for the Embedding Projector.
// window.demoStatus mirrors what the page shows, for the browser test.

import { TAB10, scatterSvg } from "/dist/src/index.js";

const $ = (id) => document.getElementById(id);

/** i32.const 0; i8x16.splat; i8x16.popcnt: valid only where WebAssembly SIMD is supported. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

const DEFAULTS = { limitTrain: 6000, limitTest: 1000, batchSize: 32, epochs: 2, learningRate: 0.001, seed: 42, postEvery: 5, umapEpochs: 200 };
const FIELDS = ["limitTrain", "limitTest", "batchSize", "epochs", "learningRate"];
const SMOOTH = 20;

const status = (window.demoStatus = {
  simd: false,
  simdValidated: WebAssembly.validate(SIMD_PROBE),
  kernelsInstantiated: null,
  crossOriginIsolated: self.crossOriginIsolated === true,
  state: "idle",
  steps: 0,
  totalSteps: 0,
  losses: [],
  precisionAt1: null,
  layout: null,
  scatterDrawn: false,
  timings: null,
  error: null,
});

function configFromPage() {
  const query = new URLSearchParams(location.search);
  const config = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    const input = document.querySelector(`#config [name="${key}"]`);
    const raw = input ? input.value : query.get(key);
    if (raw !== null && raw !== "" && Number.isFinite(Number(raw))) config[key] = Number(raw);
  }
  return config;
}

function fillForm() {
  const query = new URLSearchParams(location.search);
  for (const key of FIELDS) {
    const input = document.querySelector(`#config [name="${key}"]`);
    input.value = query.get(key) ?? DEFAULTS[key];
  }
}

// --- status line --------------------------------------------------------------------------------

function showStatus() {
  $("simd").textContent = status.simdValidated ? "supported" : "NOT supported";
  $("simd").className = status.simdValidated ? "ok" : "bad";
  const k = status.kernelsInstantiated;
  $("kernels").textContent = k === null ? "loading…" : k ? "instantiated in the worker (WebAssembly SIMD)" : "failed to instantiate";
  $("kernels").className = k === null ? "" : k ? "ok" : "bad";
  $("coi").textContent = status.crossOriginIsolated ? "yes (SharedArrayBuffer available)" : "no";
}

// --- the loss curve -----------------------------------------------------------------------------

function drawLoss() {
  const canvas = $("loss");
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const pad = { left: 60, right: 16, top: 16, bottom: 36 };
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  const losses = status.losses;
  const steps = Math.max(status.totalSteps, losses.length, 1);
  const top = Math.max(0.1, ...losses.map((l) => Math.min(l, 5))) * 1.05;
  const x = (i) => pad.left + (i / steps) * (width - pad.left - pad.right);
  const y = (v) => pad.top + (1 - Math.min(v, top) / top) * (height - pad.top - pad.bottom);

  ctx.strokeStyle = "#dddddd";
  ctx.fillStyle = "#555555";
  ctx.font = "12px system-ui, sans-serif";
  ctx.lineWidth = 1;
  for (let t = 0; t <= 4; t++) {
    const v = (top * t) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.left, y(v));
    ctx.lineTo(width - pad.right, y(v));
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillText(v.toFixed(2), pad.left - 6, y(v) + 4);
  }
  ctx.textAlign = "center";
  for (let t = 0; t <= 4; t++) ctx.fillText(String(Math.round((steps * t) / 4)), x((steps * t) / 4), height - pad.bottom + 16);
  ctx.fillText("step", (pad.left + width - pad.right) / 2, height - 4);
  ctx.save();
  ctx.translate(14, (pad.top + height - pad.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText("triplet loss", 0, 0);
  ctx.restore();

  ctx.fillStyle = "rgba(31, 119, 180, 0.35)";
  losses.forEach((l, i) => ctx.fillRect(x(i + 1) - 1, y(l) - 1, 2, 2));
  ctx.strokeStyle = "#1f77b4";
  ctx.lineWidth = 2;
  ctx.beginPath();
  let sum = 0;
  losses.forEach((l, i) => {
    sum += l - (i >= SMOOTH ? losses[i - SMOOTH] : 0);
    const mean = sum / Math.min(i + 1, SMOOTH);
    if (i === 0) ctx.moveTo(x(i + 1), y(mean));
    else ctx.lineTo(x(i + 1), y(mean));
  });
  ctx.stroke();
}

// --- the scatter --------------------------------------------------------------------------------

function drawScatter(points, labels, title) {
  const canvas = $("scatter");
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const pad = 16;
  const legend = 56;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "#222222";
  ctx.font = "15px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.fillText(title, (width - legend) / 2, pad + 10);

  const n = labels.length;
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, points[2 * i]);
    maxX = Math.max(maxX, points[2 * i]);
    minY = Math.min(minY, points[2 * i + 1]);
    maxY = Math.max(maxY, points[2 * i + 1]);
  }
  const top = pad + 28;
  const side = Math.min(width - legend - 2 * pad, height - top - pad);
  const scale = side / Math.max(maxX - minX, maxY - minY, 1e-9);
  const offX = pad + (width - legend - 2 * pad - scale * (maxX - minX)) / 2;
  const offY = top + (height - top - pad - scale * (maxY - minY)) / 2;
  ctx.globalAlpha = 0.75;
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = TAB10[labels[i] % 10];
    ctx.beginPath();
    ctx.arc(offX + (points[2 * i] - minX) * scale, offY + (maxY - points[2 * i + 1]) * scale, 2.6, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.globalAlpha = 1;
  ctx.font = "14px system-ui, sans-serif";
  ctx.textAlign = "left";
  for (let c = 0; c < 10; c++) {
    const ly = top + 8 + c * 22;
    ctx.fillStyle = TAB10[c];
    ctx.beginPath();
    ctx.arc(width - legend + 10, ly, 6, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = "#222222";
    ctx.fillText(String(c), width - legend + 22, ly + 5);
  }
  status.scatterDrawn = true;
}

// --- downloads ----------------------------------------------------------------------------------

const blobUrls = [];

function offer(id, text, type) {
  const link = $(id);
  const url = URL.createObjectURL(new Blob([text], { type }));
  blobUrls.push(url);
  link.href = url;
  link.classList.remove("disabled");
  link.removeAttribute("aria-disabled");
}

function withdrawDownloads() {
  for (const id of ["vecs", "meta", "svg"]) {
    $(id).removeAttribute("href");
    $(id).classList.add("disabled");
    $(id).setAttribute("aria-disabled", "true");
  }
  blobUrls.splice(0).forEach((url) => URL.revokeObjectURL(url));
}

// --- the worker ---------------------------------------------------------------------------------

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
let autostart = new URLSearchParams(location.search).get("autostart") === "1";

function setState(state, text) {
  status.state = state;
  $("progress").textContent = text;
  const busy = state === "loading" || state === "training" || state === "evaluating" || state === "layout";
  $("start").disabled = busy || !status.kernelsInstantiated;
  $("stop").disabled = state !== "training";
}

worker.onmessage = (event) => {
  const m = event.data;
  switch (m.type) {
    case "kernels":
      status.kernelsInstantiated = m.ok;
      status.simd = status.simdValidated && m.ok;
      showStatus();
      if (!m.ok) setState("error", `the kernels did not instantiate: ${m.message}`);
      else setState(status.state, $("progress").textContent);
      if (m.ok && autostart) {
        autostart = false;
        start();
      }
      break;
    case "phase":
      setState(m.phase, m.text);
      break;
    case "data":
      status.totalSteps = m.totalSteps;
      $("data").textContent = `${m.trainCount} training images (${m.stepsPerEpoch} steps an epoch), ${m.testCount} test images`;
      drawLoss();
      break;
    case "progress": {
      status.losses.push(...m.losses);
      status.steps = m.step;
      const last = status.losses.slice(-SMOOTH);
      const mean = last.reduce((a, b) => a + b, 0) / Math.max(1, last.length);
      $("progress").textContent = `step ${m.step} / ${status.totalSteps} · epoch ${m.epoch + 1} · loss (last ${last.length}) ${mean.toFixed(4)} · ${m.samplesPerSecond.toFixed(0)} images/s`;
      drawLoss();
      break;
    }
    case "metrics":
      status.precisionAt1 = m.metrics.precisionAt1;
      status.rPrecision = m.metrics.rPrecision;
      status.mapAtR = m.metrics.mapAtR;
      $("metrics").textContent = `precision@1 ${m.metrics.precisionAt1.toFixed(3)} · R-precision ${m.metrics.rPrecision.toFixed(3)} · MAP@R ${m.metrics.mapAtR.toFixed(3)} (chance ≈ 0.1)`;
      break;
    case "done": {
      status.layout = m.method;
      status.timings = m.timings;
      const title = `${m.method} of ${m.labels.length} test embeddings · P@1 ${m.metrics.precisionAt1.toFixed(3)}`;
      drawScatter(m.points, m.labels, title);
      $("scatter-caption").textContent = m.note ? `${title} (${m.note})` : title;
      offer("vecs", m.vecs, "text/tab-separated-values");
      offer("meta", m.meta, "text/tab-separated-values");
      offer("svg", scatterSvg(m.points, m.labels, { title }), "image/svg+xml");
      const t = m.timings;
      setState("done", `${m.stopped ? "stopped" : "done"} after ${m.steps} steps · load ${t.loadSeconds.toFixed(1)} s, train ${t.trainSeconds.toFixed(1)} s, embed ${t.embedSeconds.toFixed(1)} s, metrics ${t.metricsSeconds.toFixed(1)} s, ${m.method} ${t.layoutSeconds.toFixed(1)} s`);
      break;
    }
    case "error":
      status.error = m.message;
      setState("error", `error: ${m.message}`);
      break;
  }
};
worker.onerror = (event) => {
  status.error = event.message || "the worker failed to load";
  status.kernelsInstantiated = status.kernelsInstantiated ?? false;
  showStatus();
  setState("error", `worker error: ${status.error}`);
};

function start() {
  Object.assign(status, { steps: 0, totalSteps: 0, losses: [], precisionAt1: null, layout: null, scatterDrawn: false, timings: null, error: null });
  withdrawDownloads();
  $("metrics").textContent = "";
  $("scatter-caption").textContent = "";
  const scatter = $("scatter");
  scatter.getContext("2d").clearRect(0, 0, scatter.width, scatter.height);
  drawLoss();
  setState("loading", "starting…");
  worker.postMessage({ type: "start", config: configFromPage() });
}

$("start").addEventListener("click", start);
$("stop").addEventListener("click", () => {
  worker.postMessage({ type: "stop" });
  $("stop").disabled = true;
  $("progress").textContent += " · stopping…";
});

fillForm();
showStatus();
drawLoss();
setState("idle", "ready: press Start");
