// Part 7, backpropagation as nudges: what each output neuron wants, how those wishes travel
// back layer by layer (drawn flowing over the network), the three ways to raise the target
// neuron, how much more sensitive the cost is to one weight than another, a mini-batch's
// average, and a step that changes the shared current network. Every number is the scalar
// engine's backward() on the server.
import { el, fmt, getJSON, onModelsChanged, postJSON, showError, state } from "./api.js";
import { num } from "./explain.js";
import { networkPicture } from "./netpic.js";
import { bars, cssSigned, signLegend } from "./paint.js";
import { partSection } from "./story.js";

const SVG = "http://www.w3.org/2000/svg";
const FN = "microgrid.app.web.nudges.nudges (the scalar engine's Value.backward())";
const SCALAR_MAX_LAYER = 64;   // state.NUDGES_MAX_WIDTH: wider networks are not sent to the scalar engine

function cell(value, explanation, attrs = {}) {
  const td = el("td", { "data-value": String(value), ...attrs });
  td.append(num(value, explanation));
  return td;
}

function edgesPicture(nudgeW, id) {
  // layer L-1 (left) to layer L (right), each edge coloured by its weight's nudge -dC0/dw:
  // red where the weight should grow, blue where it should shrink
  const nout = nudgeW.length, nin = nudgeW[0].length, w = 360, h = 300;
  const pic = document.createElementNS(SVG, "svg");
  pic.setAttribute("viewBox", `0 0 ${w} ${h}`);
  pic.setAttribute("id", id);
  const y = (i, n) => 20 + (i + 0.5) * (h - 40) / n;
  const top = Math.max(1e-12, ...nudgeW.flat().map(Math.abs));
  nudgeW.forEach((row, j) => row.forEach((v, k) => {
    const line = document.createElementNS(SVG, "line");
    Object.entries({ x1: 40, y1: y(k, nin), x2: w - 40, y2: y(j, nout), stroke: cssSigned(v / top),
      "stroke-width": 0.5 + 3 * Math.abs(v) / top, "data-nudge": String(v), "data-j": j, "data-k": k }).forEach(([a, b]) => line.setAttribute(a, b));
    pic.append(line);
  }));
  [[nin, 40, "a_k(L-1)"], [nout, w - 40, "a_j(L)"]].forEach(([n, x, name]) => {
    for (let i = 0; i < n; i++) {
      const c = document.createElementNS(SVG, "circle");
      Object.entries({ cx: x, cy: y(i, n), r: 6, fill: "#444" }).forEach(([a, b]) => c.setAttribute(a, b));
      pic.append(c);
      const label = document.createElementNS(SVG, "text");
      Object.entries({ x: x < w / 2 ? x - 12 : x + 12, y: y(i, n) + 4, "text-anchor": x < w / 2 ? "end" : "start",
        class: "digit-label" }).forEach(([a, b]) => label.setAttribute(a, b));
      label.textContent = String(i);
      pic.append(label);
    }
    const t = document.createElementNS(SVG, "text");
    Object.entries({ x, y: 12, "text-anchor": "middle", class: "layer-label" }).forEach(([a, b]) => t.setAttribute(a, b));
    t.textContent = name;
    pic.append(t);
  });
  return pic;
}

function topEntries(values, count) {
  return values.map((v, k) => [k, v]).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, count);
}

export function nudgesPanel() {
  const target = el("select", { id: "target", "aria-label": "the digit it should be" });
  target.append(el("option", { value: "", text: "?" }));
  for (let d = 0; d < 10; d++) target.append(el("option", { value: String(d), text: String(d) }));
  const exampleButton = el("button", { id: "example-button", type: "button", text: "Use a training image" });
  const run = el("button", { id: "run-nudges", type: "button", text: "Backpropagate this example" });
  const replay = el("button", { id: "replay-flow", type: "button", text: "Watch the nudges flow back again" });
  replay.disabled = true;
  const runBatch = el("button", { id: "run-batch", type: "button", text: "Average over a random mini-batch of 100" });
  const step = el("button", { id: "step", type: "button", text: "Take a step (a new random mini-batch)" });
  const pic = networkPicture("nudges-svg");
  const wide = el("p", { class: "note", id: "nudges-wide" });
  wide.hidden = true;
  const out = el("div", { id: "nudges-out" });
  const sensitive = el("div", { id: "sensitivity" });
  const batchOut = el("div", { id: "batch-out" });
  const stepOut = el("p", { id: "step-result" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = partSection({ id: "nudges", part: "nudges", title: "Nudges", heading: "Nudges and backpropagation",
    says: "For one example, each output neuron wants to move by −dC0/da_j(L) = −2(a_j(L) − y_j): in proportion to how far it "
      + "is from its target. Those wishes are added up for the layer before, each in proportion to its weight, and passed "
      + "back again, layer by layer: backpropagation. Averaged over a mini-batch, the nudges of every weight and bias are "
      + "the negative gradient, and a step follows it." },
    el("div", { class: "controls" }, el("label", {}, "the digit should be ", target), exampleButton, run, replay),
    wide, pic.element,
    signLegend("flow-legend", "red: this activation should go up", "blue: it should go down",
      "(rings around the neurons; the dots flowing back carry each weight's share)"),
    out, sensitive,
    el("div", { class: "controls" }, runBatch, step), batchOut, stepOut, error);
  let exampleIndex = 0, shown = false, netFor = null;

  function usable() {
    const m = state.models.find((x) => x.name === state.model);
    const ok = !m || m.sizes.slice(1, -1).every((n) => n <= SCALAR_MAX_LAYER);
    wide.hidden = ok;
    if (!ok) {
      const button = el("button", { type: "button", id: "use-notes", text: "Use the notes' network" });
      button.addEventListener("click", () => { state.model = "notes"; state.emit("model", "notes"); });
      wide.replaceChildren(`The scalar engine backpropagates networks with up to ${SCALAR_MAX_LAYER} neurons per layer; `
        + `"${state.model}" is ${m.sizes.join("-")}. `, button);
    }
    for (const b of [run, runBatch, step]) b.disabled = !ok;
    return ok;
  }

  function image() {
    if (!state.image) throw new Error("draw a digit first (part 1), or use a training image");
    return state.image;
  }

  async function loadNet() {
    if (netFor === state.model) return;
    pic.load(await getJSON(`/api/network?model=${encodeURIComponent(state.model)}`));
    netFor = state.model;
  }

  async function backprop({ flow = true } = {}) {
    if (!usable()) return;
    try {
      if (target.value === "") throw new Error("say which digit it should be (part 1, or the menu here)");
      const t = Number(target.value);
      const [r] = await Promise.all([postJSON("/api/nudges", { model: state.model, image: image(), target: t }), loadNet()]);
      show(r);
      shown = true;
      if (state.reading) pic.light(state.reading);
      replay.disabled = false;
      replay.onclick = () => pic.flowBack(r);
      if (flow) pic.flowBack(r);
      showError(error, null);
      postJSON("/api/story/sensitivity", { model: state.model, image: state.image, target: t })
        .then(showSensitivity).catch((err) => showError(error, err));
    } catch (err) { showError(error, err); }
  }

  function show(r) {
    const L = r.layers.length, last = r.layers[L - 1];
    const widest = Math.max(1e-12, ...last.nudge_a.map(Math.abs));
    const rows = last.a.map((a, j) => el("tr", { "data-index": String(j), class: j === r.target ? "chosen" : "" },
      el("td", { text: String(j) }),
      cell(a, { what: `a_${j}(L), output neuron ${j}'s activation`, formula: `a_${j}(L) = ${fmt(a)}`, fn: FN }),
      cell(r.y[j], { text: String(r.y[j]), what: `y_${j}, what neuron ${j} should say for a ${r.target}`, formula: `y_${j} = ${r.y[j]}` }),
      cell(last.grad_a[j], { what: `how fast the cost grows as a_${j}(L) grows`,
        formula: `dC0/da_${j}(L) = 2(a_${j}(L) − y_${j}) = 2(${fmt(a)} − ${r.y[j]}) = ${fmt(last.grad_a[j])}`, fn: FN }),
      cell(last.nudge_a[j], { what: `the nudge neuron ${j} wants: up (red) or down (blue), as far as it is from its target`,
        formula: `−dC0/da_${j}(L) = −2(a_${j}(L) − y_${j}) = ${fmt(last.nudge_a[j])}`, fn: FN }, { class: "nudge" }),
      el("td", {}, el("div", { class: "hbar " + (last.nudge_a[j] >= 0 ? "up" : "down"),
        style: `width:${Math.round(60 * Math.abs(last.nudge_a[j]) / widest)}px` }))));
    const table = el("table", { id: "output-nudges" },
      el("tr", {}, ...["j", "a_j(L)", "y_j", "dC0/da_j(L)", "nudge −dC0/da_j(L)", ""].map((t) => el("th", { text: t }))), ...rows);
    const activationKey = signLegend("activation-nudges-legend", "red: this activation should go up (nudge > 0)",
      "blue: it should go down (nudge < 0)", "(bar length: the size of the nudge; hover a bar for its number)");
    const hidden = r.layers.slice(0, -1).reverse().map((layer) => {
      const box = el("div", { class: "bars signed", id: `nudges-layer-${layer.layer}` });
      const name = layer.layer === L - 1 ? "L-1" : `L-${L - layer.layer}`;
      bars(box, layer.nudge_a, { signed: true, explainOf: (k, v) => ({
        what: `the nudge a_${k}(${name}) wants: the output neurons' wishes added up, each in proportion to its weight`,
        formula: `−dC0/da_${k}(${name}) = −Σ_j w_j,${k} σ'(z_j) 2(a_j − y_j) = ${fmt(v)}`, fn: FN }) });
      return el("div", { class: "col" }, el("h4", { text: `nudges to a_k(${name}) (layer ${layer.layer}): −dC0/da_k` }), box);
    });
    const t = r.three_ways;
    const ways = el("div", { id: "three-ways", class: "col grow" },
      el("h4", {}, `Three ways to raise a_${t.index}(L) = `, num(t.a, { what: `the target neuron's activation`, formula: `a_${t.index}(L) = ${fmt(t.a)}`, fn: FN })),
      el("p", { "data-value": String(t.bias_nudge), id: "bias-nudge" }, `1. its bias b_${t.index}(L) (now ${fmt(t.bias, 3)}): nudge `,
        num(t.bias_nudge, { what: `the nudge to the bias b_${t.index}(L)`, formula: `−dC0/db_${t.index}(L) = −dC0/dz_${t.index}(L) = ${fmt(t.bias_nudge)}`, fn: FN })),
      el("p", { id: "weight-nudges" }, `2. its weights, most where a_k(L-1) is bright: `, ...topEntries(t.weight_nudges, 3).flatMap(([k, v], i) => [i ? "; " : "",
        `nudge to w_${t.index},${k}(L) `, num(v, { what: `the nudge to the weight w_${t.index},${k}(L) (its value is ${fmt(t.weights[k], 3)})`,
          formula: `−dC0/dw_${t.index},${k}(L) = −a_${k}(L-1) · dC0/dz_${t.index}(L) = −${fmt(t.prev_a[k], 3)} × ${fmt(t.grad_z, 3)} = ${fmt(v)}`, fn: FN }),
        ` (a_${k}(L-1) = ${fmt(t.prev_a[k], 2)})`])),
      el("p", {}, `3. the previous activations, in proportion to w_${t.index},k(L): `, ...topEntries(t.activation_nudges, 3).flatMap(([k, v], i) => [i ? "; " : "",
        `nudge to a_${k}(L-1) `, num(v, { what: `neuron ${t.index}'s wish for a_${k}(L-1)`,
          formula: `−w_${t.index},${k}(L) · dC0/dz_${t.index}(L) = −${fmt(t.weights[k], 3)} × ${fmt(t.grad_z, 3)} = ${fmt(v)}`, fn: FN })])));
    const pictures = last.nudge_w ? [el("div", { class: "col edges-col" },
      el("h4", { text: "weight nudges −dC0/dw_jk(L) as edges" }), edgesPicture(last.nudge_w, "nudge-edges"),
      signLegend("nudge-edges-legend", "red: increase w_jk (nudge > 0)", "blue: decrease w_jk (nudge < 0)",
        "(the thicker, the bigger the nudge)"))] : [];
    out.replaceChildren(
      el("p", { id: "cost", "data-value": String(r.cost) }, "C0 = Σ_j (a_j(L) − y_j)² = ", num(r.cost, { digits: 6,
        what: "the cost of this one example", formula: `C0 = Σ_j (a_j(L) − y_j)² = ${fmt(r.cost, 6)}`, fn: FN }),
        ` for the digit ${r.target}, on the network "${r.model}"`),
      el("div", { class: "row" }, el("div", { class: "col scroll-x" }, table), ...pictures, ways),
      activationKey,
      el("div", { class: "row" }, ...hidden),
      el("details", {}, el("summary", { text: "The same numbers in microgrid.explain's words" }),
        el("pre", { id: "explain", text: r.explain.join("\n") })));
  }

  function showSensitivity(s) {
    const [a, b] = s.weights;
    const name = (w) => `w_${w.j},${w.k}(${w.layer})`;
    const FS = "microgrid.app.web.story.sensitivity (Value.backward(), then C0 recomputed with the weight nudged)";
    sensitive.replaceChildren(el("h4", { text: "Which weight matters more?" }),
      el("p", { id: "sensitivity-sentence" }, `For this digit, dC0/d${name(a)} = `,
        num(a.grad, { what: `how sensitive the cost is to ${name(a)}, the weight from a_${a.k}(L-1) = ${fmt(a.a_prev, 3)}`, formula: `dC0/d${name(a)} = a_${a.k}(L-1) · dC0/dz_${a.j}(L) = ${fmt(a.grad)}`, fn: FS }),
        ` and dC0/d${name(b)} = `,
        num(b.grad, { what: `how sensitive the cost is to ${name(b)}, the weight from a_${b.k}(L-1) = ${fmt(b.a_prev, 3)}`, formula: `dC0/d${name(b)} = a_${b.k}(L-1) · dC0/dz_${b.j}(L) = ${fmt(b.grad)}`, fn: FS }),
        ": the cost is ", num(s.ratio, { id: "sensitivity-ratio", digits: 1, text: s.ratio.toFixed(0), what: "how many times more sensitive the cost is to the first weight",
          formula: `|${fmt(a.grad)}| / |${fmt(b.grad)}| = ${s.ratio.toFixed(2)}`, fn: FS }),
        ` times more sensitive to the first weight than to the second (the notes' "32 times": their example, these are this network's).`),
      el("p", { class: "note", id: "sensitivity-check" }, `Check: nudge ${name(a)} by ${a.nudge} and C0 changes by `,
        num(a.cost_change, { what: "the change of C0 when the first weight grows by the nudge", formula: `C0(w + ${a.nudge}) − C0(w) = ${fmt(a.cost_change)} ≈ ${a.nudge} × ${fmt(a.grad)}`, fn: FS }),
        `; nudge ${name(b)} by ${b.nudge} and it changes by `,
        num(b.cost_change, { what: "the change of C0 when the second weight grows by the nudge", formula: `C0(w + ${b.nudge}) − C0(w) = ${fmt(b.cost_change)} ≈ ${b.nudge} × ${fmt(b.grad)}`, fn: FS }),
        `: ${s.measured_ratio.toFixed(0)} times less. A weight from a bright neuron matters more.`));
  }

  async function batch() {
    runBatch.disabled = true;
    batchOut.textContent = "backpropagating 100 images on the scalar engine...";
    try {
      if (target.value === "") throw new Error("say which digit it should be (part 1, or the menu here)");
      const r = await postJSON("/api/batch", { model: state.model, image: image(), target: Number(target.value), count: 100 });
      const one = r.example.layers, many = r.batch.layers, L = many.length;
      const tables = [L, L - 1].filter((l) => l >= 1).map((l) => el("div", { class: "col" },
        el("h4", { text: `nudges to layer ${l}${l === L ? " (output)" : ""}` }),
        el("table", { id: `batch-layer-${l}` },
          el("tr", {}, ...["neuron", "this example", "average of 100"].map((t) => el("th", { text: t }))),
          ...many[l - 1].nudge_a.map((v, k) => el("tr", {}, el("td", { text: String(k) }),
            cell(one[l - 1].nudge_a[k], { what: `this example's nudge to a_${k}(${l})`, formula: `−dC0/da_${k}(${l}) = ${fmt(one[l - 1].nudge_a[k])}`, fn: FN }),
            cell(v, { what: `the average nudge to a_${k}(${l}) over the mini-batch`, formula: `(1/100) Σ −dC0/da_${k}(${l}) = ${fmt(v)}`, fn: "microgrid.app.web.nudges.batch_nudges (Value.backward() of the average cost)" }))))));
      batchOut.replaceChildren(el("p", { id: "batch-cost", "data-start": String(r.start) }, "cost: this example ",
        num(r.example.cost, { what: "C0 of this example", formula: `C0 = ${fmt(r.example.cost)}`, fn: FN }),
        `, average over training images ${r.start} to ${r.start + r.batch.count - 1}: `,
        num(r.batch.cost, { what: "the mini-batch's average cost", formula: `C = (1/100) Σ C0 = ${fmt(r.batch.cost)}`, fn: "microgrid.app.web.nudges.batch_nudges" })),
      el("div", { class: "row" }, ...tables));
      showError(error, null);
    } catch (err) { batchOut.textContent = ""; showError(error, err); }
    runBatch.disabled = false;
  }

  async function takeStep() {
    step.disabled = true;
    try {
      const r = await postJSON("/api/step", { model: state.model, count: 100 });
      await onModelsChanged();
      stepOut.replaceChildren(el("span", { id: "step-costs", "data-start": String(r.start) }, `Gradient step ${r.steps} (learning rate ${r.lr}) on the random mini-batch of training images `
        + `${r.start} to ${r.start + r.count - 1}: their average cost was `,
        num(r.cost_before, { what: "the mini-batch's cost before the step", formula: `C = ${fmt(r.cost_before)}`, fn: "microgrid.app.web.api step (FastMLP.loss_and_backward)" }), " before, ",
        num(r.cost_after, { what: "the same mini-batch's cost after the step", formula: `C after w ← w − η∇C = ${fmt(r.cost_after)}`, fn: "microgrid.app.web.api step (FastMLP.loss_and_backward)" }),
        ` after. Every part now shows "${r.model}": the answer, the lit network and these nudges.`));
      state.model = r.model;
      state.emit("model", r.model);   // the answer, the lit network, the cost and these nudges follow
      showError(error, null);
    } catch (err) { showError(error, err); }
    step.disabled = false;
  }

  async function useExample() {
    try {
      const r = await getJSON(`/api/example?index=${exampleIndex}&model=${encodeURIComponent(state.model)}`);
      exampleIndex = (exampleIndex + 1) % 60000;
      state.image = r.image;
      state.reading = r.reading;
      state.target = r.label;
      target.value = String(r.label);
      state.emit("example", r.reading);
      state.emit("target", r.label);
    } catch (err) { showError(error, err); }
  }

  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(() => { if (state.image && state.target !== null) backprop(); }, 250); };
  run.addEventListener("click", () => backprop());
  runBatch.addEventListener("click", batch);
  step.addEventListener("click", takeStep);
  exampleButton.addEventListener("click", useExample);
  target.addEventListener("change", () => { if (target.value !== "") { state.target = Number(target.value); state.emit("target", state.target); } });
  state.on("target", (t) => { target.value = String(t); later(); });
  state.on("reading", () => { if (shown) later(); });   // the learner's digit stays: the reading never sets the target
  state.on("model", () => { netFor = null; usable(); if (shown) later(); });
  state.on("models", usable);
  return section;
}
