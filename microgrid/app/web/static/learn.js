// The training panel: sends the settings, listens to /api/train/events, draws what arrives.
// Every number comes from the server (microgrid in Python); this file only draws. Requests go
// through api.js (the page's one fetch helper); pictures through paint.js.

import { getJSON, onModelsChanged, postJSON, state as pageState } from "./api.js";
import { fitCanvas, least, lineChart, most, runningMean } from "./learn_charts.js";
import { LEARN_HTML } from "./learn_markup.js";
import { DEFAULT_PACE, PACES, applyPace, controlsFor, expectation, fillFromJob, pace, showBatch, showDiagnosis, tidy } from "./learn_watch.js";
import { greyImage, signedColour } from "./paint.js";

const $ = (id) => document.getElementById("learn-" + id);
const API = "/api/train";
const costs = [];          // every mini-batch cost of the job being watched
let lastKind = null;
let shownMessage = "";     // the job's last message written under the buttons

// ---------------------------------------------------------------- requests

// POST to the API; a refusal's one line goes under the buttons that sent it (where).
async function post(path, body, where = "message") {
  let answer;
  try { answer = await postJSON(API + path, body || {}); } catch (err) { answer = { error: err.message }; }
  const message = $(where);
  message.textContent = answer.error || "";
  message.classList.toggle("learn-error", Boolean(answer.error));
  return answer;
}

// The recipe menu (the presets of python -m microgrid train) and the activations, as the server lists them.
function fillRecipes(options) {
  const menu = $("preset");
  for (const name of Object.keys(options.presets)) {
    const summary = options.preset_summaries[name];
    menu.append(new Option(summary ? `${name}: ${summary}` : name, name));
  }
  menu.value = "notes" in options.presets ? "notes" : "";
  for (const id of ["activation", "output_activation"]) {
    for (const name of options.choices[id]) $(id).append(new Option(name, name));
  }
}

function settings() {
  const form = {};
  const preset = $("preset").value;
  if (preset) form.preset = preset;
  const number = (id) => Number($(id).value);
  form.sizes = $("sizes").value.split(/[-,\s]+/).filter(Boolean).map(Number);
  for (const id of ["activation", "loss", "optimizer"]) form[id] = $(id).value;
  form.output_activation = $("output_activation").value || null;
  for (const id of ["lr", "momentum", "batch_size", "epochs", "seed"]) form[id] = number(id);
  form.views = $("views").checked;
  return form;
}

function fillFromPreset(presets, name) {
  const p = presets[name];
  if (!p) return;
  $("sizes").value = p.sizes.join("-");
  for (const id of ["activation", "loss", "optimizer", "lr", "momentum", "batch_size", "seed"]) {
    if (p[id] !== undefined) $(id).value = p[id];
  }
  $("output_activation").value = p.output_activation || "";
  $("epochs").value = name === "best" ? 2 : 1;
}

const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

// Weights in [-1, 1] as red (positive) / blue (negative) over white: paint.js's colours, as the
// figures and the other panels draw weights (int8 values, 127 the neuron's largest).
function weightImage(canvas, values, side) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) img.data.set([...signedColour(values[i] / 127), 255], i * 4);
  ctx.putImageData(img, 0, 0);
}

// A misread test digit, dark ink on white (pixels: 784 bytes, 255 the darkest ink).
const digitImage = (canvas, pixels) => greyImage(canvas, Array.from(pixels, (p) => 1 - p / 255));

// viridis-like: 0 dark purple .. 1 yellow
function colormap(t) {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1), i = Math.floor(x), f = x - i;
  return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
}

// ---------------------------------------------------------------- the MNIST views

function drawWeights(weights) {
  const box = $("weights");
  if (!weights || !weights.side) return;
  const data = new Int8Array(bytes(weights.data).buffer);
  const n = weights.indices.length, size = weights.side * weights.side;
  if (box.children.length !== n) {
    box.innerHTML = "";
    for (let k = 0; k < n; k++) {
      const fig = document.createElement("figure");
      const c = document.createElement("canvas"); c.width = c.height = weights.side;
      const cap = document.createElement("figcaption"); cap.textContent = `neuron ${weights.indices[k]}`;
      fig.append(c, cap); box.append(fig);
    }
  }
  for (let k = 0; k < n; k++) weightImage(box.children[k].firstChild, data.subarray(k * size, (k + 1) * size), weights.side);
  $("weights-caption").textContent = weights.of > n
    ? `${n} of the ${weights.of} first-layer neurons, evenly spaced: red positive weights, blue negative.`
    : `All ${n} first-layer neurons' 784 weights as 28x28 pictures: red positive, blue negative.`;
}

function drawSurface(surface) {
  if (!surface) return;
  const canvas = $("surface");
  const { ctx, w, h } = fitCanvas(canvas);
  const grid = surface.cost, rows = grid.length, cols = grid[0].length;
  const flat = grid.flat().filter((v) => v >= 0), lo = Math.log(Math.min(...flat)), hi = Math.log(Math.max(...flat));
  const cw = w / cols, ch = h / rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    const v = grid[i][j];
    const [r, g, b] = v < 0 ? [255, 255, 255] : colormap((Math.log(v) - lo) / (hi - lo || 1));
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(j * cw, h - (i + 1) * ch, cw + 0.5, ch + 0.5);  // b grows upwards
  }
  const a = surface.a, bb = surface.b;
  const X = (x) => ((x - a[0]) / (a[a.length - 1] - a[0])) * w, Y = (y) => h - ((y - bb[0]) / (bb[bb.length - 1] - bb[0])) * h;
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.beginPath();
  surface.path.forEach(([x, y], k) => (k ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
  ctx.stroke();
  ctx.fillStyle = "#fff";
  for (const [x, y] of surface.path) { ctx.beginPath(); ctx.arc(X(x), Y(y), 2, 0, 7); ctx.fill(); }
  ctx.fillStyle = "#e11d48"; ctx.beginPath(); ctx.arc(X(0), Y(0), 5, 0, 7); ctx.fill();
  $("surface-caption").textContent = `Cost over ${surface.images} training images on the plane through the weights ` +
    `at step ${surface.step} (red dot) spanned by ${surface.directions}; dark is low, yellow high (log scale). ` +
    `White: the path of gradient descent.`;
}

function drawGradient(gradient, history) {
  if (!gradient) return;
  $("cosine").textContent = gradient.cosine.toFixed(3);
  $("batch-cost").textContent = gradient.batch_cost.toFixed(4);
  $("full-cost").textContent = gradient.full_cost.toFixed(4);
  $("gradient-chart").dataset.points = String(history.length);
  lineChart($("gradient-chart"), [{ values: history.map((g) => g.cosine), color: "#2563eb", dots: true }],
    { ymin: -0.2, ymax: 1, ylabel: "cosine" });
}

function drawFinal(state) {
  const final = state.final, box = $("final");
  if (!final) { box.hidden = true; return; }
  if (!box.hidden && box.dataset.steps === String(final.steps)) return;
  box.hidden = false; box.dataset.steps = String(final.steps);
  if (final.model) modelsChanged();
  $("final-summary").textContent = `Test accuracy ${(100 * final.accuracy).toFixed(2)}% after ${final.steps} steps ` +
    `(${final.wrong} of 10,000 test digits wrong). ` +
    (final.model ? `The model is in the draw panel's list as "${final.model}".` : "");
  const table = $("confusion"), max = Math.max(...final.confusion.flat());
  table.innerHTML = "<tr><th></th>" + final.confusion.map((_, j) => `<th>${j}</th>`).join("") + "</tr>" +
    final.confusion.map((row, i) => `<tr><th>${i}</th>` + row.map((v, j) => {
      const t = Math.sqrt(v / max), bg = i === j ? `rgba(37,99,235,${t})` : `rgba(225,29,72,${Math.min(1, 4 * t)})`;
      return `<td style="background:${bg};color:${t > 0.5 ? "#fff" : "#111"}">${v}</td>`;
    }).join("") + "</tr>").join("");
  const mistakes = $("mistakes"); mistakes.innerHTML = "";
  for (const m of final.mistakes) {
    const fig = document.createElement("figure"), c = document.createElement("canvas");
    c.width = c.height = 28; digitImage(c, bytes(m.pixels));
    const cap = document.createElement("figcaption"); cap.textContent = `said ${m.said}, is ${m.label}`;
    fig.append(c, cap); mistakes.append(fig);
  }
}

function showMnist(state) {
  const values = state.costs.values;
  if (state.costs.start === 0) costs.length = 0; else costs.length = Math.min(costs.length, state.costs.start);
  for (const v of values) costs.push(v);
  const chart = $("cost-chart");
  const smooth = runningMean(costs, Math.max(5, Math.floor(costs.length / 60)));
  const markers = [...state.lr_changes.slice(1), ...state.batch_changes.slice(1)].map((c) => c.step - 1);
  // the axis follows the running average (single batches of 10 can reach far below it)
  const ymin = Math.max(1e-6, least(smooth) / 4), ymax = Math.max(most(costs.slice(0, 50)), most(smooth));
  lineChart(chart, [{ values: costs, color: "#bbb", width: 1 }, { values: smooth, color: "#111", width: 2 }],
    { markers, ylabel: "cost C (log scale)", log: true, ymin, ymax });
  const k = Math.min(20, costs.length);
  chart.dataset.points = String(costs.length);
  if (k) {
    chart.dataset.first = String(costs.slice(0, k).reduce((s, v) => s + v, 0) / k);
    chart.dataset.last = String(costs.slice(-k).reduce((s, v) => s + v, 0) / k);
  }
  $("lr-now").textContent = `Now: lr ${tidy(state.lr)}, batch size ${state.batch_size}.`;
  const h = state.history;
  const percents = h.flatMap((r) => [100 * r.train_accuracy, 100 * r.test_accuracy]);
  lineChart($("accuracy-chart"), [
    { values: h.map((r) => 100 * r.train_accuracy), color: "#94a3b8", dots: true },
    { values: h.map((r) => 100 * r.test_accuracy), color: "#2563eb", dots: true },
  ], { ylabel: "% right (blue: test, grey: train)", xmax: Math.max(2, h.length),
    ymin: Math.max(0, Math.floor(Math.min(...percents)) - 1), ymax: Math.min(100, Math.ceil(Math.max(...percents)) + 1) });
  $("accuracy-table").tBodies[0].innerHTML = h.map((r) =>
    `<tr><td>${r.epoch}</td><td>${r.loss.toFixed(4)}</td><td>${(100 * r.train_accuracy).toFixed(2)}%</td>` +
    `<td>${(100 * r.test_accuracy).toFixed(2)}%</td><td>${r.seconds.toFixed(2)}</td></tr>`).join("");
  if (h.length) $("test-accuracy").textContent = `${(100 * h[h.length - 1].test_accuracy).toFixed(2)}%`;
  $("test-accuracy").dataset.value = h.length ? String(h[h.length - 1].test_accuracy) : "";
  const left = state.seconds_left > 0 ? `, about ${Math.ceil(state.seconds_left)} s left` : "";
  $("progress-text").textContent = `epoch ${state.epoch} of ${state.epochs} · step ${state.step} · ` +
    `${state.samples_done.toLocaleString("en")} of ${state.samples_total.toLocaleString("en")} images · ` +
    `${Math.round(state.samples_per_second).toLocaleString("en")} images/s${left}`;
  $("progress").style.width = `${(100 * state.progress).toFixed(1)}%`;
  drawWeights(state.weights);
  drawSurface(state.surface);
  drawGradient(state.gradient, state.gradients);
  drawFinal(state);
  showBatch(state);
  showDiagnosis(state);
  if (document.activeElement !== $("live-lr")) $("live-lr").placeholder = tidy(state.lr);
  if (document.activeElement !== $("live-batch")) $("live-batch").placeholder = state.batch_size;
}

// ---------------------------------------------------------------- the toy

function showToy(state) {
  $("toy-step").textContent = String(state.step);
  if (state.accuracy !== null) $("toy-accuracy").textContent = `${Math.round(100 * state.accuracy)}%`;
  $("toy-accuracy").dataset.value = state.accuracy === null ? "" : String(state.accuracy);
  if (state.costs.start === 0) costs.length = 0;
  for (const v of state.costs.values) costs.push(v);
  lineChart($("toy-cost"), [{ values: costs, color: "#111", width: 2 }], { ylabel: "cost", ymin: 0 });
  const canvas = $("toy-plot"), { ctx, w, h } = fitCanvas(canvas), [x0, x1, y0, y1] = state.extent;
  ctx.clearRect(0, 0, w, h);
  const b = state.boundary;
  if (b) {
    const cell = w / b.side;
    b.scores.forEach((row, i) => row.forEach((s, j) => {
      const t = Math.tanh(2 * Math.abs(s)) * 0.55;  // opaque: blue or orange mixed with white
      const [r, g, bl] = (s > 0 ? [37, 99, 235] : [234, 88, 12]).map((c) => Math.round(255 + t * (c - 255)));
      ctx.fillStyle = `rgb(${r},${g},${bl})`;
      ctx.fillRect(Math.floor(j * cell), Math.floor(i * cell), Math.ceil(cell) + 1, Math.ceil(cell) + 1);
    }));
  }
  state.points.forEach(([x, y], k) => {
    ctx.fillStyle = state.labels[k] > 0 ? "#1d4ed8" : "#c2410c";
    ctx.strokeStyle = "#fff"; ctx.beginPath();
    ctx.arc(((x - x0) / (x1 - x0)) * w, ((y1 - y) / (y1 - y0)) * h, 4, 0, 7); ctx.fill(); ctx.stroke();
  });
}

// ---------------------------------------------------------------- the stream

function show(state) {
  $("status").textContent = state.status;
  panel.dataset.status = state.status;
  controlsFor(state.status);
  if (state.status === "idle") return;
  if (state.kind !== lastKind || String(state.job) !== panel.dataset.job) { costs.length = 0; lastKind = state.kind; }
  panel.dataset.job = String(state.job);
  if (state.kind === "toy") {
    if (state.message && state.message !== shownMessage) {
      shownMessage = state.message;
      $("toy-message").textContent = state.message;
      $("toy-message").classList.toggle("learn-error", state.status === "failed");
    }
    showToy(state);
  } else {
    if (state.message && state.message !== shownMessage) {  // news only: a refusal just shown stays
      shownMessage = state.message;
      $("message").textContent = state.message;
      $("message").classList.toggle("learn-error", ["diverged", "failed"].includes(state.status));
    }
    showMnist(state);
  }
}

// The stream sends the whole state first ("full"), then only what changed: merged here.
let current = {}, recipes = {};
function listen() {
  const source = new EventSource(API + "/events");
  source.addEventListener("state", (event) => {
    const news = JSON.parse(event.data);
    if (news.full) current = {};
    if (news.full && news.kind === "mnist" && ["starting", "running", "paused"].includes(news.status)) fillFromJob(news.config, recipes);
    Object.assign(current, news);
    if (!news.costs) current.costs = { start: costs.length, values: [] };  // no new cost this time
    show(current);
  });
}

function switchMode(toy) {
  $("mnist-panel").hidden = toy; $("toy-panel").hidden = !toy;
  $("mode-mnist").classList.toggle("learn-active", !toy); $("mode-toy").classList.toggle("learn-active", toy);
}

// The panel: a <section id="learn"> in the app's <main id="panels">, or in learn.html's.
const panel = document.createElement("section");
panel.id = "learn";
panel.className = "panel learn";
panel.dataset.part = "learn";        // the guided path's last part (story.js lists it in the contents bar)
panel.dataset.title = "Learning";
panel.innerHTML = LEARN_HTML;
(document.getElementById("panels") || document.body).append(panel);

// In the app's page (whose panels listed the models), a new model goes into their model menus.
async function modelsChanged() {
  if (!pageState.models.length) return;  // learn.html alone: no other panels, no model menu
  try { await onModelsChanged(); } catch (err) { console.warn("could not refresh the model menu:", err); }
}

async function main() {
  const options = await getJSON(API + "/options");
  recipes = options.presets;
  fillRecipes(options);
  fillFromPreset(options.presets, $("preset").value);
  for (const [value, text] of PACES) $("pace").append(new Option(text, value, false, value === DEFAULT_PACE));
  const expect = () => expectation(options.presets, options.preset_summaries);
  expect();
  $("settings").addEventListener("change", expect);
  $("pace").addEventListener("change", () => applyPace(["running", "paused"].includes(panel.dataset.status)));
  $("preset").addEventListener("change", () => fillFromPreset(options.presets, $("preset").value));
  $("settings").addEventListener("input", (e) => { if (!["learn-preset", "learn-epochs", "learn-seed", "learn-views"].includes(e.target.id)) $("preset").value = ""; });
  $("start").addEventListener("click", async () => {
    const s = settings();
    if (s.preset) { for (const k of Object.keys(s)) if (!["preset", "epochs", "views", "seed"].includes(k)) delete s[k]; }
    lastKind = "mnist";
    const answer = await post("/start", { ...s, pace: pace() });
    if (!answer.error) { costs.length = 0; $("message").textContent = "training..."; $("final").hidden = true; await applyPace($("pace").value === "batch"); }
  });
  for (const action of ["pause", "resume", "step", "stop"]) $(action).addEventListener("click", () => post("/" + action));
  $("apply").addEventListener("click", () => {
    const change = {};
    if ($("live-lr").value !== "") change.lr = Number($("live-lr").value);
    if ($("live-batch").value !== "") change.batch_size = Number($("live-batch").value);
    post("/control", change).then((a) => { if (!a.error) $("message").textContent = "applied at the next batch"; });
  });
  $("mode-mnist").addEventListener("click", () => switchMode(false));
  $("mode-toy").addEventListener("click", () => switchMode(true));
  $("toy-start").addEventListener("click", () => {
    lastKind = "toy";
    post("/toy", {
      dataset: $("toy-dataset").value,
      hidden: $("toy-hidden").value.split(/[-,\s]+/).filter(Boolean).map(Number),
      activation: $("toy-activation").value, loss: $("toy-loss").value,
      lr: Number($("toy-lr").value), steps: Number($("toy-steps").value),
    }, "toy-message");
  });
  $("toy-stop").addEventListener("click", () => post("/stop", {}, "toy-message"));
  listen();
  panel.dataset.ready = "1";
}

main();
