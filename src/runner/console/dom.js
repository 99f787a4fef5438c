// Helpers every view uses: building elements (text only, never HTML, so an
// event's content cannot inject markup), calling the runner, formatting.

export function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) {
    if (k == null) continue;
    e.append(k instanceof Node ? k : String(k));
  }
  return e;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/// The answer's JSON; a refusal becomes an Error with the runner's message.
export async function api(path, options = {}) {
  const r = await fetch(path, options);
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!r.ok) {
    const msg = body && body.error ? body.error + (body.hint ? `\nhint: ${body.hint}` : "") : `${r.status} ${text}`;
    throw new Error(msg);
  }
  return body;
}

/// A state change: always JSON, as the runner requires.
export function post(path, body, raw = false) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: raw ? body : JSON.stringify(body),
  });
}

export async function postJson(path, body) {
  const r = await post(path, body);
  const text = await r.text();
  let value = null;
  try { value = text ? JSON.parse(text) : null; } catch { value = text; }
  if (!r.ok) throw new Error(value && value.error ? value.error : `${r.status} ${text}`);
  return value;
}

export const seg = (s) => encodeURIComponent(s);

export function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function clock(date = new Date()) {
  return date.toTimeString().slice(0, 8) + "." + String(date.getMilliseconds()).padStart(3, "0");
}

/// `1 event`, `2 events`.
export const plural = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;

export const pretty = (v) => JSON.stringify(v, null, 2);

export function outcomeClass(o) {
  return o === "ok" ? "ok" : o === "retry" || o === "abandoned" ? "warn" : "bad";
}

/// Fills a <select> with options, keeping the chosen one when still there.
export function fillSelect(select, values, keepEmpty = false) {
  const now = select.value;
  const want = values.map(String);
  const have = [...select.options].map((o) => o.value).filter((v) => keepEmpty || v !== "");
  if (have.length === want.length && have.every((v, i) => v === want[i])) return;
  const first = keepEmpty ? [...select.options].filter((o) => o.value === "") : [];
  select.replaceChildren(...first, ...values.map((v) => h("option", { value: v }, v)));
  if ([...select.options].some((o) => o.value === now)) select.value = now;
}

/// A tiny line graph of the last values.
export function sparkline(values, width = 120, height = 24) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("aria-hidden", "true");
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", pts.join(" "));
  svg.append(line);
  return svg;
}

/// Shared state, filled by app.js: the runner's snapshot (`status`, from the
/// event stream) and `ftl pubsub status`'s report (`overview`, polled).
export const store = {
  status: null,
  overview: null,
  skipped: 0,
  listeners: { status: [], overview: [], events: [], recent: [] },
  on(kind, f) { this.listeners[kind].push(f); },
  emit(kind, value) { for (const f of this.listeners[kind]) f(value); },
};
