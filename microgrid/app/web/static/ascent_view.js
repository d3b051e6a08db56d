// What the network thinks a digit looks like: gradient ascent on the 784 input pixels (the
// backward pass taken one step further, to a(0)), drawn as it forms; and random noise, answered.
import { el, fmt, postJSON, showError, state } from "./api.js";
import { bars, greyImage } from "./paint.js";

const CALLS = 30, STEPS_PER_CALL = 5;

export function ascentPanel() {
  const digitMenu = el("select", { id: "ascent-digit" });
  for (let d = 0; d < 10; d++) digitMenu.append(el("option", { value: String(d), text: `make it a ${d}` }));
  const startMenu = el("select", { id: "ascent-start" },
    el("option", { value: "blank", text: "from a blank image" }), el("option", { value: "drawing", text: "from my drawing" }));
  const climb = el("button", { id: "ascent-run", type: "button", text: "Climb the gradient" });
  const noise = el("button", { id: "noise-run", type: "button", text: "Feed it random noise" });
  const picture = el("canvas", { id: "ascent-image", width: 168, height: 168, class: "digit-image" });
  const outputs = el("div", { class: "bars small", id: "ascent-bars" });
  const status = el("p", { id: "ascent-status", class: "formula" });
  const noisePicture = el("canvas", { id: "noise-image", width: 168, height: 168, class: "digit-image" });
  const noiseBars = el("div", { class: "bars small", id: "noise-bars" });
  const noiseStatus = el("p", { id: "noise-status", class: "formula" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const climbed = el("div", { class: "row" },   // each pair shown once it has something to show
    el("div", { class: "col" }, el("h4", { text: "the image being climbed" }), picture, status),
    el("div", { class: "col" }, el("h4", { text: "the network's outputs a(L)" }), outputs));
  const noisy = el("div", { class: "row" },
    el("div", { class: "col" }, el("h4", { text: "random noise" }), noisePicture, noiseStatus),
    el("div", { class: "col" }, el("h4", { text: "its answer" }), noiseBars));
  climbed.hidden = noisy.hidden = true;
  const section = el("section", { id: "ascent", class: "panel" },
    el("h2", { text: "What the network thinks a digit looks like" }),
    el("p", { class: "note", text: "The backward pass does not have to stop at the weights: one more step, "
      + "W(1)ᵀ δ(1), gives the derivative of output k by every pixel a(0). Climbing it (each step moves the "
      + "pixels by 0.05 × gradient / its largest entry, kept in [0, 1]) draws the image that makes output k "
      + "most active. Then the notes' surprise: random noise, which is no digit at all, answered with confidence." }),
    el("div", { class: "controls" }, digitMenu, startMenu, climb, noise),
    el("div", { class: "row" }, climbed, noisy), error);
  let run = 0, seed = 1;

  async function ascend() {
    const mine = ++run, digit = Number(digitMenu.value);
    let image = startMenu.value === "drawing" && state.image ? state.image : new Array(784).fill(0);
    let first = null;
    for (let call = 0; call < CALLS && mine === run; call++) {
      try {
        const r = await postJSON("/api/views/ascent", { model: state.model, digit, image, steps: STEPS_PER_CALL, rate: 0.05 });
        if (mine !== run) return;
        image = r.image;
        first ??= r.scores[0];
        greyImage(picture, image);
        climbed.hidden = false;
        bars(outputs, r.outputs, { highlight: digit, signed: r.outputs.some((v) => v < 0) });
        const what = r.score === "output" ? `a_${digit}(L)` : `log p_${digit}`;
        status.textContent = `step ${(call + 1) * STEPS_PER_CALL}: ${what} from ${fmt(first)} to ${fmt(r.scores.at(-1))}; read as ${r.digit}`;
        status.dataset.value = String(r.scores.at(-1));
        status.dataset.steps = String((call + 1) * STEPS_PER_CALL);
        showError(error, null);
      } catch (err) { showError(error, err); return; }
    }
  }

  async function feedNoise() {
    try {
      const r = await postJSON("/api/views/noise", { model: state.model, seed: seed++ });
      greyImage(noisePicture, r.image);
      noisy.hidden = false;
      bars(noiseBars, r.outputs, { highlight: r.digit, signed: r.outputs.some((v) => v < 0) });
      noiseStatus.textContent = `pure noise, read as ${r.digit} with output ${fmt(r.confidence, 3)}`;
      noiseStatus.dataset.digit = String(r.digit);
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  climb.addEventListener("click", ascend);
  noise.addEventListener("click", feedNoise);
  state.on("model", () => { run++; });
  return section;
}
