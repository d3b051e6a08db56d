// Drawing numbers the server computed: grey images, blue/red weight images, bars.

export function greyImage(canvas, values, side = 28) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const v = Math.round(255 * Math.max(0, Math.min(1, values[i])));
    img.data.set([v, v, v, 255], 4 * i);
  }
  paintScaled(canvas, img, side);
}

// Positive blue, negative red, white at 0; scaled by the largest magnitude.
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
  // t in [-1, 1]: -1 red, 0 white, 1 blue
  const a = Math.min(1, Math.abs(t));
  return t >= 0
    ? [Math.round(255 * (1 - a) + 33 * a), Math.round(255 * (1 - a) + 102 * a), Math.round(255 * (1 - a) + 172 * a)]
    : [Math.round(255 * (1 - a) + 178 * a), Math.round(255 * (1 - a) + 24 * a), Math.round(255 * (1 - a) + 43 * a)];
}

export function cssSigned(t) {
  const [r, g, b] = signedColour(t);
  return `rgb(${r},${g},${b})`;
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

// A row of bars, one per value; values and labels as the server sent them.
export function bars(container, values, { labels = null, highlight = -1, signed = false, scale = null } = {}) {
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
    value.textContent = Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(2) : v.toExponential(0);
    bar.append(value, fill, label);
    container.append(bar);
  });
}
