// The learning part's pace, the mini-batch it learns from, what went wrong, and the buttons
// that only work while a job runs. Every number is the server's (training_watch.PageWatch,
// training_job.TrainingJob); this file draws them.
import { el, fmt, postJSON } from "./api.js";
import { num } from "./explain.js";

const $ = (id) => document.getElementById("learn-" + id);
const FN = "microgrid.app.web.training_watch.PageWatch (the training loop's hooks, microgrid.digits.loop)";

// The pace menu: steps a second sent with Start and by /control; "batch": one mini-batch at a time.
export const PACES = [
  ["batch", "one mini-batch at a time (Next mini-batch)"],
  ["1", "1 step a second"],
  ["10", "10 steps a second (the notes' network: about a minute an epoch)"],
  ["100", "100 steps a second"],
  ["full", "full speed (as fast as the CLI)"],
];
export const DEFAULT_PACE = "10";

export function pace() {
  const v = $("pace").value;
  return v === "full" ? null : v === "batch" ? 1 : Number(v);
}

// After Start (or a change of the menu while a job runs): one mini-batch at a time pauses the job.
export async function applyPace(running) {
  if (!running) return;
  const v = $("pace").value;
  await postJSON("/api/train/control", { pace: pace() });
  if (v === "batch") await postJSON("/api/train/pause", {});
  else if (document.getElementById("learn").dataset.status === "paused") await postJSON("/api/train/resume", {});
}

// Pause, Resume, Next mini-batch, Stop and Apply only while a job runs (each, when it can act).
export function controlsFor(status) {
  const running = status === "running" || status === "starting", paused = status === "paused";
  $("pause").disabled = !running;
  $("resume").disabled = !paused;
  $("step").disabled = !(running || paused);
  $("stop").disabled = !(running || paused);
  $("apply").disabled = !(running || paused);
  $("step").textContent = "Next mini-batch";
}

// What Start will do, next to it: the recipe's accuracy is for its own number of epochs.
export function expectation(presets, summaries) {
  const name = $("preset").value, epochs = Number($("epochs").value), p = presets[name];
  const line = $("expect");
  if (!p) { line.textContent = `Start trains ${epochs} epoch${epochs === 1 ? "" : "s"} of your own settings.`; return; }
  line.textContent = `Start trains ${epochs} epoch${epochs === 1 ? "" : "s"} of "${name}"`
    + (p.epochs && p.epochs !== epochs ? `: the menu's ${(summaries[name].match(/[\d.]+%/) || ["accuracy"])[0]} takes ${p.epochs} epochs, so expect less.` : ".");
}

// After a reload while a job runs: the form shows that job's settings, not the defaults.
export function fillFromJob(config, presets) {
  if (!config) return;
  $("sizes").value = config.sizes.join("-");
  for (const id of ["activation", "loss", "optimizer", "lr", "momentum", "batch_size", "epochs", "seed"]) {
    if (config[id] !== undefined && $(id)) $(id).value = config[id];
  }
  $("output_activation").value = config.output_activation || "";
  const same = Object.entries(presets).find(([, p]) => Object.entries(p).every(([k, v]) => k === "epochs"
    || JSON.stringify(v) === JSON.stringify(config[k])));
  $("preset").value = same ? same[0] : "";
}

function batchGrid(batch) {
  const box = el("div", { class: "learn-batch-images", id: "learn-batch-images" });
  const pixels = Uint8Array.from(atob(batch.images), (c) => c.charCodeAt(0));
  const shown = pixels.length / 784;
  for (let i = 0; i < shown; i++) {
    const c = document.createElement("canvas");
    c.width = c.height = 28;
    const ctx = c.getContext("2d"), img = ctx.createImageData(28, 28);
    for (let k = 0; k < 784; k++) { const g = 255 - pixels[784 * i + k]; img.data.set([g, g, g, 255], 4 * k); }
    ctx.putImageData(img, 0, 0);
    const right = batch.answers[i] === batch.labels[i];
    const fig = el("figure", { class: right ? "" : "wrong" }, c, el("figcaption", { text: right ? String(batch.labels[i]) : `${batch.answers[i]}≠${batch.labels[i]}` }));
    fig.dataset.what = `training image ${batch.first + i} of this epoch's shuffled order: a ${batch.labels[i]}; before the step the network said ${batch.answers[i]}`;
    fig.dataset.fn = FN;
    box.append(fig);
  }
  return box;
}

let shownStep = -1;
export function showBatch(state) {
  const card = $("batch-card"), b = state.batch;
  card.hidden = !b;
  if (!b || b.step === shownStep) return;
  shownStep = b.step;
  card.dataset.step = String(b.step);
  const after = b.cost_after !== undefined;
  $("batch").replaceChildren(
    el("p", { id: "learn-batch-text" }, `Step ${b.step} (epoch ${b.epoch}) learns from a mini-batch of ${b.count} training images. Their average cost `,
      num(b.cost_before, { what: "the mini-batch's average cost before the step", formula: `C = (1/${b.count}) Σ C0 = ${fmt(b.cost_before)}`, fn: FN }),
      after ? " before the step, " : ". ",
      ...(after ? [num(b.cost_after, { id: "learn-cost-after", what: "the same mini-batch's average cost after the step", formula: `C after w ← w − η∇C = ${fmt(b.cost_after)}`, fn: FN }), " after. "] : []),
      "The step −η∇C has length ",
      num(b.step_length, { what: "how far the step moves the 13,002 weights and biases", formula: `|η∇C| = ${fmt(b.lr)} × ${fmt(b.grad_norm)} = ${fmt(b.step_length)}`, fn: FN }),
      ` (η = ${Number(b.lr.toPrecision(4))}). Read right: ${b.right_before}` + (after ? ` before, ${b.right_after} after.` : ".")),
    batchGrid(b));
}

export function showDiagnosis(state) {
  const box = $("diagnosis"), found = state.diagnosis || [];
  box.hidden = !found.length;
  box.replaceChildren(el("h2", { text: "What went wrong" }), ...found.map((d) => el("div", { class: "learn-problem", "data-name": d.name },
    el("strong", { text: d.name[0].toUpperCase() + d.name.slice(1) + ": " }), d.says, el("br"), el("em", { text: "Try: " }), d.try)));
}

// Numbers as people write them: lr 0.44264640499999997 reads 0.4426.
export const tidy = (x) => (typeof x === "number" ? Number(x.toPrecision(4)) : x);
