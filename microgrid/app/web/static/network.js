// Panel 2, the network lighting up: the inputs as a 28x28 grid, each neuron a circle as
// bright as its activation, the output layer labelled 0-9, edges for the strongest weights.
import { el, getJSON, showError, state } from "./api.js";
import { cssSigned, signLegend } from "./paint.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 900, H = 370, PIXEL = 10, TOP = 56;

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// Where each neuron sits: layer 0 is the pixel grid, a layer of more than 32 neurons a square grid.
export function layout(sizes, width = W, height = H) {
  const columns = sizes.length;
  const gridRight = 20 + 28 * PIXEL;
  const step = (width - gridRight - 60) / (columns - 1);
  return sizes.map((n, l) => {
    if (l === 0) {
      return Array.from({ length: n }, (_, k) => [20 + (k % 28 + 0.5) * PIXEL, TOP + (Math.floor(k / 28) + 0.5) * PIXEL]);
    }
    const x = gridRight + step * l;
    if (n > 32) {
      const side = Math.ceil(Math.sqrt(n)), gap = Math.min(14, (height - 40) / side);
      return Array.from({ length: n }, (_, k) =>
        [x - gap * side / 2 + (k % side + 0.5) * gap, TOP + (Math.floor(k / side) + 0.5) * gap]);
    }
    const gap = Math.min(30, (height - TOP - 20) / n);
    const y0 = TOP + (28 * PIXEL - gap * n) / 2;
    return Array.from({ length: n }, (_, k) => [x, y0 + (k + 0.5) * gap]);
  });
}

export function networkPanel() {
  const picture = svg("svg", { id: "network-svg", viewBox: `0 0 ${W} ${H}`, role: "img" });
  const caption = el("p", { class: "note", id: "network-note" });
  const key = signLegend("network-legend", "red: a positive weight w_jk", "blue: a negative one",
    "(the thicker and brighter, the larger |w_jk|)");
  const error = el("p", { class: "error" });
  error.hidden = true;
  const section = el("section", { id: "network", class: "panel" },
    el("h2", { text: "2. The network lighting up" }), picture, caption, key, error);
  let net = null, positions = null, selected = null;

  async function load() {
    try {
      net = await getJSON(`/api/network?model=${encodeURIComponent(state.model)}`);
      positions = layout(net.sizes);
      render();
      showError(error, null);
    } catch (err) { showError(error, err); }
  }

  function render() {
    picture.replaceChildren();
    const edges = svg("g", { class: "edges" });
    net.edges.forEach((layerEdges, i) => {
      const top = Math.max(1e-12, ...layerEdges.map((e) => Math.abs(e[2])));
      for (const [k, j, w] of layerEdges) {
        const [x1, y1] = positions[i][k], [x2, y2] = positions[i + 1][j];
        edges.append(svg("line", { x1, y1, x2, y2, stroke: cssSigned(w / top), "data-edge": `${i + 1},${j},${k}`,
          "stroke-width": 0.4 + 1.6 * Math.abs(w) / top, "stroke-opacity": 0.25 + 0.6 * Math.abs(w) / top }));
      }
    });
    picture.append(edges);
    const nodes = svg("g", { class: "nodes" });
    net.sizes.forEach((n, l) => {
      const r = l === 0 ? 0 : (n > 32 ? 5.5 : 10);
      for (let k = 0; k < n; k++) {
        const [x, y] = positions[l][k];
        const node = l === 0
          ? svg("rect", { x: x - PIXEL / 2, y: y - PIXEL / 2, width: PIXEL, height: PIXEL, class: "pixel" })
          : svg("circle", { cx: x, cy: y, r, class: "neuron" });
        node.setAttribute("data-layer", l);
        node.setAttribute("data-index", k);
        node.setAttribute("data-activation", "0");
        node.setAttribute("fill", "rgb(0,0,0)");
        if (l > 0) node.addEventListener("click", () => choose(l, k));
        nodes.append(node);
        if (l === net.sizes.length - 1) {
          const label = svg("text", { x: x + 16, y: y + 4, class: "digit-label" });
          label.textContent = String(k);
          nodes.append(label);
        }
      }
    });
    picture.append(nodes);
    const last = net.sizes.length - 1;
    const heads = net.sizes.map((n, l) => l === 0 ? ["input a(0)", "784 pixels"]
      : [l === last ? "output" : `hidden layer ${l}`, `${n} neurons, ${net.activations[l - 1]}`]);
    heads.forEach(([name, detail], l) => {
      const x = l === 0 ? 20 + 14 * PIXEL : Math.min(W - 70, positions[l][0][0]);
      [[name, 22], [detail, 40]].forEach(([text, y]) => {
        const t = svg("text", { x, y, class: "layer-label", "text-anchor": "middle" });
        t.textContent = text;
        picture.append(t);
      });
    });
    caption.textContent = `${net.sizes.join("-")} network. A neuron is as bright as its activation. Edges: the `
      + `${net.edges[0].length} strongest weights of each layer. Click a neuron to see what it looks for.`;
    if (state.reading) light(state.reading);
  }

  function light(reading) {
    if (!net) return;
    const layers = [reading.image, ...reading.layers];
    layers.forEach((values, l) => {
      const top = net.activations[l - 1] === "sigmoid" || l === 0 ? 1 : Math.max(1e-12, ...values.map(Math.abs));
      const shown = l === layers.length - 1 && reading.probabilities ? reading.probabilities : values;
      picture.querySelectorAll(`[data-layer="${l}"]`).forEach((node) => {
        const i = Number(node.dataset.index);
        node.setAttribute("data-activation", String(values[i]));
        const t = l === layers.length - 1 && reading.probabilities ? shown[i] : Math.max(0, values[i]) / top;
        const v = Math.round(255 * Math.min(1, t));
        node.setAttribute("fill", `rgb(${v},${v},${v})`);
      });
    });
  }

  function choose(layer, index) {
    if (selected) selected.classList.remove("selected");
    selected = picture.querySelector(`[data-layer="${layer}"][data-index="${index}"]`);
    if (selected) selected.classList.add("selected");
    state.emit("neuron", { layer, index });
  }

  state.on("reading", light);
  state.on("example", light);
  state.on("model", load);
  state.on("cleared", () => { state.reading = null; if (net) render(); });
  state.on("ready", load);
  return section;
}
