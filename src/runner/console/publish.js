// Publish one JSON event through the runner's Publisher (`POST
// /topics/<module>.<topic>`): the same checks as `ftl pubsub publish`.
import { $, fillSelect, plural, post, seg, store } from "./dom.js";

export function init() {
  const f = $("#publish-form");
  store.on("overview", (o) => {
    if (!o.topics) return;
    fillSelect(f.elements.topic, o.topics.filter((t) => t.provisioned).map((t) => t.name));
    describe();
  });
  f.elements.topic.addEventListener("change", describe);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = $("#publish-result");
    const topic = f.elements.topic.value;
    const key = f.elements.key.value;
    out.className = "result";
    out.textContent = "publishing…";
    try {
      const r = await post(`/topics/${seg(topic)}${key ? `?key=${seg(key)}` : ""}`, f.elements.event.value, true);
      const body = await r.json();
      if (!r.ok) throw new Error(body.error + (body.hint ? `\nhint: ${body.hint}` : ""));
      out.className = "result ok";
      out.textContent = `published to ${body.topic} partition ${body.partition} offset ${body.offset}${body.key != null ? ` key ${body.key}` : ""}`;
    } catch (err) {
      out.className = "result bad";
      out.textContent = err.message;
    }
  });
}

function describe() {
  const f = $("#publish-form");
  const t = store.overview?.topics?.find((t) => t.name === f.elements.topic.value);
  $("#publish-key").textContent = t ? `${plural(t.partitions, "partition")}, ${plural(t.events, "event")}` : "";
}
