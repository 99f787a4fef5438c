// The console's core: tabs, the event stream from `ftl dev`, and the
// overview report, polled once a second while the page is visible.
import { $, api, store } from "./dom.js";
import * as overview from "./overview.js";
import * as deliveries from "./deliveries.js";
import * as topics from "./topics.js";
import * as deadletters from "./deadletters.js";
import * as publish from "./publish.js";
import * as trace from "./trace.js";

const views = { overview, deliveries, topics, deadletters, publish };
const tabs = [...document.querySelectorAll('[role="tab"]')];

function show(tab, focus = false) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", on);
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
  }
  if (focus) tab.focus();
  const name = tab.id.replace("tab-", "");
  history.replaceState(null, "", `#${name}`);
  views[name].shown?.();
}

for (const t of tabs) {
  t.addEventListener("click", () => show(t));
  t.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(t);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    show(tabs[(to + tabs.length) % tabs.length], true);
  });
}

/// What happened before the page was opened, then the live stream.
async function connect() {
  try {
    store.emit("recent", await api("/admin/recent"));
  } catch {
    // An older runner, or none: Activity starts empty.
  }
  follow();
}

function follow() {
  const live = $("#live-pill");
  const source = new EventSource("/admin/events");
  source.addEventListener("open", () => { live.textContent = "live"; live.className = "pill ok"; });
  source.addEventListener("error", () => {
    live.textContent = "reconnecting…";
    live.className = "pill bad";
  });
  source.addEventListener("status", (m) => {
    store.status = JSON.parse(m.data);
    $("#project").textContent = store.status.project;
    document.title = `ftl console: ${store.status.project}`;
    store.emit("status", store.status);
  });
  source.addEventListener("events", (m) => {
    const batch = JSON.parse(m.data);
    store.skipped += batch.skipped;
    store.emit("events", batch);
  });
}

// Once a second where lag and counts are shown (Overview, Dead letters);
// every 5 s elsewhere, where only the topic lists need it.
let polling = false;
let lastPoll = 0;
async function poll() {
  if (polling || document.hidden) return;
  const shown = tabs.find((t) => t.getAttribute("aria-selected") === "true")?.id;
  const every = shown === "tab-overview" || shown === "tab-deadletters" ? 1000 : 5000;
  if (performance.now() - lastPoll < every - 100) return;
  lastPoll = performance.now();
  polling = true;
  try {
    store.overview = await api("/admin/overview");
    store.overview.at = performance.now();
    store.emit("overview", store.overview);
  } catch (e) {
    store.emit("overview", { error: e.message });
  } finally {
    polling = false;
  }
}

for (const v of Object.values(views)) v.init?.();
trace.init();
connect();
poll();
setInterval(poll, 1000);
const first = tabs.find((t) => t.id === `tab-${location.hash.slice(1)}`) || tabs[0];
show(first);
