// Mistakes to make on purpose, on the toy and the scalar engine: each button trains two small
// nets from the same start, one with the mistake, one with its one-line fix, and draws both.
import { el, fmt, postJSON, showError } from "./api.js";
import { legend, linePlot } from "./views_plot.js";

const LESSONS = [
  ["zero_grad", "Forget zero_grad()"], ["lr", "lr past 2/λmax"], ["saturated", "Saturate the sigmoids"],
  ["mse_vs_ce", "MSE vs cross-entropy"], ["dead_relu", "Kill a relu layer"],
];
const COLOURS = ["#b2182b", "#2166ac"];

export function mistakesPanel() {
  const buttons = LESSONS.map(([name, text]) => el("button", { type: "button", "data-lesson": name, text }));
  const title = el("h3", { id: "mistake-title" });
  const why = el("p", { id: "mistake-why" });
  const fix = el("p", { id: "mistake-fix", class: "formula" });
  const costPlot = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  costPlot.id = "mistake-costs";
  costPlot.classList.add("plot");
  const accPlot = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  accPlot.id = "mistake-accuracy";
  accPlot.classList.add("plot");
  const key = el("div");
  const numbers = el("p", { id: "mistake-numbers", class: "note" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = el("section", { id: "mistakes", class: "panel" },
    el("h2", { text: "Mistakes to make on purpose" }),
    el("p", { class: "note", text: "Each button trains two small nets of the scalar engine on the same two moons from "
      + "the same starting weights (full-batch gradient descent, backward() and SGD, computed now): one with the "
      + "mistake (red), one with the fix (blue)." }),
    el("div", { class: "controls" }, ...buttons), title, why, fix, key,
    el("div", { class: "row" }, el("div", { class: "col grow" }, el("h4", { text: "cost (log scale)" }), costPlot),
      el("div", { class: "col grow" }, el("h4", { text: "share of the points right" }), accPlot)),
    numbers, error);
  let shown = 0;

  async function run(name) {
    const mine = ++shown;
    title.textContent = "training both nets…";
    try {
      const r = await postJSON("/api/views/mistake", { name });
      if (mine !== shown) return;
      title.textContent = r.title;
      why.textContent = r.why;
      fix.textContent = `the fix: ${r.fix}`;
      const series = r.runs.map((run, i) => ({ label: run.label, colour: COLOURS[i] }));
      key.replaceChildren(legend(series));
      const t0 = performance.now();
      const frame = (now) => {   // the curves drawn step by step, as the nets trained
        if (mine !== shown) return;
        const upTo = Math.min(1, (now - t0) / 1500);
        linePlot(costPlot, r.runs.map((run, i) => ({ ...series[i], points: run.costs.map((c, s) => [s, c]) })), { logY: true, upTo });
        linePlot(accPlot, r.runs.map((run, i) => ({ ...series[i], points: run.accuracies.map((a, s) => [s, a]) })), { upTo });
        if (upTo < 1) requestAnimationFrame(frame);
        else section.dataset.lesson = name;
      };
      requestAnimationFrame(frame);
      const extra = [];
      if (r.lambda_max !== undefined) extra.push(`λmax = ${fmt(r.lambda_max)} (power iteration on hvp), 2/λmax = ${fmt(r.limit)}`);
      if (r.saturated_share !== undefined) extra.push(`${Math.round(100 * r.saturated_share)}% of the hidden sigmoids start with σ'(z) < 0.01`);
      if (r.dead_share !== undefined) extra.push(`${Math.round(100 * r.dead_share)}% of the first layer's relus output 0 for every point`);
      extra.push(...r.runs.map((run) => `${run.label}: lr ${fmt(run.lr, 3)}, cost ${fmt(run.costs[0])} → ${fmt(run.costs.at(-1))} in ${run.costs.length - 1} steps`));
      numbers.replaceChildren(...extra.map((t) => el("span", { text: t + ". " })));
      numbers.dataset.final = JSON.stringify(r.runs.map((run) => run.costs.at(-1)));
      numbers.dataset.lambda = r.lambda_max === undefined ? "" : String(r.lambda_max);
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  buttons.forEach((b) => b.addEventListener("click", () => run(b.dataset.lesson)));
  return section;
}
