// Curvature while a run trains: lambda_max of the cost's Hessian (power iteration on exact
// Hessian-vector products) beside the learning rate and the line lr = 2/lambda_max; and the
// cost surface sliced along the top two Hessian directions or along the path taken.
import { el, fmt, getJSON, postJSON, showError } from "./api.js";
import { cssSigned } from "./paint.js";
import { legend, linePlot } from "./views_plot.js";

const SERIES = [
  { label: "learning rate lr", colour: "#e69f00", stairs: true },
  { label: "2 / λmax (one dot per estimate): past it, a step overshoots along the steepest direction", colour: "#6a3d9a", dash: true, dots: true },
  { label: "the batch cost", colour: "#888" },
];

export function curvaturePanel() {
  const toggle = el("input", { type: "checkbox", id: "curvature-on" });
  const plot = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  plot.id = "curvature-plot";
  plot.classList.add("plot");
  plot.toggleAttribute("hidden", true);   // until there is an estimate to draw (an SVG element: the attribute)
  const now = el("p", { id: "curvature-now", class: "formula" });
  const alongHessian = el("button", { id: "surface-hessian", type: "button", text: "Slice along the top two Hessian directions" });
  const alongPath = el("button", { id: "surface-path", type: "button", text: "Slice along the path" });
  const surface = el("canvas", { id: "surface-canvas", width: 300, height: 300, class: "surface" });
  surface.hidden = true;   // until a slice is asked for
  const surfaceNote = el("p", { id: "surface-note", class: "note" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = el("section", { id: "curvature", class: "panel" },
    el("h2", { text: "Curvature: the second derivative made useful" }),
    el("p", { class: "note", text: "Tick the box, then train in the training panel (MNIST or the toy). While the run "
      + "trains, microgrid estimates λmax, the largest eigenvalue of the cost's Hessian, by power iteration on "
      + "Hessian-vector products (the toy: the scalar engine's hvp; MNIST: the same product by the R-operator on "
      + "the fast path, on 500 training images), spending at most a tenth of the training time. On a bowl, a step "
      + "multiplies the error along the steepest direction by (1 − lr λmax): when lr passes 2/λmax that factor is "
      + "below −1 and the cost climbs. (A relu toy with the hinge loss is piecewise linear: its Hessian is 0 almost "
      + "everywhere; pick tanh or sigmoid and MSE to see curvature there.)" }),
    el("label", { class: "controls" }, toggle, " estimate λmax while the run trains"),
    plot, legend(SERIES), now,
    el("div", { class: "controls" }, alongHessian, alongPath),
    el("div", { class: "row" }, surface, surfaceNote), error);
  let timer = null;

  function draw(r) {
    const lrs = r.rates || r.rows.map((row) => [row.step, row.lr]);
    const limits = r.rows.filter((row) => row.limit !== null).map((row) => [row.step, row.limit]);
    linePlot(plot, [{ ...SERIES[0], points: lrs }, { ...SERIES[1], points: limits }, { ...SERIES[2], points: r.costs || [] }],
      { logY: true, yLabel: "log scale" });
    const last = r.rows.at(-1);
    plot.toggleAttribute("hidden", !last);
    if (!last) { now.textContent = r.on ? "no estimate yet: the first comes once a tenth of the training time covers it" : ""; return; }
    const past = last.limit !== null && last.lr > last.limit;
    const verdict = last.limit === null ? "no upward curvature found here (a saddle or a plateau): no limit"
      : past ? "lr is past 2/λmax: expect the cost to jump" : "lr is below 2/λmax";
    now.replaceChildren(el("span", { id: "curvature-last", "data-value": String(last.lambda_max),
      text: `step ${last.step}: λmax = ${fmt(last.lambda_max)}, `
        + (last.limit === null ? "" : `2/λmax = ${fmt(last.limit)}, `) + `lr = ${fmt(last.lr)}: ${verdict}` }));
    now.dataset.rows = String(r.rows.length);
    // the first change of the rate past the limit the estimate before it gave, and what the cost did next
    const limitAt = (step) => r.rows.filter((row) => row.step < step).at(-1);   // the last estimate before it
    const crossing = (r.rates || []).find(([step, lr]) => { const e = limitAt(step); return e && e.limit !== null && lr > e.limit; });
    if (crossing) {
      const [step, lr] = crossing, before = limitAt(step);
      const costBefore = (r.costs || []).filter(([s]) => s <= step).map(([, c]) => c).at(-1);
      const costAfter = Math.max(...(r.costs || []).filter(([s]) => s > step).map(([, c]) => c));
      const then = last.step <= step ? "."
        : last.limit === null ? "; the estimates there found no upward curvature (a saddle or a plateau)."
        : last.limit > last.lr ? `; the weights then moved to a flatter place, where 2/λmax = ${fmt(last.limit)} is above lr again.` : ".";
      now.append(el("br"), el("span", { id: "curvature-crossing", text: `At step ${step} lr = ${fmt(lr)} passed 2/λmax = `
        + `${fmt(before.limit)} (the estimate at step ${before.step}): the batch cost went from ${fmt(costBefore)} up to `
        + `${fmt(costAfter)}${then}` }));
    }
  }

  async function poll() {
    try {
      const r = await getJSON("/api/views/curvature");
      toggle.checked = r.on;
      draw(r);
      showError(error, null);
      if (!r.on) stop();
    } catch (err) { showError(error, err); }
  }
  function start() { if (!timer) timer = setInterval(poll, 1000); poll(); }
  function stop() { clearInterval(timer); timer = null; }

  async function slice(along) {
    try {
      const r = await getJSON(`/api/views/surface?along=${along}`);
      const n = r.cost.length, cell = surface.width / n;
      const flat = r.cost.flat().filter((c) => c >= 0);
      const lo = Math.min(...flat), hi = Math.max(...flat);
      const ctx = surface.getContext("2d");
      r.cost.forEach((row, i) => row.forEach((c, j) => {   // rows over b (top: largest), columns over a
        ctx.fillStyle = c < 0 ? "#000" : cssSigned(2 * (Math.log(c / lo) / Math.log(hi / lo || 2)) - 1);
        ctx.fillRect(j * cell, (n - 1 - i) * cell, cell + 1, cell + 1);
      }));
      ctx.fillStyle = "#000";
      ctx.beginPath();
      ctx.arc(surface.width / 2, surface.height / 2, 4, 0, 2 * Math.PI);
      ctx.fill();
      surface.dataset.along = along;
      surface.hidden = false;
      surfaceNote.textContent = `C(w + a d1 + b d2) at step ${r.step} on ${r.images} training images, along ${r.directions}; `
        + `a from ${fmt(r.a[0])} to ${fmt(r.a.at(-1))} across, b up. Blue: low cost, red: high (log scale, `
        + `${fmt(lo)} to ${fmt(hi)}); the dot is the current weights.`
        + (along !== "hessian" ? "" : r.lambdas[0] > 0 ? " Along d1 the walls are steepest: that is the direction that diverges first."
          : " λ1 < 0: along d1 the surface curves down (a saddle), and gradient descent moves away from it.");
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  toggle.addEventListener("change", async () => {
    try {
      await postJSON("/api/views/curvature", { on: toggle.checked });
      if (toggle.checked) start();
      showError(error, null);
    } catch (err) { toggle.checked = false; showError(error, err); }
  });
  alongHessian.addEventListener("click", () => slice("hessian"));
  alongPath.addEventListener("click", () => slice("path"));
  start();   // shows the server's state; stops polling itself while the box is unticked
  return section;
}
