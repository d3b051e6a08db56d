// Panel 3, what a neuron looks for: its weights as a picture, its bias, and the weighted
// inputs w_jk a_k that add up to its weighted sum, in the notes' notation.
import { el, fmt, postJSON, showError, state } from "./api.js";
import { bars, signedImage, signLegend } from "./paint.js";

const SIGMA = { sigmoid: "σ", relu: "ReLU", tanh: "tanh", linear: "" };

export function neuronPanel() {
  const weights = el("canvas", { id: "weights-image", width: 168, height: 168 });
  const weighted = el("canvas", { id: "weighted-image", width: 168, height: 168 });
  const weightBars = el("div", { class: "bars small", id: "weight-bars" });
  const weightedBars = el("div", { class: "bars small", id: "weighted-bars" });
  const title = el("h3", { id: "neuron-title", text: "Click a neuron in the network above." });
  const formula = el("div", { id: "neuron-formula", class: "formula" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const pictures = el("div", { class: "row" },
    el("div", { class: "col" }, el("h4", { text: "its weights w" }), weights, weightBars),
    el("div", { class: "col" }, el("h4", { text: "weights × your digit: w_k a_k" }), weighted, weightedBars),
    el("div", { class: "col grow" }, formula, signLegend("neuron-legend", "red: positive", "blue: negative",
      "white: zero (each picture scaled to its largest magnitude)")));
  pictures.hidden = true;
  const section = el("section", { id: "neuron-panel", class: "panel" },
    el("h2", { text: "3. What a neuron looks for" }), title, pictures, error);
  let chosen = null;

  async function show() {
    if (!chosen) return;
    const image = state.image || new Array(784).fill(0);
    try {
      const n = await postJSON("/api/neuron", { model: state.model, layer: chosen.layer, index: chosen.index, image });
      const grid = n.weights.length === 784;
      weights.hidden = weighted.hidden = !grid;
      weightBars.hidden = weightedBars.hidden = grid;
      if (grid) {
        signedImage(weights, n.weights);
        signedImage(weighted, n.weighted_inputs);
      } else {
        bars(weightBars, n.weights, { signed: true });
        bars(weightedBars, n.weighted_inputs, { signed: true });
      }
      const l = n.layer, j = n.index, prev = l - 1;
      title.textContent = `Neuron ${j} of layer ${l} (${n.weights.length} weights)`;
      const f = SIGMA[n.activation];
      formula.replaceChildren(
        el("p", { text: `weighted sum: Σ_k w_${j},k(${l}) a_k(${prev}) = ${fmt(n.weighted_sum)}` }),
        el("p", { text: `bias: b_${j}(${l}) = ${fmt(n.bias)}` }),
        el("p", { text: `z_${j}(${l}) = Σ_k w_${j},k(${l}) a_k(${prev}) + b_${j}(${l}) = ${fmt(n.z)}` }),
        el("p", { id: "neuron-activation",
          text: `a_${j}(${l}) = ${f ? `${f}(z_${j}(${l}))` : `z_${j}(${l})`} = ${fmt(n.a)}` }),
        el("p", { class: "note", text: state.image ? "" : "Draw a digit to see the weighted inputs." }));
      pictures.hidden = false;
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  state.on("neuron", (which) => { chosen = which; show(); });
  state.on("reading", show);
  state.on("example", show);
  state.on("model", () => { chosen = null; pictures.hidden = true; title.textContent = "Click a neuron in the network above."; });
  return section;
}
