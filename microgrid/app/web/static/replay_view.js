// Replay: scrub a finished or paused MNIST run back and forth: the first layer's weights, the
// cost and the accuracy at that step, and how the network of that step reads your digit.
import { el, fmt, getJSON, postJSON, showError, state } from "./api.js";
import { linePlot, pictureGrid } from "./views_plot.js";

function unpack(weights) {   // training_views.first_layer_images: int8 rows, base64
  const bytes = Uint8Array.from(atob(weights.data), (c) => c.charCodeAt(0));
  const signed = new Int8Array(bytes.buffer);
  const side = weights.side * weights.side;
  return weights.indices.map((_, i) => Array.from(signed.subarray(i * side, (i + 1) * side)));
}

export function replayPanel() {
  const load = el("button", { id: "replay-load", type: "button", text: "Load the last run" });
  const slider = el("input", { type: "range", id: "replay-slider", min: "0", max: "0", step: "1", value: "0" });
  slider.disabled = true;
  const where = el("p", { id: "replay-where", class: "formula" });
  const pictures = el("canvas", { id: "replay-weights", class: "weights" });
  const plot = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  plot.id = "replay-costs";
  plot.classList.add("plot");
  plot.toggleAttribute("hidden", true);   // nothing to draw before a run is loaded (an SVG element: the attribute)
  pictures.hidden = true;
  const reading = el("p", { id: "replay-reading", class: "formula" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = el("section", { id: "replay", class: "panel" },
    el("h2", { text: "Replay a run" }),
    el("p", { class: "note", text: "A run keeps its weights at up to 200 evenly spaced steps (10 MB for the notes' "
      + "network). Train in the training panel, pause or let it finish, load it here and drag the slider: the first "
      + "layer's weights as pictures, the batch cost and the accuracy on 2,000 test images at that step, and how "
      + "the network of that step reads your drawing." }),
    el("div", { class: "controls" }, load, slider), where, plot,
    el("div", { class: "row" }, pictures, reading), error);
  let listing = null, inFlight = false, wanted = null;

  async function show(position) {
    wanted = position;
    if (inFlight) return;   // the latest position is fetched when this answer arrives
    inFlight = true;
    try {
      while (wanted !== null) {
        const at = wanted;
        wanted = null;
        const body = { position: at };
        if (state.image) body.image = state.image;
        const r = await postJSON("/api/views/replay", body);
        pictureGrid(pictures, unpack(r.weights), { per: 8, scale: 2, gap: 4, top: 127 });
        pictures.hidden = false;
        plot.toggleAttribute("hidden", false);
        where.textContent = `snapshot ${at + 1} of ${listing.steps.length}: step ${r.step}, batch cost `
          + `${r.cost === null ? "(start)" : fmt(r.cost, 4)}, accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.test_images} test images`;
        where.dataset.step = String(r.step);
        const costs = listing.steps.map((step, i) => [step, listing.costs[i]]).filter(([, c]) => c !== null);
        linePlot(plot, [{ label: "batch cost", colour: "#888", points: costs },
          { label: "here", colour: "#e69f00", dots: true, points: r.cost === null ? [] : [[r.step, r.cost]] }],
        { yLabel: "batch cost", height: 150 });
        where.dataset.accuracy = String(r.accuracy);
        reading.textContent = r.reading ? `your digit, read by the network of step ${r.step}: ${r.reading.digit}`
          : "draw a digit in the draw panel to see how each step's network reads it";
      }
      showError(error, null);
    } catch (err) { showError(error, err); }
    inFlight = false;
  }

  load.addEventListener("click", async () => {
    try {
      listing = await getJSON("/api/views/replay");
      slider.max = String(listing.steps.length - 1);
      slider.value = slider.max;
      slider.disabled = false;
      show(listing.steps.length - 1);
    } catch (err) { showError(error, err); }
  });
  slider.addEventListener("input", () => show(Number(slider.value)));
  return section;
}
