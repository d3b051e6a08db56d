// Parts 5 and 6, gradient descent on a function of one input and of two: start anywhere
// (click), step by the slope, watch where you land. Every value, slope and step is computed
// by microgrid's Value and backward() on the server (story.descent); this file draws them.
import { el, fmt, postJSON, showError } from "./api.js";
import { num } from "./explain.js";
import { partSection } from "./story.js";

const FN = "microgrid.app.web.story.descent (Value forward, then backward())";
const STEP_MS = 140;
const FIVE = [-3.6, -1.6, 0.3, 1.2, 3.7];
const COLOURS = ["#e69f00", "#56b4e9", "#009e73", "#cc79a7", "#d55e00"];

function fit(canvas) {
  const ratio = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, w, h };
}

function viridis(t) {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1), i = Math.floor(x), f = x - i;
  return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
}

// One part: the picture, a learning rate, the buttons and the readout of the current point.
function descentPart({ surface, id, part, title, heading, says, dims }) {
  const canvas = el("canvas", { id: `${id}-plot`, class: "descent-plot", "aria-label": "click to start there" });
  const lr = el("input", { id: `${id}-lr`, type: "range", min: "0.01", max: dims === 1 ? "1" : "1.5", step: "0.01", value: dims === 1 ? "0.1" : "0.3" });
  const lrShown = el("span", { class: "slider-value", text: lr.value });
  const step = el("button", { id: `${id}-step`, type: "button", text: "One step" });
  const roll = el("button", { id: `${id}-roll`, type: "button", text: "Step 30 times" });
  const buttons = [step, roll];
  let five = null;
  if (dims === 1) { five = el("button", { id: `${id}-five`, type: "button", text: "Five starts" }); buttons.push(five); }
  const readout = el("div", { id: `${id}-readout`, class: "formula" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = partSection({ id, part, title, heading, says },
    el("div", { class: "descent" }, canvas,
      el("div", { class: "col grow" },
        el("p", { class: "note", text: "Click or tap the picture to start there." }),
        el("label", { class: "slider" }, el("span", { class: "slider-name", text: "step size η" }), lr, lrShown),
        el("div", { class: "controls" }, ...buttons), readout, error)));
  let drawn = null, formula = "", range = [-1, 1], paths = [], current = null, playing = 0;
  let point = dims === 1 ? [3.2] : [1.7, 1.6];

  const X = (w, width) => ((w - range[0]) / (range[1] - range[0])) * width;

  async function ask(start, steps) {
    return postJSON("/api/story/descent", { surface, start, lr: Number(lr.value), steps });
  }

  function draw(upTo = Infinity) {
    if (!drawn) return;
    const { ctx, w, h } = fit(canvas);
    ctx.clearRect(0, 0, w, h);
    if (dims === 1) {
      const lo = Math.min(...drawn.cost), hi = Math.max(...drawn.cost);
      const Y = (c) => h - 14 - ((c - lo) / (hi - lo)) * (h - 28);
      ctx.strokeStyle = "#333"; ctx.lineWidth = 2; ctx.beginPath();
      drawn.w.forEach((x, i) => (i ? ctx.lineTo(X(x, w), Y(drawn.cost[i])) : ctx.moveTo(X(x, w), Y(drawn.cost[i]))));
      ctx.stroke();
      paths.forEach((p, n) => {
        const shown = p.path.slice(0, Math.min(p.path.length, upTo + 1));
        ctx.fillStyle = ctx.strokeStyle = p.colour;
        shown.forEach((q, i) => { ctx.globalAlpha = i === shown.length - 1 ? 1 : 0.35; ctx.beginPath(); ctx.arc(X(q.w[0], w), Y(q.cost), i === shown.length - 1 ? 7 : 3.5, 0, 7); ctx.fill(); });
        ctx.globalAlpha = 1;
        void n;
      });
      ctx.fillStyle = "#555"; ctx.font = "12px system-ui, sans-serif";
      ctx.fillText("w", w - 14, h - 2); ctx.fillText("C(w)", 4, 12);
    } else {
      const grid = drawn.cost, n = grid.length, flat = grid.flat(), lo = Math.min(...flat), hi = Math.max(...flat);
      const cw = w / n, ch = h / n;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        const [r, g, b] = viridis(Math.sqrt((grid[i][j] - lo) / (hi - lo)));
        ctx.fillStyle = `rgb(${r},${g},${b})`;
        ctx.fillRect(j * cw, h - (i + 1) * ch, cw + 0.6, ch + 0.6);   // w2 grows upwards
      }
      const Y = (v) => h - X(v, h);
      for (const p of paths) {
        const shown = p.path.slice(0, Math.min(p.path.length, upTo + 1));
        ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.beginPath();
        shown.forEach((q, i) => (i ? ctx.lineTo(X(q.w[0], w), Y(q.w[1])) : ctx.moveTo(X(q.w[0], w), Y(q.w[1]))));
        ctx.stroke();
        const q = shown[shown.length - 1];
        ctx.fillStyle = "#e11d48"; ctx.beginPath(); ctx.arc(X(q.w[0], w), Y(q.w[1]), 6, 0, 7); ctx.fill();
        const g = Math.hypot(...q.grad), len = Math.min(60, 40 * g);   // the steepest way down: −∇C
        if (g > 1e-9) {
          const ex = X(q.w[0], w) - (q.grad[0] / g) * len, ey = Y(q.w[1]) + (q.grad[1] / g) * len;
          ctx.strokeStyle = "#fff"; ctx.lineWidth = 3; ctx.beginPath(); ctx.moveTo(X(q.w[0], w), Y(q.w[1])); ctx.lineTo(ex, ey); ctx.stroke();
        }
      }
      ctx.fillStyle = "#fff"; ctx.font = "12px system-ui, sans-serif"; ctx.fillText("w₁ →", w - 34, h - 4); ctx.fillText("↑ w₂", 4, 14);
    }
  }

  function show(q, k) {
    current = q;
    const names = dims === 1 ? ["w"] : ["w₁", "w₂"];
    const at = `(${q.w.map((v) => fmt(v, 3)).join(", ")})`;
    readout.replaceChildren(
      el("p", {}, `step ${k}: `, ...names.flatMap((n, i) => [`${n} = `, num(q.w[i], { what: `the input ${n} after ${k} steps`, formula: `${n} = ${fmt(q.w[i])}`, fn: FN }), "  "])),
      el("p", {}, "C = ", num(q.cost, { id: `${id}-cost`, what: "the function's value here: what gradient descent makes smaller", formula: `${formula}; at ${at}: ${fmt(q.cost)}`, fn: FN })),
      el("p", {}, dims === 1 ? "slope dC/dw = " : "gradient ∇C = (", ...q.grad.flatMap((g, i) => [i ? ", " : "", num(g, {
        what: dims === 1 ? "the slope here: positive means downhill is to the left" : `dC/d${names[i]}: how steeply C rises along ${names[i]}`,
        formula: `dC/d${names[i]} at ${at} = ${fmt(g)} (the grad of ${names[i]} after backward())`, fn: FN })]), dims === 1 ? "" : ")"),
      el("p", {}, "step = −η × ", dims === 1 ? "slope = " : "∇C = (", ...q.step.flatMap((s, i) => [i ? ", " : "", num(s, { id: `${id}-step-size-${i}`,
        what: "the step: against the slope, and as long as the slope is steep (no overshooting near the bottom)",
        formula: `−η dC/d${names[i]} = −${lr.value} × ${fmt(q.grad[i])} = ${fmt(s)}`, fn: FN })]), dims === 1 ? "" : ")"));
    section.dataset.step = String(k);
  }

  async function play(list) {
    const mine = ++playing;
    paths = list;
    const longest = Math.max(...list.map((p) => p.path.length));
    for (let k = 0; k < longest; k++) {
      if (mine !== playing) return;
      draw(k);
      const p = list[0].path[Math.min(k, list[0].path.length - 1)];
      show(p, Math.min(k, list[0].path.length - 1));
      await new Promise((r) => setTimeout(r, STEP_MS));
    }
    const end = list[0].path[list[0].path.length - 1];
    point = end.w;
    section.dataset.done = String(Number(section.dataset.done || 0) + 1);
  }

  async function run(start, steps) {
    try {
      const r = await ask(start, steps);
      drawn = r.drawn; formula = r.formula; range = r.range;
      await play([{ path: r.path, colour: COLOURS[0] }]);
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  canvas.addEventListener("click", (e) => {
    const box = canvas.getBoundingClientRect();
    const w1 = range[0] + ((e.clientX - box.left) / box.width) * (range[1] - range[0]);
    point = dims === 1 ? [w1] : [w1, range[0] + ((box.bottom - e.clientY) / box.height) * (range[1] - range[0])];
    run(point, 0);
  });
  step.addEventListener("click", () => run(point, 1).then(() => {}));
  roll.addEventListener("click", () => run(point, 30));
  if (five) five.addEventListener("click", async () => {
    try {
      const answers = await Promise.all(FIVE.map((s) => ask([s], 40)));
      await play(answers.map((r, i) => ({ path: r.path, colour: COLOURS[i] })));
      const ends = answers.map((r) => r.path[r.path.length - 1].w[0]);
      readout.append(el("p", { id: `${id}-ends` }, "Five starts end at w = ", ...ends.flatMap((v, i) => [i ? ", " : "",
        num(v, { digits: 2, what: `where the start w = ${FIVE[i]} lands after 40 steps: a local minimum`, formula: `w₄₀ = ${fmt(v)}`, fn: FN })]),
      ": different starts, different local minima."));
    } catch (err) { showError(error, err); }
  });
  lr.addEventListener("input", () => { lrShown.textContent = Number(lr.value).toFixed(2); });
  window.addEventListener("resize", () => draw());
  run(point, 0);
  void current;
  return section;
}

export function descentOnePanel() {
  return descentPart({ surface: "one", id: "descent-one", part: "descent1", dims: 1, title: "Descent, one input",
    heading: "Gradient descent on a function of one input",
    says: "Start at any input and find the slope: if it is positive step left, if negative step right; repeat, and you "
      + "settle in a local minimum, which one depending on where you started. Make the step proportional to the slope, "
      + "so the steps shrink as the slope flattens out and you don't overshoot." });
}

export function descentTwoPanel() {
  return descentPart({ surface: "two", id: "descent-two", part: "descent2", dims: 2, title: "Descent, two inputs",
    heading: "Gradient descent on a function of two inputs",
    says: "With two inputs the cost is a surface over the plane. The gradient points the steepest way up, so step along "
      + "the negative gradient, the steepest way down; its length says how steep the slope is. The network's cost is the "
      + "same idea with 13,002 inputs, its weights and biases." });
}
