// Destinations: show only the fields of the chosen kind, and keep delivery counts live by
// polling the reports API (the same numbers as the deck and the CLI).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const kind = document.getElementById("dest-kind");
  const sync = () => document.querySelectorAll("#destination-form fieldset[data-kind]").forEach((fs) => {
    const on = fs.dataset.kind === kind.value;
    fs.hidden = !on; fs.disabled = !on;
  });
  if (kind) { kind.addEventListener("change", sync); sync(); }

  const box = document.querySelector("[data-live-deliveries]");
  if (!box) return;
  const pct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(1) + "%");
  async function poll() {
    try {
      const data = await XT.api("GET", box.dataset.liveDeliveries);
      for (const d of data.destinations) {
        const row = document.querySelector(`tr[data-destination="${CSS.escape(d.destination_id)}"]`);
        if (!row) continue;
        const set = (key, value) => { const c = row.querySelector(`[data-stat="${key}"]`); if (c) c.textContent = value; };
        set("pending", d.pending + d.sending); set("sent", d.sent); set("retrying", d.retrying);
        set("failed_permanently", d.failed_permanently); set("success_rate", pct(d.success_rate));
        set("latency", d.latency_ms_avg === null ? "–" : Math.round(d.latency_ms_avg) + " ms");
        const circuit = row.querySelector('[data-stat="circuit"] .badge');
        if (circuit) circuit.textContent = d.circuit.state;
      }
    } catch (e) { console.warn("deliveries:", e); }
  }
  setInterval(poll, 3000);
});
