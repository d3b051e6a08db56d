// Part 4, the cost of one example and its average: C0 = Σ_j (a_j(L) − y_j)² term by term for
// the learner's digit and the digit they say it is, and the average C over a random mini-batch.
// Every number is the server's (story.example_cost: FastMLP.forward_all, losses.mse).
import { el, fmt, postJSON, showError, state } from "./api.js";
import { num } from "./explain.js";
import { bars } from "./paint.js";
import { partSection } from "./story.js";

const FN = "microgrid.app.web.story.example_cost (FastMLP.forward_all, then microgrid.losses.mse)";

export function costPanel() {
  const one = el("div", { id: "cost-one" });
  const many = el("div", { id: "cost-batch" });
  const again = el("button", { id: "cost-again", type: "button", text: "Another random mini-batch" });
  const wait = el("p", { class: "note", id: "cost-wait", text: "Draw a digit (part 1) and say which digit it is." });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = partSection({ id: "cost-part", part: "cost", title: "The cost", heading: "The cost of one example, and its average",
    says: "Add up the squares of the differences between each output activation and the value it should have (1 for the "
      + "right digit, 0 for the others): this cost C0 is small when the network reads the digit right and large when it "
      + "is wrong. How bad the network is overall is the average of that cost over the training examples." },
    wait, one, el("div", { class: "controls" }, again), many, error);
  let seq = 0;

  async function update() {
    if (!state.image || state.target === null) { wait.hidden = false; one.replaceChildren(); many.replaceChildren(); return; }
    wait.hidden = true;
    const asked = ++seq;
    try {
      const r = await postJSON("/api/story/cost", { model: state.model, image: state.image, target: state.target });
      if (asked !== seq) return;
      show(r);
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  function show(r) {
    const L = "L";
    const rows = r.a.map((a, j) => el("tr", { class: j === r.target ? "chosen" : "" },
      el("td", { text: String(j) }),
      el("td", {}, num(a, { what: `a_${j}(${L}), what output neuron ${j} says`, formula: `a_${j}(${L}) = ${fmt(a)}`, fn: FN })),
      el("td", {}, num(r.y[j], { text: String(r.y[j]), what: `y_${j}: what neuron ${j} should say (1 for the digit you chose, ${r.target}; 0 for the others)`,
        formula: `y_${j} = ${r.y[j]}` })),
      el("td", {}, num(r.terms[j], { what: `neuron ${j}'s share of the cost`,
        formula: `(a_${j}(${L}) − y_${j})² = (${fmt(a)} − ${r.y[j]})² = ${fmt(r.terms[j])}`, fn: FN }))));
    one.replaceChildren(
      el("table", { id: "cost-terms" },
        el("tr", {}, ...["j", "a_j(L)", "y_j", "(a_j(L) − y_j)²"].map((t) => el("th", { text: t }))), ...rows),
      el("p", { class: "big-number" }, "C0 = Σ_j (a_j(L) − y_j)² = ", num(r.cost, { id: "cost-c0",
        what: "the cost of this one example: how wrong the network is about it",
        formula: `C0 = ${r.terms.map((t) => fmt(t, 3)).join(" + ")} = ${fmt(r.cost)}`, fn: FN }),
      r.digit === r.target ? " (the network reads it right)" : ` (the network says ${r.digit}, you say ${r.target})`));
    const b = r.batch;
    const box = el("div", { class: "bars tiny", id: "cost-batch-bars" });
    bars(box, b.costs, { labels: b.labels.map(String), explainOf: (i, v) => ({
      what: `the cost C0 of training image ${b.start + i} (a ${b.labels[i]}; the network says ${b.answers[i]})`,
      formula: `C0 = Σ_j (a_j(L) − y_j)² = ${fmt(v)}`, fn: FN }) });
    many.replaceChildren(
      el("h3", { text: `A random mini-batch: training images ${b.start} to ${b.start + b.count - 1}` }), box,
      el("p", { class: "big-number" }, `C = (1/${b.count}) Σ C0 = `, num(b.average, { id: "cost-average",
        what: `the average cost over these ${b.count} training images: the number gradient descent makes smaller`,
        formula: `C = (${fmt(b.costs[0], 3)} + ${fmt(b.costs[1], 3)} + … + ${fmt(b.costs[b.count - 1], 3)}) / ${b.count} = ${fmt(b.average)}`, fn: FN }),
      ` · ${b.right} of ${b.count} read right`));
  }

  again.addEventListener("click", update);
  for (const event of ["reading", "example", "target", "model", "cleared"]) state.on(event, update);
  return section;
}
