// Drawing numbers the server computed: grey images, signed images, bars.
// Signs as everywhere in microgrid (matplotlib's RdBu_r in microgrid.pictures): red positive,
// blue negative, white zero.

export function greyImage(canvas, values, side = 28) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const v = Math.round(255 * Math.max(0, Math.min(1, values[i])));
    img.data.set([v, v, v, 255], 4 * i);
  }
  paintScaled(canvas, img, side);
}

// Positive red, negative blue, white at 0; scaled by the largest magnitude.
export function signedImage(canvas, values, side = 28) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  const top = Math.max(1e-12, ...values.map(Math.abs));
  for (let i = 0; i < side * side; i++) {
    const t = Math.min(1, Math.abs(values[i]) / top);
    const [r, g, b] = signedColour(values[i] >= 0 ? t : -t);
    img.data.set([r, g, b, 255], 4 * i);
  }
  paintScaled(canvas, img, side);
}

export function signedColour(t) {
  // t in [-1, 1]: -1 blue, 0 white, 1 red (RdBu's #2166ac and #b2182b, as in style.css)
  const a = Math.min(1, Math.abs(t));
  const [r, g, b] = t >= 0 ? RED : BLUE;
  return [r, g, b].map((c) => Math.round(255 * (1 - a) + c * a));
}

const RED = [178, 24, 43], BLUE = [33, 102, 172];

export function cssSigned(t) {
  const [r, g, b] = signedColour(t);
  return `rgb(${r},${g},${b})`;
}

// A one-line key to the sign colours: a red swatch and what red means, a blue one and what blue means.
export function signLegend(id, positive, negative, extra = "") {
  const key = document.createElement("p");
  key.className = "note legend";
  key.id = id;
  for (const [sign, text] of [[1, positive], [-1, negative]]) {
    const item = document.createElement("span");
    item.className = "key";
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.dataset.sign = sign > 0 ? "positive" : "negative";
    swatch.style.background = cssSigned(sign);
    item.append(swatch, text);
    key.append(item);
  }
  if (extra) {
    const more = document.createElement("span");
    more.textContent = extra;
    key.append(more);
  }
  return key;
}

function paintScaled(canvas, img, side) {
  const small = document.createElement("canvas");
  small.width = side;
  small.height = side;
  small.getContext("2d").putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

// A row of bars, one per value; values and labels as the server sent them. explainOf(i, v), if
// given, returns the bar's explanation ({what, formula, fn}, shown on hover or tap).
export function bars(container, values, { labels = null, highlight = -1, signed = false, scale = null, explainOf = null } = {}) {
  container.replaceChildren();
  const top = scale || Math.max(1e-12, ...values.map(Math.abs));
  values.forEach((v, i) => {
    const bar = document.createElement("div");
    bar.className = "bar" + (i === highlight ? " chosen" : "");
    const fill = document.createElement("div");
    fill.className = "fill" + (signed ? (v >= 0 ? " up" : " down") : "");
    fill.style.height = `${Math.round(100 * Math.min(1, Math.abs(v) / top))}%`;
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = labels ? labels[i] : String(i);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = barLabel(v);
    bar.dataset.value = String(v);
    if (explainOf) {
      const { what, formula, fn } = explainOf(i, v);
      bar.dataset.what = what;
      if (formula) bar.dataset.formula = formula;
      if (fn) bar.dataset.fn = fn;
      bar.tabIndex = 0;
    }
    bar.append(value, fill, label);
    container.append(bar);
  });
}

// A bar's label: two decimals, never scientific notation; a value too small to show in two
// decimals is "≈0" (its bar, and its explanation on hover, give it exactly).
export function barLabel(v) {
  if (v === 0) return "0";
  if (Math.abs(v) < 0.005) return "≈0";
  return v.toFixed(2).replace("-", "−");
}
