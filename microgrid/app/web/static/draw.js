// Part 1, what the network sees: a pad, the 28x28 image the network reads, ten output bars
// and the answer; and the digit the learner says it is (the y of the cost and the nudges,
// set by the learner, never by the network's guess).
import { el, postJSON, showError, state } from "./api.js";
import { num } from "./explain.js";
import { bars, greyImage } from "./paint.js";
import { partSection } from "./story.js";

const SIDE = 140;            // the pad's pixels (shown at twice the size)
const INTERVAL_MS = 100;     // at most ten readings a second while drawing

export function drawPanel() {
  const pad = el("canvas", { id: "pad", width: SIDE, height: SIDE, "aria-label": "drawing pad" });
  const seen = el("canvas", { id: "seen", width: 168, height: 168, "aria-label": "what the network sees" });
  const barBox = el("div", { id: "bars", class: "bars" });
  const answer = el("span", { id: "prediction", text: "" });
  const note = el("p", { class: "note", id: "draw-note", text: "Draw a digit in the black square." });
  const clear = el("button", { id: "clear", type: "button", text: "Clear" });
  const error = el("p", { class: "error", id: "draw-error" });
  error.hidden = true;
  const digits = el("div", { class: "digit-buttons", id: "target-buttons", role: "radiogroup", "aria-label": "the digit you drew" },
    ...Array.from({ length: 10 }, (_, d) => el("button", { type: "button", "data-digit": String(d), role: "radio",
      "aria-checked": "false", text: String(d) })));
  const targetNote = el("p", { class: "note", id: "target-note", text: "Which digit is it? Tell the network: its cost and nudges (parts 4 and 7) measure it against your answer." });
  const section = partSection({ id: "draw", part: "see", title: "What it sees", heading: "What the network sees",
    says: "The network sees 784 numbers: a 28x28 grid of pixels, each an activation between 0 (black) and 1 (white). "
      + "Its last layer has ten neurons, one per digit: how much the network thinks the image is that digit." },
    el("div", { class: "row" },
      el("div", { class: "col" }, pad, el("div", {}, clear)),
      el("div", { class: "col" }, el("h3", { text: "What the network sees (28x28)" }), seen),
      el("div", { class: "col grow" },
        el("h3", {}, "The answer: ", answer),
        barBox,
        note, error)),
    el("div", { class: "target-row" }, el("h3", { text: "The digit should be:" }), digits, targetNote));

  const ctx = pad.getContext("2d");
  let drawing = false, last = null, dirty = false, busy = false, timer = null, inked = false;
  let drawingNumber = 0;   // goes up on Clear, so an answer to a cleared drawing is not shown

  function reset() {
    ctx.clearRect(0, 0, SIDE, SIDE);
    inked = false;
    dirty = false;
    drawingNumber += 1;
    answer.textContent = "";
    barBox.replaceChildren();
    seen.getContext("2d").clearRect(0, 0, seen.width, seen.height);
    note.textContent = "Draw a digit in the black square.";
    showError(error, null);
  }

  function point(event) {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * SIDE / box.width, (event.clientY - box.top) * SIDE / box.height];
  }

  function stroke(to) {
    ctx.strokeStyle = "white";
    ctx.fillStyle = "white";
    ctx.lineWidth = 10;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    if (!last) {   // a tap, or the start of a stroke: a dot (a line of length 0 draws nothing)
      ctx.arc(to[0], to[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.moveTo(last[0], last[1]);
      ctx.lineTo(to[0], to[1]);
      ctx.stroke();
    }
    last = to;
    inked = true;
    dirty = true;
    schedule();
  }

  function schedule() {
    if (timer === null) timer = setTimeout(() => { timer = null; read(); }, INTERVAL_MS);
  }

  async function read() {
    if (!dirty || !inked) return;
    if (busy) { schedule(); return; }
    dirty = false;
    busy = true;
    const sent = drawingNumber;
    const rgba = ctx.getImageData(0, 0, SIDE, SIDE).data;
    let bytes = "";
    for (let i = 0; i < SIDE * SIDE; i++) bytes += String.fromCharCode(rgba[4 * i + 3]);   // the ink is the alpha
    try {
      const reading = await postJSON("/api/predict",
        { model: state.model, width: SIDE, height: SIDE, pixels_base64: btoa(bytes) });
      if (sent !== drawingNumber) return;   // cleared (or replaced by a training image) while in flight
      show(reading);
      state.image = reading.image;
      state.reading = reading;
      state.emit("reading", reading);
      showError(error, null);
    } catch (err) {
      if (sent === drawingNumber) showError(error, err);
    } finally {
      busy = false;
      if (dirty) schedule();
    }
  }

  function show(reading) {
    greyImage(seen, reading.image);
    const out = reading.probabilities || reading.layers[reading.layers.length - 1];
    const unit = out.every((v) => v >= 0 && v <= 1);   // probabilities and sigmoid outputs: bars on a 0-1 scale
    const last = reading.layers.length;
    bars(barBox, out, { highlight: reading.digit, scale: unit ? 1 : null, explainOf: (j, v) => reading.probabilities
      ? { what: `the probability that the digit is ${j}: the softmax of the output layer`,
        formula: `p_${j} = exp(a_${j}(${last})) / Σ_i exp(a_i(${last})) = ${v.toFixed(4)}`, fn: "microgrid.digits.fast.softmax" }
      : { what: `a_${j}(${last}): output neuron ${j}'s activation, how much the network thinks the digit is ${j}`,
        formula: `a_${j}(${last}) = σ(Σ_k w_${j},k(${last}) a_k(${last - 1}) + b_${j}(${last})) = ${v.toFixed(4)}`,
        fn: "microgrid.app.web.lighting.predict (FastMLP.forward_all)" } });
    answer.replaceChildren(num(reading.digit, { text: String(reading.digit),
      what: "the network's answer: the output neuron with the largest activation",
      formula: `argmax_j a_j(${last}) = ${reading.digit}`, fn: "microgrid.app.web.lighting.predict" }));
    note.textContent = reading.probabilities
      ? "Bars: the softmax probabilities of the ten output neurons."
      : "Bars: the ten output activations a(L).";
  }

  // Mouse, pen and finger alike (pointer events); style.css's touch-action: none keeps a finger's
  // stroke on the pad from scrolling or zooming the page.
  pad.addEventListener("pointerdown", (e) => {
    drawing = true; last = null;
    try { pad.setPointerCapture(e.pointerId); } catch (_) { /* a pointer already gone: draw without capture */ }
    stroke(point(e)); e.preventDefault();
  });
  pad.addEventListener("pointermove", (e) => { if (drawing) { stroke(point(e)); e.preventDefault(); } });
  const stop = () => { drawing = false; last = null; dirty = true; schedule(); };
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointercancel", stop);
  clear.addEventListener("click", () => { reset(); state.emit("cleared"); });

  // The digit it should be: the learner's, kept across strokes and readings.
  function showTarget() {
    for (const b of digits.children) b.setAttribute("aria-checked", String(Number(b.dataset.digit) === state.target));
  }
  digits.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-digit]");
    if (!b) return;
    state.target = Number(b.dataset.digit);
    showTarget();
    state.emit("target", state.target);
  });
  state.on("target", showTarget);

  // A training image shown in the panels (the nudges panel loads one): show what the network reads.
  state.on("example", (reading) => {
    ctx.clearRect(0, 0, SIDE, SIDE); inked = false; dirty = false; drawingNumber += 1; show(reading);
  });
  // a new current network (a step, the menu): read the same image again
  state.on("model", async () => {
    if (inked) { dirty = true; schedule(); return; }
    if (!state.image) return;
    try {
      const reading = await postJSON("/api/read", { model: state.model, image: state.image });
      state.reading = reading; show(reading); state.emit("reading", reading);
    } catch (err) { showError(error, err); }
  });
  state.on("models", () => { if (inked) { dirty = true; schedule(); } });
  return section;
}
