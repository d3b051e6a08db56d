// The network as a picture: the inputs as a 28x28 grid, each neuron a circle as bright as its
// activation, the strongest weights as edges; and the two flows of the notes drawn on a canvas
// over it: activations travelling forward along the edges, nudges travelling back, output
// layer first. Every number is the server's (lighting.network, lighting.predict, nudges.nudges);
// this file draws them.
import { fmt } from "./api.js";
import { cssSigned } from "./paint.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDE = { W: 900, H: 370, PIXEL: 10, TOP: 56, R: 10, GRID_R: 5.5, EDGES: 160 };
const NARROW = { W: 420, H: 470, PIXEL: 4, TOP: 56, R: 10, GRID_R: 4, EDGES: 40 };   // a phone: fewer edges, larger neurons
export const NARROW_BELOW = 560;   // px of the picture's width
export const LAYER_MS = 650;       // how long a flow takes from one layer to the next

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

export function layout(sizes, g) {
  const gridRight = 20 + 28 * g.PIXEL;
  const step = (g.W - gridRight - 50) / (sizes.length - 1);
  return sizes.map((n, l) => {
    if (l === 0) return Array.from({ length: n }, (_, k) => [20 + (k % 28 + 0.5) * g.PIXEL, g.TOP + (Math.floor(k / 28) + 0.5) * g.PIXEL]);
    const x = gridRight + step * l;
    if (n > 32) {
      const side = Math.ceil(Math.sqrt(n)), gap = Math.min(14, (g.H - g.TOP - 20) / side, step * 0.9 / side);
      return Array.from({ length: n }, (_, k) => [x - gap * side / 2 + (k % side + 0.5) * gap, g.TOP + (Math.floor(k / side) + 0.5) * gap]);
    }
    const gap = Math.min(2.6 * g.R + 4, (g.H - g.TOP - 20) / n);
    const y0 = g.TOP + (Math.max(28 * g.PIXEL, gap * n) - gap * n) / 2;
    return Array.from({ length: n }, (_, k) => [x, y0 + (k + 0.5) * gap]);
  });
}

const SIGMA = { sigmoid: "σ", relu: "ReLU", tanh: "tanh", linear: "" };

export function networkPicture(id) {
  const wrap = document.createElement("div");
  wrap.className = "netpic";
  const picture = svg("svg", { id, role: "img" });
  const canvas = document.createElement("canvas");
  canvas.className = "flow";
  wrap.append(picture, canvas);
  let net = null, g = WIDE, positions = null, reading = null, chosen = null, onChoose = () => {};
  let flowToken = 0;

  function render(data) {
    if (data) net = data;
    if (!net) return;
    g = (wrap.clientWidth || window.innerWidth) < NARROW_BELOW ? NARROW : WIDE;
    wrap.dataset.layout = g === NARROW ? "narrow" : "wide";
    picture.setAttribute("viewBox", `0 0 ${g.W} ${g.H}`);
    positions = layout(net.sizes, g);
    picture.replaceChildren();
    const edges = svg("g", { class: "edges" });
    net.edges.forEach((layerEdges, i) => {
      const shown = layerEdges.slice(0, g.EDGES);   // the server sends them largest |w| first
      const top = Math.max(1e-12, ...shown.map((e) => Math.abs(e[2])));
      for (const [k, j, w] of shown) {
        const [x1, y1] = positions[i][k], [x2, y2] = positions[i + 1][j];
        const line = svg("line", { x1, y1, x2, y2, stroke: cssSigned(w / top), "data-edge": `${i + 1},${j},${k}`,
          "stroke-width": 0.4 + 1.6 * Math.abs(w) / top, "stroke-opacity": 0.25 + 0.6 * Math.abs(w) / top });
        line.dataset.what = `the weight w_${j},${k}(${i + 1}) of the edge from neuron ${k} of layer ${i} to neuron ${j} of layer ${i + 1}`;
        line.dataset.formula = `w_${j},${k}(${i + 1}) = ${fmt(w)}`;
        line.dataset.fn = "microgrid.app.web.lighting.network (the model's weights, largest |w| first)";
        edges.append(line);
      }
    });
    picture.append(edges);
    const nodes = svg("g", { class: "nodes" });
    const last = net.sizes.length - 1;
    net.sizes.forEach((n, l) => {
      const r = l === 0 ? 0 : (n > 32 ? g.GRID_R : g.R);
      for (let k = 0; k < n; k++) {
        const [x, y] = positions[l][k];
        const node = l === 0
          ? svg("rect", { x: x - g.PIXEL / 2, y: y - g.PIXEL / 2, width: g.PIXEL, height: g.PIXEL, class: "pixel" })
          : svg("circle", { cx: x, cy: y, r, class: "neuron" });
        node.setAttribute("data-layer", l);
        node.setAttribute("data-index", k);
        node.setAttribute("data-activation", "0");
        node.setAttribute("fill", "rgb(0,0,0)");
        if (l > 0) { node.addEventListener("click", () => choose(l, k)); node.setAttribute("tabindex", "0"); }
        nodes.append(node);
        if (l === last) {
          const label = svg("text", { x: x + r + 5, y: y + 4, class: "digit-label" });
          label.textContent = String(k);
          nodes.append(label);
        }
      }
    });
    picture.append(nodes);
    net.sizes.forEach((n, l) => {
      const detail = g === NARROW ? `${n}` : `${n}, ${net.activations[l - 1]}`;   // a phone: room for the count only
      const head = l === 0 ? ["input a(0)", "784 pixels"] : [l === last ? `output a(${l})` : `layer ${l}`, detail];
      const x = l === 0 ? 20 + 14 * g.PIXEL : Math.min(g.W - 40, positions[l][0][0]);
      [[head[0], 20], [head[1], 38]].forEach(([text, y]) => {
        const t = svg("text", { x, y, class: "layer-label", "text-anchor": "middle" });
        t.textContent = text;
        picture.append(t);
      });
    });
    if (chosen) mark(chosen.layer, chosen.index);
    if (reading) light(reading);
  }

  function nodesOf(l) { return picture.querySelectorAll(`[data-layer="${l}"]`); }

  function lightLayer(l, values, probabilities = null) {
    const top = l === 0 || net.activations[l - 1] === "sigmoid" ? 1 : Math.max(1e-12, ...values.map(Math.abs));
    const f = l === 0 ? "" : SIGMA[net.activations[l - 1]];
    nodesOf(l).forEach((node) => {
      const i = Number(node.dataset.index), v = values[i];
      node.setAttribute("data-activation", String(v));
      const t = probabilities ? probabilities[i] : Math.max(0, v) / top;
      const c = Math.round(255 * Math.min(1, t));
      node.setAttribute("fill", `rgb(${c},${c},${c})`);
      if (l > 0) {
        node.dataset.what = `a_${i}(${l}): the activation of neuron ${i} of layer ${l}` + (l === net.sizes.length - 1 ? `, how much the network thinks the digit is ${i}` : "");
        node.dataset.formula = `a_${i}(${l}) = ${f ? `${f}(z_${i}(${l}))` : `z_${i}(${l})`} = ${f}(Σ_k w_${i},k(${l}) a_k(${l - 1}) + b_${i}(${l})) = ${fmt(v)}`
          + (node.dataset.nudge ? `;  its nudge −dC0/da_${i}(${l}) = ${fmt(Number(node.dataset.nudge))}` : "");
        node.dataset.fn = "microgrid.app.web.lighting.predict (FastMLP.forward_all)";
      }
    });
  }

  function light(r) {
    reading = r;
    if (!net || !r) return;
    const layers = [r.image, ...r.layers];
    layers.forEach((values, l) => lightLayer(l, values, l === layers.length - 1 ? r.probabilities : null));
  }

  function dark() {
    reading = null;
    if (!net) return;
    for (let l = 0; l < net.sizes.length; l++) nodesOf(l).forEach((n) => { n.setAttribute("fill", "rgb(0,0,0)"); n.setAttribute("data-activation", "0"); });
    clearNudges();
  }

  function mark(layer, index) {
    picture.querySelectorAll(".selected").forEach((n) => n.classList.remove("selected"));
    const node = picture.querySelector(`[data-layer="${layer}"][data-index="${index}"]`);
    if (node) node.classList.add("selected");
  }

  function choose(layer, index) { chosen = { layer, index }; mark(layer, index); onChoose(layer, index); }

  // ---- the flows, drawn on the canvas over the picture

  function fitCanvas() {
    const box = picture.getBoundingClientRect(), ratio = window.devicePixelRatio || 1;
    canvas.style.width = `${box.width}px`; canvas.style.height = `${box.height}px`;
    canvas.width = Math.round(box.width * ratio); canvas.height = Math.round(box.height * ratio);
    const ctx = canvas.getContext("2d");
    const s = box.width / g.W;
    ctx.setTransform(ratio * s, 0, 0, ratio * s, 0, 0);
    return ctx;
  }

  // Dots travelling along segments [{x1, y1, x2, y2, colour, size}] for `ms`; resolves when they arrive.
  function travel(segments, ms, token) {
    const ctx = fitCanvas();
    return new Promise((resolve) => {
      const t0 = performance.now();
      function frame(now) {
        if (token !== flowToken) { ctx.clearRect(0, 0, g.W, g.H); resolve(false); return; }
        const t = Math.min(1, (now - t0) / ms);
        ctx.clearRect(0, 0, g.W, g.H);
        for (const s of segments) {
          for (const lag of [0, 0.06, 0.12]) {   // a dot and its fading trail
            const u = Math.max(0, t - lag);
            ctx.globalAlpha = (1 - lag * 6) * s.alpha;
            ctx.fillStyle = s.colour;
            ctx.beginPath();
            ctx.arc(s.x1 + (s.x2 - s.x1) * u, s.y1 + (s.y2 - s.y1) * u, s.size * (1 - lag * 3), 0, 2 * Math.PI);
            ctx.fill();
          }
        }
        ctx.globalAlpha = 1;
        wrap.dataset.frames = String(Number(wrap.dataset.frames || 0) + 1);
        if (t < 1) requestAnimationFrame(frame);
        else { ctx.clearRect(0, 0, g.W, g.H); resolve(true); }
      }
      requestAnimationFrame(frame);
    });
  }

  function layerEdges(l) { return net.edges[l - 1].slice(0, g.EDGES); }

  // The forward pass: layer by layer, the activations travel along the edges and light the next layer.
  async function flowForward(r, ms = LAYER_MS) {
    const token = ++flowToken;
    reading = r;
    wrap.dataset.flowing = "forward";
    wrap.dataset.flowOrder = "";
    clearNudges();
    lightLayer(0, r.image);
    for (let l = 1; l < net.sizes.length; l++) nodesOf(l).forEach((n) => n.setAttribute("fill", "rgb(0,0,0)"));
    const layers = [r.image, ...r.layers];
    for (let l = 1; l < layers.length; l++) {
      const from = layers[l - 1], top = Math.max(1e-12, ...from.map(Math.abs));
      const segments = layerEdges(l).map(([k, j]) => {
        const [x1, y1] = positions[l - 1][k], [x2, y2] = positions[l][j];
        return { x1, y1, x2, y2, colour: "#ffd54f", alpha: 0.15 + 0.85 * Math.min(1, Math.abs(from[k]) / top), size: g === NARROW ? 3 : 3.5 };
      });
      if (!(await travel(segments, ms, token))) return false;
      lightLayer(l, layers[l], l === layers.length - 1 ? r.probabilities : null);
      wrap.dataset.flowOrder += (wrap.dataset.flowOrder ? "," : "") + l;
    }
    wrap.dataset.flowing = "done";
    return true;
  }

  function setNudges(l, nudgeA, top) {
    nodesOf(l).forEach((node) => {
      const i = Number(node.dataset.index), v = nudgeA[i];
      node.dataset.nudge = String(v);
      node.style.stroke = cssSigned(Math.sign(v) * (0.35 + 0.65 * Math.min(1, Math.abs(v) / top)));
      node.style.strokeWidth = String(2 + 5 * Math.min(1, Math.abs(v) / top));
      node.classList.add("nudged");
      const formula = node.dataset.formula ? node.dataset.formula.split(";  its nudge")[0] : "";
      node.dataset.what = `the nudge neuron ${i} of layer ${l} wants: −dC0/da_${i}(${l}), red up, blue down`;
      node.dataset.formula = `${formula ? formula + ";  " : ""}its nudge −dC0/da_${i}(${l}) = ${fmt(v)}`;
      node.dataset.fn = "microgrid.app.web.nudges.nudges (the scalar engine's Value.backward())";
    });
  }

  function clearNudges() {
    picture.querySelectorAll(".nudged").forEach((n) => {
      n.classList.remove("nudged"); delete n.dataset.nudge; n.style.stroke = ""; n.style.strokeWidth = "";
    });
  }

  // Backpropagation: the output layer's nudges first, then each layer's, travelling back along the edges.
  async function flowBack(r, ms = LAYER_MS) {
    const token = ++flowToken;
    const L = r.layers.length;
    clearNudges();
    wrap.dataset.flowing = "back";
    wrap.dataset.flowOrder = "";
    setNudges(L, r.layers[L - 1].nudge_a, Math.max(1e-12, ...r.layers[L - 1].nudge_a.map(Math.abs)));
    wrap.dataset.flowOrder = String(L);
    for (let l = L; l >= 2; l--) {
      const upstream = r.layers[l - 1].grad_z, w = new Map(layerEdges(l).map(([k, j, v]) => [`${j},${k}`, v]));
      const big = Math.max(1e-12, ...layerEdges(l).map(([k, j, v]) => Math.abs(v * upstream[j])));
      const segments = layerEdges(l).map(([k, j]) => {
        const share = -w.get(`${j},${k}`) * upstream[j];   // this edge's share of the nudge to a_k(l-1)
        const [x2, y2] = positions[l - 1][k], [x1, y1] = positions[l][j];
        return { x1, y1, x2, y2, colour: cssSigned(share >= 0 ? 1 : -1), alpha: 0.3 + 0.7 * Math.abs(share) / big, size: g === NARROW ? 3.5 : 5 };
      });
      if (!(await travel(segments, ms, token))) return false;
      const layer = r.layers[l - 2];
      setNudges(l - 1, layer.nudge_a, Math.max(1e-12, ...layer.nudge_a.map(Math.abs)));
      wrap.dataset.flowOrder += `,${l - 1}`;
    }
    wrap.dataset.flowing = "done";
    return true;
  }

  let wasNarrow = null;
  window.addEventListener("resize", () => {
    const narrow = wrap.clientWidth < NARROW_BELOW;
    if (narrow !== wasNarrow) { wasNarrow = narrow; flowToken++; render(); }
  });

  return {
    element: wrap, picture,
    load(data) { wasNarrow = (wrap.clientWidth || window.innerWidth) < NARROW_BELOW; render(data); },
    light, dark, flowForward, flowBack, clearNudges,
    stop() { flowToken++; },
    onChoose(fn) { onChoose = fn; },
    get net() { return net; },
  };
}
