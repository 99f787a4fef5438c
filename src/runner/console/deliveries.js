// Live deliveries: one row per delivery outcome as the stream brings them,
// filtered; a bounded number kept. A row opens the event as the topic holds
// it, its headers and what the verb said.
import { $, h, api, clock, outcomeClass, pretty, seg, store } from "./dom.js";
import { openTrace } from "./trace.js";

const KEPT = 1000; // outcomes remembered
const SHOWN = 200; // rows in the table
const kept = []; // newest last
let selected = null;
let total = 0;

export function init() {
  store.on("events", (batch) => {
    const now = new Date();
    const fresh = [];
    for (const e of batch.events) {
      if (e.type !== "delivery") continue;
      const d = { ...e, at: clock(now), id: `${e.subscription}/${e.partition}/${e.offset}/${e.attempt}/${total++}` };
      kept.push(d);
      fresh.push(d);
    }
    if (kept.length > KEPT) kept.splice(0, kept.length - KEPT);
    if (!form().elements.paused.checked) prepend(fresh);
    stats();
  });
  const f = form();
  f.addEventListener("input", rebuild);
  f.addEventListener("submit", (e) => e.preventDefault());
  $("#deliveries tbody").addEventListener("keydown", (e) => {
    const tr = e.target.closest("tr");
    if (!tr) return;
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(tr); }
    if (e.key === "ArrowDown") { e.preventDefault(); tr.nextElementSibling?.focus(); }
    if (e.key === "ArrowUp") { e.preventDefault(); tr.previousElementSibling?.focus(); }
  });
  $("#deliveries tbody").addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (tr) open(tr);
  });
}

const form = () => $("#delivery-filters");

function matches(d) {
  const f = form().elements;
  const has = (value, text) => !text || (value ?? "").toLowerCase().includes(text.toLowerCase());
  const result = f.result.value;
  return has(d.subscription.split(".")[0], f.module.value)
    && has(d.topic, f.topic.value)
    && has(d.subscription, f.subscription.value)
    && has(d.key, f.key.value)
    && (!result || (result === "failed" ? d.outcome !== "ok" : d.outcome === result));
}

function row(d) {
  return h("tr", { tabindex: 0, "data-id": d.id, "aria-selected": d.id === selected ? "true" : "false" },
    h("td", {}, d.at),
    h("td", { title: d.subscription }, d.subscription),
    h("td", {}, `${d.partition}@${d.offset}`),
    h("td", { title: d.key ?? "" }, d.key ?? "-"),
    h("td", { title: d.verb }, d.verb),
    h("td", {}, d.attempt),
    h("td", {}, d.ms),
    h("td", { title: d.published_at ?? "" }, d.since_published_ms != null ? `${d.since_published_ms} ms` : "-"),
    h("td", { class: outcomeClass(d.outcome), title: d.error ?? "" }, d.outcome));
}

function prepend(fresh) {
  const tbody = $("#deliveries tbody");
  const rows = fresh.filter(matches).reverse().map(row);
  if (!rows.length) return;
  tbody.prepend(...rows.slice(0, SHOWN));
  while (tbody.children.length > SHOWN) tbody.lastChild.remove();
}

function rebuild() {
  const tbody = $("#deliveries tbody");
  const rows = [];
  for (let i = kept.length - 1; i >= 0 && rows.length < SHOWN; i--) {
    if (matches(kept[i])) rows.push(row(kept[i]));
  }
  tbody.replaceChildren(...rows);
  stats();
}

function stats() {
  const shown = $("#deliveries tbody").children.length;
  $("#delivery-stats").textContent = `${shown} shown · ${kept.length} kept · ${store.skipped} not streamed (sampled under load; counts stay exact in Overview)`;
}

async function open(tr) {
  const d = kept.find((k) => k.id === tr.dataset.id);
  if (!d) return;
  selected = d.id;
  for (const r of tr.parentElement.children) r.setAttribute("aria-selected", r === tr ? "true" : "false");
  const pane = $("#delivery-detail");
  const parts = [
    h("h3", {}, `${d.subscription} · ${d.partition}@${d.offset} · attempt ${d.attempt}`),
    h("p", { class: outcomeClass(d.outcome) }, `${d.outcome} in ${d.ms} ms${d.retry_in_ms != null ? `, next attempt in ${d.retry_in_ms} ms` : ""}${d.deadletter_topic ? `, to ${d.deadletter_topic}` : ""}`),
  ];
  if (d.request_key) {
    parts.push(h("h3", {}, "request"), h("p", {}, h("code", {}, d.request_key), " ",
      h("button", { type: "button", class: "trace-open", onclick: () => openTrace({ key: d.request_key }) }, "Trace")));
  }
  if (d.error) parts.push(h("h3", {}, "error"), h("pre", { class: "bad" }, d.error));
  if (d.output) parts.push(h("h3", {}, "verb output"), h("pre", {}, d.output));
  const eventBox = h("pre", { class: "muted" }, "reading the event…");
  parts.push(h("h3", {}, "event"), eventBox);
  pane.replaceChildren(...parts);
  try {
    const [rec] = await api(`/admin/topics/${seg(d.topic)}/events?from=${d.offset}&partition=${d.partition}&limit=1`);
    if (selected !== d.id) return;
    if (!rec || rec.offset !== d.offset) { eventBox.textContent = "no longer in the topic"; return; }
    eventBox.className = "";
    eventBox.textContent = pretty(rec.event);
    if (rec.invalid) eventBox.before(h("p", { class: "bad" }, `does not match its type: ${rec.invalid}`));
    pane.append(h("h3", {}, "key"), h("pre", {}, rec.key ?? "(none)"),
      h("h3", {}, "headers"), h("pre", {}, Object.keys(rec.headers).length ? pretty(rec.headers) : "(none)"),
      h("h3", {}, "time"), h("pre", {}, rec.time ?? "-"));
  } catch (e) {
    eventBox.textContent = e.message;
  }
}
