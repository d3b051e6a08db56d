// The page's link to the server: every number shown comes from these JSON calls.

async function answer(response) {
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON: reported below */ }
  if (!response.ok) {
    throw new Error(body && body.error ? body.error : `${response.status} ${response.statusText}`);
  }
  return body;
}

export async function getJSON(path) {
  return answer(await fetch(path, { headers: { Accept: "application/json" } }));
}

export async function postJSON(path, data) {
  return answer(await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(data),
  }));
}

// What the panels share: the model picked at the top, the last digit the network read.
const listeners = {};
export const state = {
  model: null,         // name of the page's model
  models: [],          // as GET /api/models lists them
  image: null,         // the 784 inputs the network last read (from the drawing or a training image)
  reading: null,       // the last /api/predict answer for that image
  target: null,        // the digit the learner says the image is (y of the cost and the nudges); never the guess
  on(event, fn) { (listeners[event] ||= []).push(fn); },
  emit(event, value) { for (const fn of listeners[event] || []) fn(value); },
};

// Refresh the list of models (after a part adds one) and tell every menu.
export async function onModelsChanged() {
  const listing = await getJSON("/api/models");
  state.models = listing.models;
  if (!state.model) state.model = listing.default;
  state.emit("models", listing);
  return listing;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

export function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return x.toFixed(digits);
  return x.toExponential(digits - 1);
}

export function showError(where, err) {
  where.textContent = err ? String(err.message || err) : "";
  where.hidden = !err;
}
