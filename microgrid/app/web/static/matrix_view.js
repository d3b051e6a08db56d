// The matrix and the scalar graph side by side: the fast path's dC0/dW(l) for one example as
// a heat map, and, for the cell clicked, the scalar engine's chain from w_jk(l) to C0.
import { el, fmt, getJSON, postJSON, showError, state } from "./api.js";
import { heatCells, pictureGrid } from "./views_plot.js";

export function matrixPanel() {
  const layerMenu = el("select", { id: "matrix-layer" });
  const labelMenu = el("select", { id: "matrix-label" });
  for (let d = 0; d < 10; d++) labelMenu.append(el("option", { value: String(d), text: `y = ${d}` }));
  const fromTraining = el("button", { id: "matrix-example", type: "button", text: "Use a training image" });
  const fromDrawing = el("button", { id: "matrix-drawing", type: "button", text: "Use my drawing" });
  const canvas = el("canvas", { id: "matrix-canvas", class: "matrix" });
  canvas.hidden = true;   // until an example is chosen
  const caption = el("p", { id: "matrix-caption", class: "note" });
  const detail = el("div", { id: "matrix-cell", class: "formula" });
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = el("section", { id: "matrix", class: "panel" },
    el("h2", { text: "The matrix and the scalar graph" }),
    el("p", { class: "note", text: "Left: the fast path's dC0/dW(l) for one example, one NumPy matrix product "
      + "(δ(l) a(l−1)ᵀ). For layer 1 each of the 16 neurons' 784 gradients is a 28×28 picture: red, the cost "
      + "grows if that weight grows; blue, it falls. Click any cell: the scalar engine (Value, backward()) builds "
      + "this example's graph and shows the chain from that one weight to C0, each local derivative on its arrow." }),
    el("div", { class: "controls" }, fromTraining, fromDrawing, labelMenu, layerMenu),
    el("div", { class: "row" }, el("div", { class: "col" }, canvas, caption), el("div", { class: "col grow" }, detail)),
    error);
  let image = null, index = 11, current = null, geometry = null;

  function layers() {
    const m = state.models.find((x) => x.name === state.model);
    layerMenu.replaceChildren(...(m ? m.sizes.slice(1) : [16]).map((_, i) =>
      el("option", { value: String(i + 1), text: `dC0/dW(${i + 1})` })));
  }

  async function load() {
    if (!image) return;
    try {
      const layer = Number(layerMenu.value || 1);
      current = await postJSON("/api/views/matrix",
        { model: state.model, image, label: Number(labelMenu.value), layer });
      const [rows, cols] = current.shape;
      if (cols === 784) {
        geometry = { kind: "pictures", ...pictureGrid(canvas, current.grad, { per: rows > 16 ? 16 : 4, scale: rows > 16 ? 1 : 3, gap: rows > 16 ? 4 : 6, top: current.scale }) };
      } else {
        const cell = Math.max(6, Math.min(22, Math.floor(420 / cols)));
        heatCells(canvas, current.grad, cell, current.scale);
        geometry = { kind: "cells", cell };
      }
      canvas.dataset.layer = String(layer);
      canvas.hidden = false;
      let best = [0, 0];   // the largest |cell|, for a first click (and the docs' screenshot)
      current.grad.forEach((row, j) => row.forEach((v, k) => {
        if (Math.abs(v) > Math.abs(current.grad[best[0]][best[1]])) best = [j, k];
      }));
      [canvas.dataset.strongestJ, canvas.dataset.strongestK] = best.map(String);
      caption.textContent = `dC0/dW(${layer}): ${rows}×${cols}, C0 = ${fmt(current.cost, 5)}, largest |cell| `
        + `${fmt(current.scale)} (colours scaled to it); the network reads this image as ${current.digit}.`;
      detail.replaceChildren(el("p", { class: "note", text: "Click a cell of the matrix." }));
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  function cellAt(event) {
    const box = canvas.getBoundingClientRect();
    const x = (event.clientX - box.left) * (canvas.width / box.width);
    const y = (event.clientY - box.top) * (canvas.height / box.height);
    if (geometry.kind === "cells") return { j: Math.floor(y / geometry.cell), k: Math.floor(x / geometry.cell) };
    const { side, gap, across } = geometry, step = side + gap;
    const col = Math.floor(x / step), row = Math.floor(y / step);
    const px = x - col * step, py = y - row * step;
    if (px >= side || py >= side) return null;
    const scale = side / 28;
    return { j: row * across + col, k: Math.floor(py / scale) * 28 + Math.floor(px / scale) };
  }

  function mark(j, k) {   // a yellow square around the clicked cell
    const ctx = canvas.getContext("2d");
    ctx.strokeStyle = "#ffb300";
    ctx.lineWidth = 2;
    if (geometry.kind === "cells") { ctx.strokeRect(k * geometry.cell, j * geometry.cell, geometry.cell, geometry.cell); return; }
    const { side, gap, across } = geometry, scale = side / 28;
    const x = (j % across) * (side + gap) + (k % 28) * scale, y = Math.floor(j / across) * (side + gap) + Math.floor(k / 28) * scale;
    ctx.strokeRect(x - 2, y - 2, scale + 4, scale + 4);
  }

  async function open(j, k) {
    const layer = Number(layerMenu.value || 1);
    if (!current || j >= current.shape[0] || k >= current.shape[1]) return;
    mark(j, k);
    try {
      const r = await postJSON("/api/views/cell", { model: state.model, image, label: Number(labelMenu.value), layer, j, k });
      showChain(r);
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  function showChain(r) {
    const box = (n) => el("div", { class: "chain-node", "data-node": n.name },
      el("div", { class: "chain-name", text: n.name }), el("div", { text: `value ${fmt(n.value)}` }),
      el("div", { class: "grad", text: `grad ${fmt(n.grad)}` }));
    const path = [];
    r.nodes.forEach((n, i) => {
      if (i > 0 && i <= r.edges.length) {
        path.push(el("div", { class: "chain-edge" }, el("div", { text: "→" }),
          el("div", { class: "local", text: `local ${fmt(r.edges[i - 1].local)}` })));
      } else if (i > 0) {
        path.push(el("div", { class: "chain-edge" }, el("div", { text: "⇒" }),
          el("div", { class: "local", text: `Σ over ${r.fan.terms.length} paths` })));
      }
      path.push(box(n));
    });
    const fan = r.fan ? el("details", { id: "matrix-fan" },
      el("summary", { text: `dC0/d${r.fan.node} = Σ_i (local to node i) × (node i's grad) = ${fmt(r.fan.sum, 6)}` }),
      el("table", {}, el("tr", {}, ...["node i", "local", "grad", "product"].map((t) => el("th", { text: t }))),
        ...r.fan.terms.map((t) => el("tr", {}, el("td", { text: t.to }), el("td", { text: fmt(t.local) }),
          el("td", { text: fmt(t.grad) }), el("td", { text: fmt(t.product) }))))) : "";
    detail.replaceChildren(
      el("h3", { text: `${r.weight}: one weight, one example, the scalar engine` }),
      el("div", { class: "chain-path" }, ...path),
      el("p", { text: `dC0/d${r.weight} = ` + r.factors.map((f) => fmt(f.value)).join(" × ") }),
      el("p", {}, "product of the chain: ", el("strong", { id: "cell-product", "data-value": String(r.product), text: fmt(r.product, 8) })),
      el("p", {}, "the weight's Value.grad after backward(): ", el("strong", { id: "cell-engine", "data-value": String(r.engine), text: fmt(r.engine, 8) })),
      el("p", {}, "the fast path's matrix cell: ", el("strong", { id: "cell-matrix", "data-value": String(r.matrix), text: fmt(r.matrix, 8) })),
      fan);
  }

  canvas.addEventListener("click", (event) => { const at = current && cellAt(event); if (at) open(at.j, at.k); });
  fromTraining.addEventListener("click", async () => {
    try {
      const ex = await getJSON(`/api/example?index=${index}&model=${encodeURIComponent(state.model)}`);
      index = (index + 1) % 60000;
      image = ex.image;
      labelMenu.value = String(ex.label);
      load();
    } catch (err) { showError(error, err); }
  });
  fromDrawing.addEventListener("click", () => {
    if (!state.image) { showError(error, new Error("draw a digit in the draw panel first")); return; }
    image = state.image;
    if (state.reading) labelMenu.value = String(state.reading.digit);
    load();
  });
  for (const menu of [layerMenu, labelMenu]) menu.addEventListener("change", load);
  state.on("models", layers);
  if (state.models.length) layers();
  state.on("model", () => { layers(); load(); });
  return section;
}
