// Overview: the broker, the runner, each subscription (state, lag, the
// event in hand, counts, a rate graph) and each topic; replay from here.
import { $, h, ago, api, plural, postJson, seg, sparkline, store } from "./dom.js";
import { select as showDeadletters } from "./deadletters.js";

const HISTORY = 60; // seconds of rate graph
const rows = new Map(); // subscription -> { tr, cells, rates, last }
const topicRates = new Map(); // topic -> { events, at }
let replaying = null;

export function init() {
  store.on("status", renderStatus);
  store.on("overview", renderOverview);
  store.on("recent", (recent) => {
    for (const r of recent.events) activity(r.event, new Date(r.at_ms));
  });
  store.on("events", (batch) => {
    for (const e of batch.events) if (e.type !== "delivery") activity(e);
    if (batch.skipped) $("#runner-facts")?.querySelector("[data-k=skipped]")?.replaceChildren(String(store.skipped));
  });
  const form = $("#replay-form");
  form.addEventListener("change", preview);
  $("#replay-dialog").addEventListener("close", confirmReplay);
}

function facts(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([k, v, key]) => [h("dt", {}, k), h("dd", { "data-k": key || null }, v ?? "-")]));
}

function renderStatus(s) {
  const pill = $("#broker-pill");
  pill.textContent = s.broker.reachable ? `broker up: ${s.broker.address}` : "broker unreachable";
  pill.className = s.broker.reachable ? "pill ok" : "pill bad";
  facts($("#runner-facts"), [
    ["project", s.project],
    ["pid", s.pid],
    ["listening on", s.listen],
    ["subscriptions", Object.keys(s.subscriptions).length],
    ["events not streamed", String(store.skipped), "skipped"],
  ]);
  const tbody = $("#subs tbody");
  const now = Date.now();
  for (const [name, sub] of Object.entries(s.subscriptions)) {
    const row = rows.get(name) || addRow(tbody, name);
    const c = sub.counters;
    const total = c.ok + c.retried + c.dead_lettered + c.dropped + c.abandoned;
    if (row.last != null) row.rates.push(Math.max(0, total - row.last));
    row.last = total;
    while (row.rates.length > HISTORY) row.rates.shift();
    row.cells.name.lastChild.textContent = `${sub.topic} → ${sub.verb}`;
    // A gRPC verb not answering `Ping` yet: deliveries wait for it.
    const waiting = sub.state === "running" && sub.waiting_for_verb;
    const st = sub.state === "failed" ? `failed: ${sub.reason}` : waiting ? "waiting" : sub.state;
    row.cells.state.textContent = st;
    row.cells.state.className = sub.state === "running" && !waiting ? "ok" : sub.state === "failed" ? "bad" : "warn";
    row.cells.state.title = waiting ? `waiting for verb ${sub.verb}: ${sub.waiting_for_verb}` : st;
    const f = sub.in_flight[0];
    if (waiting && !f) {
      row.cells.flight.replaceChildren(h("span", { class: "warn" }, `waiting for verb ${sub.verb}`), h("span", { class: "sub-lags" }, sub.waiting_for_verb));
    } else {
      row.cells.flight.textContent = f
        ? `${f.partition}@${f.offset}${f.key ? ` ${f.key}` : ""} #${f.attempt} ${ago(now - f.since_ms)}` + (sub.in_flight.length > 1 ? ` +${sub.in_flight.length - 1}` : "")
        : "idle";
      // With key concurrency a partition has several events at the verb.
      const per = sub.in_flight_per_partition || [];
      if (per.some((c) => c.events > 1)) {
        row.cells.flight.append(h("span", { class: "sub-lags" }, `per partition ${per.map((c) => `${c.partition}:${c.events}`).join(" ")}`));
      }
    }
    row.cells.flight.title = sub.in_flight.map((f) => `partition ${f.partition} offset ${f.offset} key ${f.key ?? "-"} attempt ${f.attempt}, ${ago(now - f.since_ms)}`).join("\n");
    row.cells.counts.replaceChildren(h("span", { class: "ok" }, c.ok), " / ", h("span", { class: c.retried ? "warn" : "" }, c.retried), " / ", h("span", { class: c.dead_lettered ? "bad" : "" }, c.dead_lettered));
    const rate = row.rates.length ? row.rates[row.rates.length - 1] : 0;
    row.cells.rate.replaceChildren(sparkline(row.rates.length ? row.rates : [0]), h("span", { class: "sub-lags" }, `${rate}/s`));
  }
  for (const [name, row] of rows) {
    if (!(name in s.subscriptions)) { row.tr.remove(); rows.delete(name); }
  }
}

function addRow(tbody, name) {
  const cells = {
    name: h("td", { title: name }, name, h("span", { class: "sub-lags" }, "")),
    state: h("td"),
    lag: h("td", {}, "…"),
    flight: h("td"),
    counts: h("td"),
    rate: h("td"),
    actions: h("td", {},
      h("button", { type: "button", onclick: () => openReplay(name), "aria-label": `replay ${name}` }, "Replay…"), " ",
      h("button", { type: "button", "data-action": "deadletters", onclick: () => showDeadletters(name) }, "Dead letters")),
  };
  const tr = h("tr", { "data-sub": name }, ...Object.values(cells));
  const row = { tr, cells, rates: [], last: null };
  // Keep rows in name order.
  const after = [...rows.keys()].filter((n) => n < name).sort().pop();
  if (after) rows.get(after).tr.after(tr); else tbody.prepend(tr);
  rows.set(name, row);
  return row;
}

function renderOverview(o) {
  if (o.error) {
    facts($("#broker-facts"), [["error", o.error]]);
    return;
  }
  const b = o.broker;
  facts($("#broker-facts"), [
    ["kind", b.kind],
    ["address", b.address],
    ["container", b.container],
    ["image", b.image],
    ["up", b.uptime_s != null ? ago(b.uptime_s * 1000) : null],
  ]);
  for (const s of o.subscriptions) {
    const row = rows.get(s.name);
    if (!row) continue;
    const dl = row.cells.actions.querySelector("[data-action=deadletters]");
    dl.disabled = s.deadletters == null;
    dl.title = s.deadletters == null ? "no dead-letter topic: add `deadletter: true` to the subscription" : "";
    const per = Object.entries(s.lag).map(([p, l]) => `${p}:${l}`).join(" ");
    row.cells.lag.replaceChildren(
      h("span", { class: s.total_lag ? "warn" : "" }, `${s.total_lag}`),
      s.deadletters ? h("span", { class: "bad" }, ` · ${s.deadletters} dead`) : "",
      h("span", { class: "sub-lags", title: per }, per || "no partitions"),
    );
  }
  const tbody = $("#topics tbody");
  const now = o.at;
  tbody.replaceChildren(...o.topics.map((t) => {
    const prev = topicRates.get(t.name);
    const sum = t.end_offsets.reduce((a, b) => a + b, 0);
    const rate = prev && now > prev.at ? Math.round(((sum - prev.sum) * 1000) / (now - prev.at)) : 0;
    topicRates.set(t.name, { sum, at: now });
    const ends = t.end_offsets.map((e, p) => `${p}:${e}`).join(" ");
    return t.provisioned
      ? h("tr", {}, h("td", { title: t.name }, t.name), h("td", {}, t.partitions), h("td", {}, t.events), h("td", { title: ends }, ends), h("td", {}, rate))
      : h("tr", {}, h("td", {}, t.name), h("td", { colspan: 4, class: "warn" }, "not created yet"));
  }));
}

const list = (v) => (v && v.length ? v.join(", ") : "none");

/// An event of the runner as a sentence, as `ftl dev` prints it.
export function sentence(e) {
  switch (e.type) {
    case "starting": return `ftl dev started project ${e.project}: ${plural(e.modules, "module")}, ${plural(e.topics, "topic")}, ${plural(e.subscriptions, "subscription")}`;
    case "broker_ready": return `The ${e.kind} broker is ready on ${e.address} (${e.how}, ${e.ms} ms)`;
    case "topic_created": return `Topic ${e.topic} was created with ${plural(e.partitions, "partition")}`;
    case "topic_grown": return `Topic ${e.topic} grew from ${e.from} to ${plural(e.to, "partition")}`;
    case "topic_problem": return `Topic ${e.topic}: ${e.message}`;
    case "listening": return `The Publisher, admin API and console listen on ${e.address}`;
    case "listen_failed": return `Cannot listen on ${e.address}: ${e.reason}`;
    case "consumer_starting": return `${e.subscription} is starting: ${e.topic} → verb ${e.verb}`;
    case "consumer_started": return `${e.subscription} is consuming`;
    case "consumer_failed": return `${e.subscription} could not start: ${e.reason}`;
    case "consumer_stopped": return `${e.subscription} stopped (${e.why === "changed" ? "its definition changed" : e.why === "removed" ? "no longer declared" : "shutting down"})`;
    case "ready": return `ftl dev is ready: ${plural(e.subscriptions, "subscription")} running`;
    case "partitions_assigned": return `${e.subscription} was assigned partitions ${list(e.partitions)}`;
    case "partitions_revoked": return `${e.subscription} gave up partitions ${list(e.partitions)}`;
    case "verb_waiting": return `${e.subscription} is waiting for verb ${e.verb} at ${e.address}: ${e.reason}`;
    case "verb_ready": return `Verb ${e.verb} at ${e.address} is ready for ${e.subscription}`;
    case "replay_started": return `Replay of ${e.subscription} from ${e.from} started`;
    case "replay_done": return `Replay of ${e.subscription} done: ${plural(e.redelivered, "event")} to deliver again`;
    case "replay_failed": return `Replay of ${e.subscription} failed: ${e.reason}`;
    case "deadletter_replay_done": return `Dead letters of ${e.subscription} handed back to the verb: ${e.ok} succeeded, ${e.failed} failed again`;
    case "started_over": return `${e.topic} was created again (the broker lost it); ${e.subscription} delivers it from the start on partitions ${list(e.partitions)}`;
    case "broker_lost": return `The broker at ${e.address} was lost: ${e.reason}`;
    case "broker_regained": return `The broker at ${e.address} is back after ${ago(e.down_ms)}`;
    case "reload_applied": {
      const parts = [["started", e.started], ["restarted", e.restarted], ["stopped", e.stopped], ["failed to start", e.failed]]
        .filter(([, v]) => v && v.length).map(([k, v]) => `${k} ${v.join(", ")}`);
      return `The configuration was reloaded${parts.length ? `: ${parts.join("; ")}` : ""}`;
    }
    case "reload_rejected": return `An edit was refused (still running the last good configuration, ${plural(e.running, "subscription")}): ${e.problems.split("\n")[0].replace(/^error: /, "")}`;
    case "reload_valid": return e.changed ? "The edit is valid again; reloading" : "The edit is valid again and matches what runs";
    case "stopping": return "ftl dev is stopping";
    case "abandoned": return `${e.subscription}: an event still in hand after ${ago(e.grace_ms)} was abandoned; it comes again`;
    case "stopped": return "ftl dev stopped";
    case "lagged": return `The page missed ${plural(e.missed, "event")}`;
    case "publish_failed": return `A publish to ${e.topic} (by ${e.by}) failed: ${e.error}`;
    default: return e.type.replaceAll("_", " ");
  }
}

/// One line in Activity: an event of the runner (at `at`, else now), or
/// what the page did.
function activity(e, at = new Date()) {
  const log = $("#activity");
  const text = typeof e === "string" ? e : sentence(e);
  const full = typeof e === "string" ? e : e.type === "reload_rejected" ? e.problems : text;
  const bad = typeof e !== "string" && /failed|lost|rejected|problem|abandoned|started_over/.test(e.type);
  log.prepend(h("li", { class: bad ? "bad" : "", title: full, "data-type": typeof e === "string" ? null : e.type }, `${at.toTimeString().slice(0, 8)} ${text}`));
  while (log.children.length > 200) log.lastChild.remove();
}

// ------------------------------------------------------------- replay

function chosenFrom() {
  const form = $("#replay-form");
  const which = form.elements.from.value;
  if (which !== "time") return which;
  const t = form.elements.time.value;
  if (!t) return null;
  return { time: new Date(t).getTime() };
}

function openReplay(name) {
  replaying = name;
  $("#replay-title").textContent = `Replay ${name}`;
  const dlg = $("#replay-dialog");
  const t = $("#replay-form").elements.time;
  if (!t.value) t.value = new Date(Date.now() - 10 * 60000 - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 19);
  dlg.showModal();
  preview();
}

async function preview() {
  const out = $("#replay-preview");
  const ok = $("#replay-confirm");
  ok.disabled = true;
  const from = chosenFrom();
  if (from == null) { out.textContent = "choose a time"; return; }
  const q = typeof from === "string" ? from : String(from.time);
  out.textContent = "counting…";
  try {
    const p = await api(`/admin/subscriptions/${seg(replaying)}/replay-preview?from=${seg(q)}`);
    const verb = store.status?.subscriptions?.[replaying]?.verb ?? "its verb";
    out.textContent = p.redelivered === 0
      ? `Nothing to hand to ${verb} again: every partition moves to its end.`
      : `This hands ${p.redelivered} event${p.redelivered === 1 ? "" : "s"} to ${verb} again (${p.partitions.map((m) => `${m.partition}: ${m.offset}..${m.end}`).join(", ")}).`;
    ok.textContent = p.redelivered ? `Replay ${p.redelivered} event${p.redelivered === 1 ? "" : "s"}` : "Move to the end";
    ok.disabled = false;
  } catch (e) {
    out.textContent = e.message;
  }
}

async function confirmReplay() {
  const dlg = $("#replay-dialog");
  if (dlg.returnValue !== "confirm" || !replaying) return;
  const from = chosenFrom();
  try {
    const r = await postJson(`/admin/subscriptions/${seg(replaying)}/replay`, { from });
    activity(`console: replay of ${replaying} asked; ${r.redelivered} events to deliver again`);
  } catch (e) {
    activity({ type: "replay_failed", subscription: replaying, reason: e.message });
  }
}
