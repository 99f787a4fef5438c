// Dead letters of one subscription: why each failed, where it came from,
// and replay (one, the next of its partition; or all pending) to that
// subscription's verb only, as `ftl pubsub replay-deadletter` does.
import { $, h, api, fillSelect, post, pretty, seg, store } from "./dom.js";
import { openTrace } from "./trace.js";

let loaded = null;

export function init() {
  const f = $("#dl-form");
  store.on("overview", (o) => {
    if (!o.subscriptions) return;
    const withDl = o.subscriptions.filter((s) => s.deadletters != null).map((s) => s.name);
    fillSelect(f.elements.subscription, withDl);
    // The selector and the table always show the same subscription.
    if (loaded !== null && f.elements.subscription.value !== loaded && !$("#view-deadletters").hidden) load();
    const s = o.subscriptions.find((s) => s.name === f.elements.subscription.value);
    $("#dl-stats").textContent = s ? `${s.deadletters} pending` : withDl.length ? "" : "no subscription has `deadletter: true`";
    if (s && loaded === null && !$("#view-deadletters").hidden) load();
  });
  f.elements.subscription.addEventListener("change", load);
  f.elements.all.addEventListener("change", load);
  $("#dl-refresh").addEventListener("click", load);
  $("#dl-replay-all").addEventListener("click", () => replay({}));
}

export function shown() {
  load();
}

/// Shows the dead letters of `name` (from the overview's button).
export function select(name) {
  const f = $("#dl-form");
  const known = store.overview?.subscriptions?.find((s) => s.name === name);
  if (known && known.deadletters == null) {
    const out = $("#dl-result");
    out.className = "result bad";
    out.textContent = `${name} has no dead-letter topic: add \`deadletter: true\` to it in its ftl.yaml`;
    document.getElementById("tab-deadletters").click();
    return;
  }
  fillSelect(f.elements.subscription, [...new Set([...[...f.elements.subscription.options].map((o) => o.value), name])]);
  f.elements.subscription.value = name;
  document.getElementById("tab-deadletters").click();
}

async function load() {
  const f = $("#dl-form");
  const sub = f.elements.subscription.value;
  const tbody = $("#dls tbody");
  if (!sub) { tbody.replaceChildren(); return; }
  loaded = sub;
  try {
    const items = await api(`/admin/subscriptions/${seg(sub)}/deadletters${f.elements.all.checked ? "?all=true" : ""}`);
    if (loaded !== sub) return;
    // The next pending one of each partition may be replayed alone.
    const next = new Map();
    for (const d of items) {
      if (d.replayed) continue;
      if (!next.has(d.partition) || d.offset < next.get(d.partition)) next.set(d.partition, d.offset);
    }
    const pending = items.filter((d) => !d.replayed).length;
    $("#dl-stats").textContent = `${pending} pending${f.elements.all.checked ? `, ${items.length - pending} replayed` : ""}`;
    $("#dl-replay-all").disabled = pending === 0;
    tbody.replaceChildren(...items.flatMap((d) => {
      const first = next.get(d.partition) === d.offset;
      const button = h("button", {
        type: "button",
        disabled: d.replayed || !first,
        title: d.replayed ? "replayed already" : first ? "hand this one back to the verb" : `replay in order: ${d.partition}@${next.get(d.partition)} comes first`,
        onclick: () => replay({ only: { partition: d.partition, offset: d.offset } }),
      }, d.replayed ? "replayed" : "Replay");
      const detail = h("tr", { hidden: true }, h("td", { colspan: 8 },
        d.invalid ? h("p", { class: "bad" }, `the event does not match its type: ${d.invalid}`) : null,
        h("pre", {}, pretty(d.event))));
      const toggle = h("button", { type: "button", "aria-expanded": "false", onclick: (e) => {
        detail.hidden = !detail.hidden;
        e.target.setAttribute("aria-expanded", String(!detail.hidden));
      } }, "Event");
      return [
        h("tr", { "data-at": `${d.partition}@${d.offset}` },
          h("td", {}, `${d.partition}@${d.offset}`),
          h("td", { class: "bad", title: d.error }, d.error),
          h("td", {}, d.attempts),
          h("td", { title: d.first_failed_at }, d.first_failed_at),
          h("td", { title: d.failed_at }, d.failed_at),
          h("td", { title: d.source_topic }, `${d.source_partition ?? "?"}@${d.source_offset ?? "?"}`),
          h("td", { title: d.key ?? "" }, d.key ?? "-"),
          h("td", {}, toggle, " ", button, " ", h("button", { type: "button", class: "trace-open", onclick: () => openTrace({ event: `${d.topic}@${d.partition}:${d.offset}` }) }, "Trace"))),
        detail,
      ];
    }));
  } catch (e) {
    tbody.replaceChildren(h("tr", {}, h("td", { colspan: 8, class: "bad" }, e.message)));
  }
}

async function replay(request) {
  const f = $("#dl-form");
  const sub = f.elements.subscription.value;
  const out = $("#dl-result");
  out.className = "result";
  out.textContent = "replaying…";
  try {
    const r = await post(`/admin/subscriptions/${seg(sub)}/replay-deadletter`, request);
    const text = await r.text();
    if (!r.ok) throw new Error(JSON.parse(text).error);
    let ok = 0, failed = 0, error = null;
    for (const line of text.split("\n").filter(Boolean)) {
      const p = JSON.parse(line);
      if (p.type === "item") p.replayed.outcome === "ok" ? ok++ : failed++;
      if (p.type === "failed") error = p.error;
    }
    if (error) throw new Error(error);
    out.className = failed ? "result bad" : "result ok";
    out.textContent = `replayed ${ok + failed}: ${ok} ok, ${failed} failed again${failed ? " (kept, with the new error)" : ""}`;
  } catch (e) {
    out.className = "result bad";
    out.textContent = e.message;
  }
  load();
}
