// The training panel's charts: lines over a shared x range on a canvas sized to its CSS box.

export function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio); }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, w, h };
}

// Lines over a shared x range: series = [{values, color, width, x0}], x0 = index of values[0].
export function lineChart(canvas, series, { ymin, ymax, xmax, markers = [], ylabel = "", log = false } = {}) {
  const { ctx, w, h } = fitCanvas(canvas);
  const pad = { l: 46, r: 8, t: 8, b: 20 };
  ctx.clearRect(0, 0, w, h);
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  if (!all.length) return;
  const f = log ? (v) => Math.log10(Math.max(v, 1e-6)) : (v) => v;
  let lo = ymin === undefined ? least(all.map(f)) : f(ymin), hi = ymax === undefined ? most(all.map(f)) : f(ymax);
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  const n = xmax ?? most(series.map((s) => (s.x0 || 0) + s.values.length));
  const X = (i) => pad.l + (w - pad.l - pad.r) * (n > 1 ? i / (n - 1) : 0.5);
  const Y = (v) => pad.t + (h - pad.t - pad.b) * (1 - (f(v) - lo) / (hi - lo));
  ctx.strokeStyle = "#ccc"; ctx.fillStyle = "#555"; ctx.font = "11px system-ui, sans-serif"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, h - pad.b); ctx.lineTo(w - pad.r, h - pad.b); ctx.stroke();
  for (const v of [lo, (lo + hi) / 2, hi]) {
    const value = log ? 10 ** v : v;
    ctx.fillText(Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(2), 2, Y(value) + 4);
  }
  if (ylabel) ctx.fillText(ylabel, pad.l + 4, pad.t + 10);
  ctx.setLineDash([4, 3]); ctx.strokeStyle = "#d97706";
  for (const m of markers) { ctx.beginPath(); ctx.moveTo(X(m), pad.t); ctx.lineTo(X(m), h - pad.b); ctx.stroke(); }
  ctx.setLineDash([]);
  ctx.save();
  ctx.beginPath(); ctx.rect(pad.l, pad.t - 2, w - pad.l - pad.r, h - pad.t - pad.b + 4); ctx.clip();
  for (const s of series) {
    const x0 = s.x0 || 0, step = Math.max(1, Math.floor(s.values.length / (w * 2)));
    ctx.strokeStyle = s.color; ctx.lineWidth = s.width || 1.5; ctx.beginPath();
    let started = false;
    for (let i = 0; i < s.values.length; i += step) {
      const v = s.values[i];
      if (!Number.isFinite(v)) continue;
      if (!started) { ctx.moveTo(X(x0 + i), Y(v)); started = true; } else ctx.lineTo(X(x0 + i), Y(v));
    }
    ctx.stroke();
    if (s.dots) for (let i = 0; i < s.values.length; i++) {
      ctx.fillStyle = s.color; ctx.beginPath(); ctx.arc(X(x0 + i), Y(s.values[i]), 3, 0, 7); ctx.fill();
    }
  }
  ctx.restore();
}

// Math.min/max over arrays too long to spread into arguments
export const least = (values) => values.reduce((a, v) => (v < a ? v : a), Infinity);
export const most = (values) => values.reduce((a, v) => (v > a ? v : a), -Infinity);

export function runningMean(values, k) {
  const out = []; let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]; if (i >= k) sum -= values[i - k];
    out.push(sum / Math.min(i + 1, k));
  }
  return out;
}
