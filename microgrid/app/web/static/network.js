// Part 2, the network lighting up: the shared network's picture, lit by the digit it reads;
// "Watch the forward pass" sends the activations along the edges layer by layer.
import { el, getJSON, showError, state } from "./api.js";
import { networkPicture } from "./netpic.js";
import { signLegend } from "./paint.js";
import { partSection } from "./story.js";

export function networkPanel() {
  const pic = networkPicture("network-svg");
  const caption = el("p", { class: "note", id: "network-note" });
  const key = signLegend("network-legend", "red: a positive weight w_jk", "blue: a negative one",
    "(the thicker and brighter, the larger |w_jk|)");
  const forward = el("button", { id: "forward-pass", type: "button", text: "Watch the forward pass" });
  forward.disabled = true;
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = partSection({ id: "network", part: "light", title: "Lighting up", heading: "The network lighting up",
    says: "The activations of one layer determine the activations of the next: each neuron takes a weighted sum of "
      + "the layer before, adds its bias and squishes the result into (0, 1) with the sigmoid. The brightest output "
      + "neuron is the network's answer." },
  el("div", { class: "controls" }, forward), pic.element, caption, key, error);

  async function load() {
    try {
      const net = await getJSON(`/api/network?model=${encodeURIComponent(state.model)}`);
      pic.load(net);
      if (state.reading) pic.light(state.reading);
      caption.textContent = `${net.sizes.join("-")} network. A neuron is as bright as its activation; tap or hover one `
        + `for its number. Edges: the strongest weights of each layer. Click a neuron to see what it looks for (part 3).`;
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  pic.onChoose((layer, index) => state.emit("neuron", { layer, index }));
  forward.addEventListener("click", () => { if (state.reading) pic.flowForward(state.reading); });
  const lit = (reading) => { forward.disabled = !reading; pic.light(reading); };
  state.on("reading", lit);
  state.on("example", lit);
  state.on("model", load);
  state.on("cleared", () => { state.reading = null; forward.disabled = true; pic.dark(); });
  state.on("ready", load);
  return section;
}
