// Small drawings shared by the views of issue 25: line plots in SVG, signed heat maps on a canvas.
import { signedColour } from "./paint.js";

const NS = "http://www.w3.org/2000/svg";

export function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// series: [{ label, colour, points: [[x, y], ...], dash? }]; y on a log scale when logY.
// upTo (0..1) draws that share of each series (for an animation).
export function linePlot(svg, series, { logY = false, width = 520, height = 220, yLabel = "", upTo = 1 } = {}) {
  const pad = { l: 56, r: 10, t: 10, b: 28 };
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!logY || y > 0));
  svg.replaceChildren();
  if (!all.length) return;
  const fy = logY ? Math.log10 : (v) => v;
  const xs = all.map(([x]) => x), ys = all.map(([, y]) => fy(y));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const span = y1 - y0 || 1;
  const X = (x) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const Y = (y) => height - pad.b - ((fy(y) - y0) / span) * (height - pad.t - pad.b);
  svg.append(svgEl("line", { x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, stroke: "#999" }),
    svgEl("line", { x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b, stroke: "#999" }));
  for (const [value, y] of [[y1, pad.t + 4], [y0, height - pad.b]]) {
    const t = svgEl("text", { x: pad.l - 4, y, "text-anchor": "end", class: "tick" });
    t.textContent = Number((logY ? 10 ** value : value).toPrecision(3)).toString();
    svg.append(t);
  }
  const xl = svgEl("text", { x: width - pad.r, y: height - 8, "text-anchor": "end", class: "tick" });
  xl.textContent = `step ${x1}`;
  const yl = svgEl("text", { x: 4, y: pad.t + 12, class: "tick" });
  yl.textContent = yLabel;
  svg.append(xl, yl);
  for (const s of series) {
    const shown = s.points.slice(0, Math.max(1, Math.ceil(s.points.length * upTo)))
      .filter(([, y]) => Number.isFinite(y) && (!logY || y > 0));
    if (!shown.length) continue;
    // s.stairs: the value holds until the next point (a setting such as lr), not a ramp
    const corners = s.stairs ? shown.flatMap(([x, y], i) => (i ? [[x, shown[i - 1][1]], [x, y]] : [[x, y]])) : shown;
    const line = svgEl("polyline", { fill: "none", stroke: s.colour, "stroke-width": 2,
      points: corners.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(" ") });
    if (s.dash) line.setAttribute("stroke-dasharray", "5 4");
    line.dataset.series = s.label;
    svg.append(line);
    if (s.dots) for (const [x, y] of shown) svg.append(svgEl("circle", { cx: X(x), cy: Y(y), r: 3, fill: s.colour }));
  }
}

export function legend(series) {
  const p = document.createElement("p");
  p.className = "note legend";
  for (const s of series) {
    const key = document.createElement("span");
    key.className = "key";
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = s.colour;
    key.append(sw, s.label);
    p.append(key);
  }
  return p;
}

// rows (n, m) of signed numbers as cells of `cell` pixels, red positive, blue negative, scaled by `top`.
export function heatCells(canvas, rows, cell, top) {
  const n = rows.length, m = rows[0].length;
  canvas.width = m * cell;
  canvas.height = n * cell;
  const ctx = canvas.getContext("2d");
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < m; k++) {
      const [r, g, b] = signedColour(rows[j][k] / (top || 1));
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(k * cell, j * cell, cell, cell);
    }
  }
}

// A grid of 28x28 pictures, one per row of `rows` (each (784,)), `per` across, `scale` pixels a pixel.
export function pictureGrid(canvas, rows, { per = 4, scale = 3, gap = 6, top = null, grey = false } = {}) {
  const side = 28 * scale, count = rows.length, across = Math.min(per, count);
  canvas.width = across * side + (across - 1) * gap;
  canvas.height = Math.ceil(count / across) * (side + gap) - gap;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ddd";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  rows.forEach((row, j) => {
    const img = ctx.createImageData(28, 28);
    const most = top ?? Math.max(1e-12, ...row.map(Math.abs));
    for (let i = 0; i < 784; i++) {
      const c = grey ? Array(3).fill(Math.round(255 * Math.max(0, Math.min(1, row[i])))) : signedColour(row[i] / most);
      img.data.set([...c, 255], 4 * i);
    }
    const tile = document.createElement("canvas");
    tile.width = tile.height = 28;
    tile.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tile, (j % across) * (side + gap), Math.floor(j / across) * (side + gap), side, side);
  });
  return { side, gap, across };
}
