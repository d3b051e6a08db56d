// Panel 5, the chain rule live: the notes' one-neuron chain, recomputed by Value on every
// slider move: every value and grad, each edge's local derivative, and their product.
import { el, fmt, postJSON, showError } from "./api.js";
import { num } from "./explain.js";
import { partSection } from "./story.js";

const FN = "microgrid.app.web.chain_live.chain (microgrid.chain.one_neuron_chain, Value.backward())";

const SLIDERS = [
  ["w", "w(L)", -4, 4, 1.2], ["b", "b(L)", -4, 4, -0.4], ["a_prev", "a(L-1)", 0, 1, 0.6], ["y", "y", 0, 1, 1.0],
];
const FACTOR_NAMES = ["a(L-1)", "1", "σ'(z(L))", "1", "2(a(L) − y)"];   // each arrow's local derivative

export function chainPanel() {
  const inputs = {};
  const sliders = SLIDERS.map(([key, name, lo, hi, start]) => {
    const input = el("input", { type: "range", id: `slider-${key}`, min: lo, max: hi, step: "0.01", value: String(start) });
    const shown = el("span", { class: "slider-value", id: `slider-${key}-value`, text: String(start) });
    inputs[key] = [input, shown];
    return el("label", { class: "slider" }, el("span", { class: "slider-name", text: name }), input, shown);
  });
  const graph = el("div", { id: "chain-graph", class: "chain" });
  const product = el("div", { id: "chain-product", class: "formula" });
  const rows = el("table", { id: "chain-rows" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = partSection({ id: "chain", part: "chain", title: "The chain rule", heading: "The chain rule, live",
    says: "Take one neuron per layer. A nudge to w(L) nudges z(L), which nudges a(L), which moves the cost: dC0/dw(L) is "
      + "the product of those three rates, dz/dw · da/dz · dC0/da. How much the nudge matters depends on how bright the "
      + "previous neuron a(L-1) is." },
    el("p", { class: "note", text: "One neuron per layer: a(L-1) → z(L) = w(L) a(L-1) + b(L) → a(L) = σ(z(L)) → C0 = (a(L) − y)². "
      + "Every number below is recomputed by microgrid's Value (forward and backward()) when you move a slider." }),
    el("div", { class: "sliders" }, ...sliders), graph, product, rows, error);
  let sent = 0, shownSeq = 0;

  async function recompute() {
    const seq = ++sent;
    const body = {};
    for (const [key, [input, shown]] of Object.entries(inputs)) {
      body[key] = Number(input.value);
      shown.textContent = Number(input.value).toFixed(2);
    }
    try {
      const r = await postJSON("/api/chain", body);
      if (seq < shownSeq) return;   // an older answer arriving late
      shownSeq = seq;
      show(r);
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  function node(name, leaf = false) {
    const box = el("div", { class: "chain-node", "data-node": name },
      el("div", { class: "chain-name", text: name }),
      el("div", {}, "value ", num(chainState.values[name], { what: `the value of ${name}`, formula: `${name} = ${fmt(chainState.values[name])}`, fn: FN })),
      el("div", { class: "grad" }, "grad ", num(chainState.grads[name], { what: `dC0/d${name}: how much C0 moves per unit nudge of ${name}`,
        formula: `dC0/d${name} = ${fmt(chainState.grads[name])} (${name}.grad after backward())`, fn: FN })));
    if (leaf) {   // where a leaf joins the path, and that arrow's local derivative
      for (const e of chainState.edges.filter((edge) => edge.from === name)) {
        box.append(el("div", { class: "local", text: `→ ${e.to}, local ${fmt(e.local)}` }));
      }
    }
    return box;
  }

  let chainState = null;
  function show(r) {
    chainState = r;
    const local = Object.fromEntries(r.edges.map((e) => [`${e.from}>${e.to}`, e.local]));
    const arrow = (from, to) => el("div", { class: "chain-edge", "data-edge": `${from}>${to}` },
      el("div", { text: "→" }), el("div", { class: "local" }, "local ", num(local[`${from}>${to}`], { what: `d(${to})/d(${from}): the local derivative of this arrow`,
        formula: `∂${to}/∂${from} = ${fmt(local[`${from}>${to}`])}`, fn: "microgrid.ops.BACKWARD (each op's own derivative rule)" })));
    graph.replaceChildren(
      el("div", { class: "chain-leaves" }, node("a(L-1)", true), node("b(L)", true), node("y", true)),
      el("div", { class: "chain-path" }, ...r.path.flatMap((name, i) => (i ? [arrow(r.path[i - 1], name), node(name)] : [node(name)]))));
    product.replaceChildren(
      el("p", { text: "dC0/dw(L) = the product of the local derivatives on the arrows from w(L) to C0" }),
      el("p", { text: "= " + FACTOR_NAMES.join(" × ") }),
      el("p", { text: "= " + r.factors.map((f) => fmt(f)).join(" × ") + ` = ${fmt(r.product, 6)}` , id: "chain-factors", "data-value": String(r.product) }),
      el("p", {}, "the engine's w(L).grad after backward(): ",
        el("strong", { id: "dC0-dw", "data-value": String(r.dC0_dw), text: fmt(r.dC0_dw, 6) })));
    rows.replaceChildren(el("tr", {}, ...["derivative", "by the chain rule", "by hand", "engine"].map((t) => el("th", { text: t }))),
      ...r.rows.map((row) => el("tr", {}, el("td", { text: row.name }), el("td", { text: row.formula }),
        el("td", { text: fmt(row.by_hand, 6) }), el("td", { text: fmt(row.engine, 6) }))));
  }

  for (const [input] of Object.values(inputs)) input.addEventListener("input", recompute);
  recompute();
  return section;
}
