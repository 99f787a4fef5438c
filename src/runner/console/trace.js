// One request's trace: a tree of publishes and the deliveries under them,
// each step with a bar on a timeline from the request's first publish.
// Opened from a delivery, an event of the topic browser or a dead letter;
// asked again every second while it is open, so it follows the request.
import { $, h, api, outcomeClass, seg } from "./dom.js";

let current = null; // what the dialog shows: a query string
let timer = null;

const dialog = () => $("#trace-dialog");

/// Opens the trace of a request key (`{key}`) or of an event (`{event:
/// "topic@partition:offset"}`).
export function openTrace(what) {
  current = what.key ? `key=${seg(what.key)}` : `event=${seg(what.event)}`;
  $("#trace-title").textContent = "Request";
  $("#trace-tree").replaceChildren(h("p", { class: "muted" }, "reading…"));
  const d = dialog();
  if (!d.open) d.showModal();
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, 1000);
}

export function init() {
  dialog().addEventListener("close", () => { clearInterval(timer); current = null; });
}

let lastText = "";

async function refresh() {
  const q = current;
  if (!q || document.hidden) return;
  try {
    const t = await api(`/admin/trace?${q}`);
    if (q !== current) return;
    const text = JSON.stringify(t);
    if (text === lastText) return;
    lastText = text;
    render(t);
  } catch (e) {
    $("#trace-tree").replaceChildren(h("p", { class: "bad" }, e.message));
  }
}

const ms = (t) => (t ? Date.parse(t) : NaN);

/// Every time in the tree, to scale the timeline.
function span(t) {
  let lo = Infinity;
  let hi = -Infinity;
  const see = (a, b = a) => {
    if (!Number.isNaN(a)) lo = Math.min(lo, a);
    if (!Number.isNaN(b)) hi = Math.max(hi, b);
  };
  const walk = (p) => {
    see(ms(p.published_at));
    for (const d of p.deliveries) {
      for (const a of d.attempts) {
        const s = ms(a.started_at);
        see(s, s + (a.ms ?? Date.now() - s));
      }
      d.publishes.forEach(walk);
    }
  };
  t.publishes.forEach(walk);
  if (lo === Infinity) return { lo: Date.now(), width: 1 };
  return { lo, width: Math.max(1, hi - lo) };
}

function bar(scale, start, length, cls) {
  const left = ((start - scale.lo) / scale.width) * 100;
  const width = Math.max(0.5, (length / scale.width) * 100);
  // Set through the style object: the console's CSP refuses style attributes.
  const b = h("span", { class: `bar ${cls}` });
  b.style.left = `${left.toFixed(2)}%`;
  b.style.width = `${Math.min(width, 100 - left).toFixed(2)}%`;
  return h("span", { class: "timeline" }, b);
}

function render(t) {
  $("#trace-title").textContent = `Request ${t.request_key}`;
  const tree = $("#trace-tree");
  if (!t.found) {
    const k = t.kept;
    tree.replaceChildren(h("p", { class: "muted" },
      `The runner saw nothing of this request yet. It keeps the last ${k.budget.requests} requests (${k.budget.steps} steps, ${Math.round(k.budget.bytes / 1048576)} MB) and holds ${k.requests}; ${k.dropped} older ones were let go.`));
    return;
  }
  const scale = span(t);
  const list = h("ul", { class: "tree", role: "tree" }, t.publishes.map((p) => publish(p, scale)));
  const legend = h("p", { class: "muted" }, `timeline: ${Math.round(scale.width)} ms from the first publish`);
  tree.replaceChildren(legend, list);
  if (t.truncated) tree.append(h("p", { class: "warn" }, "more steps than one request may keep: the latest are not shown"));
}

function publish(p, scale) {
  const at = ms(p.published_at);
  const where = p.partition != null ? `${p.partition}@${p.offset}` : "not published";
  const label = h("div", { class: "step" },
    h("span", { class: "what" }, `publish ${p.topic} ${where}`,
      h("span", { class: "muted" }, ` by ${p.by ?? "another client"}${p.published_at ? ` at ${p.published_at.slice(11, 23)}` : ""}`),
      p.error ? h("span", { class: "bad" }, `: ${p.error}`) : null),
    Number.isNaN(at) ? h("span", { class: "timeline" }) : bar(scale, at, 0, "pub"));
  return h("li", { role: "treeitem", "aria-expanded": "true" }, label,
    p.deliveries.length ? h("ul", { role: "group" }, p.deliveries.map((d) => delivery(d, scale))) : null);
}

const statusClass = (s) => (s === "ok" ? "ok" : s === "dead_lettered" || s === "dropped" ? "bad" : "warn");

function delivery(d, scale) {
  const since = d.since_published_ms != null ? `, ${d.since_published_ms} ms after the publish` : "";
  const where = d.dead_letter ? ` to ${d.dead_letter.topic} ${d.dead_letter.partition}@${d.dead_letter.offset}` : "";
  const label = h("div", { class: "step" },
    h("span", { class: "what" }, `${d.subscription}${d.verb ? ` → ${d.verb}` : ""}: `,
      h("span", { class: statusClass(d.status) }, d.status.replace("_", " ") + where),
      h("span", { class: "muted" }, ` (${d.attempts.length} attempt${d.attempts.length === 1 ? "" : "s"}${since})`)),
    h("span", { class: "timeline" }));
  const attempts = d.attempts.map((a) => {
    const s = ms(a.started_at);
    const length = a.ms ?? Math.max(0, Date.now() - s);
    return h("li", { role: "treeitem" }, h("div", { class: "step attempt" },
      h("span", { class: "what" }, `#${a.attempt} ${a.started_at.slice(11, 23)} `,
        h("span", { class: outcomeClass(a.outcome === "in_flight" ? "retry" : a.outcome) }, a.outcome.replace("_", " ")),
        a.ms != null ? h("span", { class: "muted" }, ` ${a.ms} ms`) : null,
        a.error ? h("span", { class: "bad", title: a.error }, `: ${a.error}`) : null),
      bar(scale, s, length, outcomeClass(a.outcome === "in_flight" ? "retry" : a.outcome))));
  });
  const kids = [...attempts, ...d.publishes.map((p) => publish(p, scale))];
  return h("li", { role: "treeitem", "aria-expanded": "true", "data-subscription": d.subscription, "data-status": d.status }, label,
    kids.length ? h("ul", { role: "group" }, kids) : null);
}
