// Topic browser: `ftl pubsub tail --no-follow` in the page, from the
// beginning, the latest, an offset, the last N or a time; one partition or all.
import { $, h, api, fillSelect, pretty, seg, store } from "./dom.js";
import { openTrace } from "./trace.js";

export function init() {
  const f = $("#browse-form");
  store.on("overview", (o) => {
    if (!o.topics) return;
    const made = o.topics.filter((t) => t.provisioned);
    fillSelect(f.elements.topic, made.map((t) => t.name));
    partitions();
  });
  f.elements.topic.addEventListener("change", partitions);
  f.elements.mode.addEventListener("change", () => {
    const v = f.elements.value;
    const mode = f.elements.mode.value;
    v.disabled = mode === "beginning" || mode === "latest";
    if (mode === "last") v.value = "20";
    if (mode === "offset") v.value = "0";
    if (mode === "time") v.value = "-10m";
  });
  f.addEventListener("submit", (e) => { e.preventDefault(); read(); });
}

export function shown() {
  const f = $("#browse-form");
  if (f.elements.topic.value && !$("#records").children.length) read();
}

function partitions() {
  const f = $("#browse-form");
  const t = store.overview?.topics?.find((t) => t.name === f.elements.topic.value);
  fillSelect(f.elements.partition, t ? [...Array(t.partitions).keys()] : [], true);
}

function fromText(f) {
  const v = f.elements.value.value.trim();
  switch (f.elements.mode.value) {
    case "last": return `-${Math.max(1, parseInt(v, 10) || 20)}`;
    case "offset": return String(Math.max(0, parseInt(v, 10) || 0));
    case "time": return v;
    default: return f.elements.mode.value;
  }
}

async function read() {
  const f = $("#browse-form");
  const topic = f.elements.topic.value;
  if (!topic) return;
  const q = new URLSearchParams({ from: fromText(f), limit: f.elements.limit.value || "100" });
  if (f.elements.partition.value !== "") q.set("partition", f.elements.partition.value);
  const list = $("#records");
  const stats = $("#browse-stats");
  stats.textContent = "reading…";
  try {
    const records = await api(`/admin/topics/${seg(topic)}/events?${q}`);
    stats.textContent = `${records.length} event${records.length === 1 ? "" : "s"}`;
    list.replaceChildren(...records.map((r) => h("li", {},
      h("div", { class: "meta" }, `${r.partition}@${r.offset}  ${r.time ?? "-"}${r.key != null ? `  key=${r.key}` : ""}${r.request_key ? `  request=${r.request_key}` : ""}`,
        " ", h("button", { type: "button", class: "trace-open", onclick: () => openTrace({ event: `${r.topic}@${r.partition}:${r.offset}` }) }, "Trace")),
      Object.keys(r.headers).length ? h("details", {}, h("summary", {}, `${Object.keys(r.headers).length} headers`), h("pre", {}, pretty(r.headers))) : null,
      r.invalid ? h("div", { class: "bad" }, `does not match its type: ${r.invalid}`) : null,
      h("pre", {}, pretty(r.event)))));
  } catch (e) {
    stats.textContent = "";
    list.replaceChildren(h("li", { class: "bad" }, e.message));
  }
}
