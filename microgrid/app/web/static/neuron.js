// Part 3, what a neuron looks for: its weights as a picture, its bias, and the weighted
// inputs w_jk a_k that add up to its weighted sum, in the notes' notation.
import { el, fmt, postJSON, showError, state } from "./api.js";
import { num } from "./explain.js";
import { bars, signedImage, signLegend } from "./paint.js";
import { partSection } from "./story.js";

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
  const section = partSection({ id: "neuron-panel", part: "neuron", title: "A neuron", heading: "What a neuron looks for",
    says: "A neuron's weights tell what pixel pattern it picks up on (positive where it wants ink, negative around it, "
      + "as for an edge); its bias tells how high the weighted sum must be before it gets meaningfully active." },
    title, pictures, error);
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
      const FN = "microgrid.app.web.lighting.neuron (the model's weights and FastMLP.forward_all)";
      const sum = `Σ_k w_${j},k(${l}) a_k(${prev})`;
      const line = (id, label, ...rest) => el("p", id ? { id } : {}, label, ...rest);
      formula.replaceChildren(
        line(null, `weighted sum: ${sum} = `, num(n.weighted_sum, { what: `the weighted sum of the ${n.weights.length} activations of layer ${prev} feeding neuron ${j}`,
          formula: `${sum} = ${fmt(n.weighted_sum)} (the sum of the right-hand picture)`, fn: FN })),
        line(null, `bias: b_${j}(${l}) = `, num(n.bias, { what: `neuron ${j}'s bias: how high the weighted sum must be before it gets active`,
          formula: `b_${j}(${l}) = ${fmt(n.bias)}`, fn: FN })),
        line(null, `z_${j}(${l}) = ${sum} + b_${j}(${l}) = `, num(n.z, { what: `z_${j}(${l}), the neuron's weighted sum plus its bias`,
          formula: `z_${j}(${l}) = ${fmt(n.weighted_sum)} + ${fmt(n.bias)} = ${fmt(n.z)}`, fn: FN })),
        line("neuron-activation", `a_${j}(${l}) = ${f ? `${f}(z_${j}(${l}))` : `z_${j}(${l})`} = `, num(n.a, {
          what: `a_${j}(${l}), the neuron's activation: its weighted sum plus bias, squished`,
          formula: `a_${j}(${l}) = ${f ? `${f}(${fmt(n.z)})` : fmt(n.z)} = ${fmt(n.a)}`, fn: FN })),
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
