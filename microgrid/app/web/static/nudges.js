// Panel 4, backpropagation as nudges: what each output neuron wants, how those wishes add
// up backwards, the three ways to raise the target neuron, a mini-batch's average, a step.
// Every number is the scalar engine's backward() on the server.
import { el, fmt, getJSON, onModelsChanged, postJSON, showError, state } from "./api.js";
import { bars, cssSigned, signLegend } from "./paint.js";

const SVG = "http://www.w3.org/2000/svg";

function cell(value, attrs = {}) {
  return el("td", { "data-value": String(value), text: fmt(value), ...attrs });
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
  const modelMenu = el("select", { id: "nudges-model" });
  const target = el("select", { id: "target" });
  for (let d = 0; d < 10; d++) target.append(el("option", { value: String(d), text: String(d) }));
  const exampleButton = el("button", { id: "example-button", type: "button", text: "Use a training image" });
  const run = el("button", { id: "run-nudges", type: "button", text: "Backpropagate this example" });
  const runBatch = el("button", { id: "run-batch", type: "button", text: "Average over 100 training images" });
  const step = el("button", { id: "step", type: "button", text: "Take a step" });
  const out = el("div", { id: "nudges-out" });
  const batchOut = el("div", { id: "batch-out" });
  const stepOut = el("p", { id: "step-result" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = el("section", { id: "nudges", class: "panel" },
    el("h2", { text: "4. Backpropagation as nudges" }),
    el("p", { class: "note", text: "The network's cost for one example is C0 = Σ_j (a_j(L) − y_j)². Each output neuron "
      + "wants to move by −dC0/da_j(L) = −2(a_j(L) − y_j): in proportion to how far it is from its target. "
      + "Backpropagation adds those wishes up, layer by layer, weighted by the weights." }),
    el("div", { class: "controls" }, el("label", {}, "network ", modelMenu), el("label", {}, " the digit should be ", target),
      exampleButton, run),
    out,
    el("div", { class: "controls" }, runBatch, step, el("span", { class: "note", text: " (100 training images from image 0)" })),
    batchOut, stepOut, error);
  let exampleIndex = 0;

  function fillModels(listing) {
    const keep = modelMenu.value;
    modelMenu.replaceChildren(...listing.models.filter((m) => m.sizes.slice(1).every((n) => n <= 64))   // small enough for Values
      .map((m) => el("option", { value: m.name, text: m.name })));
    const names = [...modelMenu.options].map((o) => o.value);
    modelMenu.value = names.includes(keep) ? keep : (names.includes("notes") ? "notes" : names[0]);
  }

  function image() {
    if (!state.image) throw new Error("draw a digit first, or use a training image");
    return state.image;
  }

  async function backprop() {
    try {
      const r = await postJSON("/api/nudges", { model: modelMenu.value, image: image(), target: Number(target.value) });
      show(r);
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  function show(r) {
    const L = r.layers.length, last = r.layers[L - 1];
    const widest = Math.max(1e-12, ...last.nudge_a.map(Math.abs));
    const rows = last.a.map((a, j) => el("tr", { "data-index": String(j), class: j === r.target ? "chosen" : "" },
      el("td", { text: String(j) }), cell(a), cell(r.y[j]), cell(last.grad_a[j]), cell(last.nudge_a[j], { class: "nudge" }),
      el("td", {}, el("div", { class: "hbar " + (last.nudge_a[j] >= 0 ? "up" : "down"),
        style: `width:${Math.round(60 * Math.abs(last.nudge_a[j]) / widest)}px` }))));
    const table = el("table", { id: "output-nudges" },
      el("tr", {}, ...["j", "a_j(L)", "y_j", "dC0/da_j(L)", "nudge −dC0/da_j(L)", ""].map((t) => el("th", { text: t }))), ...rows);
    const activationKey = signLegend("activation-nudges-legend", "red: this activation should go up (nudge > 0)",
      "blue: it should go down (nudge < 0)", "(bar length: the size of the nudge)");
    const hidden = r.layers.slice(0, -1).reverse().map((layer) => {
      const box = el("div", { class: "bars signed", id: `nudges-layer-${layer.layer}` });
      bars(box, layer.nudge_a, { signed: true });
      const name = layer.layer === L - 1 ? "L-1" : `L-${L - layer.layer}`;
      return el("div", { class: "col" }, el("h4", { text: `nudges to a_k(${name}) (layer ${layer.layer}): −dC0/da_k` }), box);
    });
    const t = r.three_ways;
    const ways = el("div", { id: "three-ways", class: "col grow" },
      el("h4", { text: `Three ways to raise a_${t.index}(L) = ${fmt(t.a)} (dC0/dz_${t.index}(L) = ${fmt(t.grad_z)})` }),
      el("p", { "data-value": String(t.bias_nudge), id: "bias-nudge", text: `1. its bias: b_${t.index}(L) = ${fmt(t.bias)}, nudge ${fmt(t.bias_nudge)}` }),
      el("p", { text: `2. its weights, most where a_k(L-1) is bright: ` + topEntries(t.weight_nudges, 4)
        .map(([k, v]) => `w_${t.index},${k}: ${fmt(v, 3)} (a_${k}(L-1) = ${fmt(t.prev_a[k], 2)})`).join(", ") }),
      el("p", { text: `3. the previous activations, in proportion to w_${t.index},k(L): ` + topEntries(t.activation_nudges, 4)
        .map(([k, v]) => `a_${k}(L-1): ${fmt(v, 3)} (w = ${fmt(t.weights[k], 2)})`).join(", ") }));
    const pictures = last.nudge_w ? [el("div", { class: "col edges-col" },
      el("h4", { text: "weight nudges −dC0/dw_jk(L) as edges" }), edgesPicture(last.nudge_w, "nudge-edges"),
      signLegend("nudge-edges-legend", "red: increase w_jk (nudge > 0)", "blue: decrease w_jk (nudge < 0)",
        "(the thicker, the bigger the nudge)"))] : [];
    out.replaceChildren(
      el("p", { id: "cost", "data-value": String(r.cost),
        text: `C0 = Σ_j (a_j(L) − y_j)² = ${fmt(r.cost, 6)} for the target ${r.target}, on the ${r.model} network` }),
      el("div", { class: "row" }, el("div", { class: "col" }, table), ...pictures, ways),
      activationKey,
      el("div", { class: "row" }, ...hidden),
      el("details", {}, el("summary", { text: "The same numbers in microgrid.explain's words" }),
        el("pre", { id: "explain", text: r.explain.join("\n") })));
  }

  async function batch() {
    runBatch.disabled = true;
    batchOut.textContent = "backpropagating 100 images on the scalar engine...";
    try {
      const r = await postJSON("/api/batch", { model: modelMenu.value, image: image(), target: Number(target.value), start: 0, count: 100 });
      const one = r.example.layers, many = r.batch.layers, L = many.length;
      const tables = [L, L - 1].filter((l) => l >= 1).map((l) => el("div", { class: "col" },
        el("h4", { text: `nudges to layer ${l}${l === L ? " (output)" : ""}` }),
        el("table", { id: `batch-layer-${l}` },
          el("tr", {}, ...["neuron", "this example", "average of 100"].map((t) => el("th", { text: t }))),
          ...many[l - 1].nudge_a.map((v, k) => el("tr", {}, el("td", { text: String(k) }), cell(one[l - 1].nudge_a[k]), cell(v))))));
      batchOut.replaceChildren(el("p", { id: "batch-cost", text: `cost: this example ${fmt(r.example.cost, 5)}, `
        + `average over images ${r.start} to ${r.start + r.batch.count - 1}: ${fmt(r.batch.cost, 5)}` }), el("div", { class: "row" }, ...tables));
      showError(error, null);
    } catch (err) { batchOut.textContent = ""; showError(error, err); }
    runBatch.disabled = false;
  }

  async function takeStep() {
    step.disabled = true;
    try {
      const r = await postJSON("/api/step", { model: modelMenu.value, start: 0, count: 100 });
      fillModels(await onModelsChanged());
      modelMenu.value = r.model;
      stepOut.replaceChildren(el("span", { id: "step-costs", text: `Gradient step ${r.steps} (learning rate ${r.lr}) on training images `
        + `${r.start} to ${r.start + r.count - 1}: their average cost was ${fmt(r.cost_before, 5)} before, ${fmt(r.cost_after, 5)} after. `
        + `The stepped network is "${r.model}" in the menus; the table above now shows it`
        + (batchOut.childElementCount ? " (the mini-batch view is of the network before the step)." : ".") }));
      if (state.image) await backprop();
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
      target.value = String(r.label);
      state.emit("example", r.reading);
      await backprop();
    } catch (err) { showError(error, err); }
  }

  run.addEventListener("click", backprop);
  runBatch.addEventListener("click", batch);
  step.addEventListener("click", takeStep);
  exampleButton.addEventListener("click", useExample);
  state.on("models", fillModels);
  state.on("reading", (reading) => { target.value = String(reading.digit); });
  return section;
}
