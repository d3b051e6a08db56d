// Every number explained: a number shown with num() carries what it is, its formula with the
// live values filled in, and the microgrid function that computed it; hovering it (or tapping
// it on a phone, or focusing it with the keyboard) shows the three in one box (#explain-box).
// The numbers come from the server; this file only formats and shows them.
import { fmt } from "./api.js";

// A number as a span: value formatted for reading, the full value in data-value.
// what: one sentence; formula: the formula with the values filled in; fn: the microgrid function.
export function num(value, { what, formula = "", fn = "", digits = 4, text = null, id = null } = {}) {
  const span = document.createElement("span");
  span.className = "num";
  if (id) span.id = id;
  span.textContent = text !== null ? text : fmt(value, digits);
  span.dataset.value = String(value);
  explain(span, { what, formula, fn });
  return span;
}

// Attach an explanation to any element (a bar, a neuron, a cell).
export function explain(node, { what, formula = "", fn = "" }) {
  node.dataset.what = what;
  if (formula) node.dataset.formula = formula;
  if (fn) node.dataset.fn = fn;
  node.tabIndex = node.tabIndex >= 0 ? node.tabIndex : 0;
  return node;
}

const box = document.createElement("div");
box.id = "explain-box";
box.setAttribute("role", "tooltip");
box.hidden = true;
document.body.append(box);
let shownFor = null;

function show(node) {
  const what = document.createElement("strong");
  what.textContent = node.dataset.what;
  const parts = [what];
  if (node.dataset.formula) {
    const formula = document.createElement("code");
    formula.className = "explain-formula";
    formula.textContent = node.dataset.formula;
    parts.push(formula);
  }
  if (node.dataset.fn) {
    const fn = document.createElement("small");
    fn.className = "explain-fn";
    fn.append("computed by ");
    const code = document.createElement("code");
    code.textContent = node.dataset.fn;
    fn.append(code);
    parts.push(fn);
  }
  box.replaceChildren(...parts);
  box.hidden = false;
  shownFor = node;
  const r = node.getBoundingClientRect();
  const width = Math.min(360, document.documentElement.clientWidth - 16);
  box.style.maxWidth = `${width}px`;
  const left = Math.max(8, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - width - 8));
  box.style.left = `${left}px`;
  const below = r.bottom + window.scrollY + 6;
  box.style.top = `${below}px`;
}

function hide() { box.hidden = true; shownFor = null; }

const target = (e) => (e.target instanceof Element ? e.target.closest("[data-what]") : null);
document.addEventListener("pointerover", (e) => { if (e.pointerType === "mouse") { const n = target(e); if (n) show(n); } });
document.addEventListener("pointerout", (e) => {
  if (e.pointerType === "mouse" && shownFor && target(e) === shownFor && !shownFor.contains(e.relatedTarget)) hide();
});
document.addEventListener("click", (e) => {   // a tap on a phone: show, a tap elsewhere: hide
  const n = target(e);
  if (n && n !== shownFor) show(n); else if (!n && !box.contains(e.target)) hide();
});
document.addEventListener("focusin", (e) => { const n = target(e); if (n) show(n); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape") hide(); });
