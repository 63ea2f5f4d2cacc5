// The ops deck. Every number comes from the reports API (/api/spaces/{space}/reports/...),
// the same one the CLI and integrations read; this file only draws it. Every value from user
// data goes into the page with textContent (never innerHTML).
"use strict";

(function () {
  const cfg = JSON.parse(document.getElementById("deck-config").textContent);
  const $ = (id) => document.getElementById(id);
  const STEP_LABEL = { click: "Click", contact: "Contact", subscribed: "Subscribed",
    registration: "Registration", deposit: "Deposit" };
  const EVENT_COLORS = { clicks: "#64748b", contact: "#60a5fa", subscribed: "#a78bfa",
    registration: "#f59e0b", deposit: "#22c55e", revenue: "#4f8cff" };
  const state = { preset: "7d", start: "", end: "", link: "", campaign: "",
    metric: "clicks", group: "link", sort: "revenue_cents", order: "desc" };
  const charts = {};
  const linkNames = Object.fromEntries(cfg.links.map((l) => [l.id, l.name]));
  let funnel = null;
  let gaugeIndex = 0;
  let worldReady = null;

  const pct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(1) + "%");
  const int = (n) => Number(n || 0).toLocaleString("en-US");
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

  function params(extra) {
    const p = new URLSearchParams({ preset: state.preset });
    if (state.preset === "custom") { p.set("start", state.start); if (state.end) p.set("end", state.end); }
    if (state.link) p.set("link", state.link);
    if (state.campaign) p.set("campaign", state.campaign);
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return p.toString();
  }
  const bucket = () => (["today", "yesterday"].includes(state.preset) ? "hour" : "day");
  const report = (name, extra) => XT.api("GET", `${cfg.api}/reports/${name}?${params(extra)}`);

  function chart(id) {
    if (!window.echarts) return null;
    if (!charts[id]) charts[id] = echarts.init($(id), XT.theme() === "dark" ? "dark" : null,
      { renderer: "canvas" });
    return charts[id];
  }
  function resetCharts() {
    for (const id of Object.keys(charts)) { charts[id].dispose(); delete charts[id]; }
  }
  const base = () => ({ backgroundColor: "transparent", textStyle: { color: css("--text") },
    animationDuration: 400 });

  // funnel and KPIs --------------------------------------------------------------------
  function drawFunnel(data) {
    funnel = data;
    const steps = data.steps;
    for (const s of steps) $("kpi-" + s.step).textContent = int(s.count);
    $("kpi-revenue").textContent = `${data.revenue.amount} ${data.revenue.currency}`;
    $("kpi-epc").textContent = data.epc;
    $("range-label").textContent = `${new Date(data.range.start_ms).toLocaleDateString()} – ` +
      `${new Date(data.range.end_ms - 1).toLocaleDateString()} · ${data.range.timezone}`;
    const body = $("funnel-table").querySelector("tbody");
    body.replaceChildren();
    for (const s of steps) {
      const tr = XT.el("tr", { "data-step": s.step, class: s.biggest_cliff ? "cliff" : "" });
      tr.append(XT.el("td", {}, STEP_LABEL[s.step] + (s.biggest_cliff ? "  ⚠ biggest cliff" : "")),
        XT.el("td", { class: "num count" }, int(s.count)),
        XT.el("td", { class: "num" }, pct(s.rate_from_previous)),
        XT.el("td", { class: "num" }, s.step === "click" ? "–" : int(s.drop_off)),
        XT.el("td", { class: "num" }, pct(s.rate_from_click)));
      body.append(tr);
    }
    $("cliff-label").textContent = data.biggest_cliff
      ? `Biggest cliff: → ${STEP_LABEL[data.biggest_cliff]}` : "";
    const c = chart("chart-funnel");
    if (!c) return;
    const max = Math.max(1, ...steps.map((s) => s.count));
    c.setOption({ ...base(), tooltip: { trigger: "item", formatter: (p) =>
        `${p.name}: ${int(p.value)}${p.data.rate ? " (" + p.data.rate + " of previous)" : ""}` },
      series: [{ type: "funnel", sort: "none", min: 0, max, left: "4%", width: "62%", gap: 2,
        minSize: "4%", label: { show: true, position: "right", color: css("--text"),
          formatter: (p) => `${p.name}  ${int(p.value)}${p.data.rate ? "  · " + p.data.rate : ""}` },
        labelLine: { show: true, length: 12, lineStyle: { color: css("--line") } },
        data: steps.map((s) => ({ name: STEP_LABEL[s.step], value: s.count,
          rate: s.step === "click" ? "" : pct(s.rate_from_previous),
          itemStyle: { color: s.biggest_cliff ? "#ef4444" : EVENT_COLORS[s.step === "click" ? "clicks" : s.step],
            borderColor: s.biggest_cliff ? "#fecaca" : "transparent", borderWidth: s.biggest_cliff ? 2 : 0 } })) }] }, true);
  }

  // cycling gauge: the step ratios the funnel report gives -----------------------------
  function gaugeRatios() {
    if (!funnel) return [];
    const by = Object.fromEntries(funnel.steps.map((s) => [s.step, s]));
    return [
      ["Click → contact", by.contact.rate_from_previous],
      ["Click → subscribed", by.subscribed.rate_from_click],
      ["Contact → subscribed", by.subscribed.rate_from_previous],
      ["Subscribed → registration", by.registration.rate_from_previous],
      ["Registration → deposit", by.deposit.rate_from_previous],
      ["Click → deposit", by.deposit.rate_from_click],
    ];
  }
  function drawGauge() {
    const ratios = gaugeRatios();
    if (!ratios.length) return;
    const [label, value] = ratios[gaugeIndex % ratios.length];
    $("gauge-label").textContent = `${(gaugeIndex % ratios.length) + 1}/${ratios.length}`;
    const c = chart("chart-gauge");
    if (!c) return;
    const v = value === null || value === undefined ? 0 : value * 100;
    c.setOption({ ...base(), series: [{ type: "gauge", min: 0, max: 100, radius: "92%",
      progress: { show: true, width: 14, itemStyle: { color: "#4f8cff" } },
      axisLine: { lineStyle: { width: 14 } }, pointer: { show: false },
      axisTick: { show: false }, splitLine: { length: 8, lineStyle: { width: 1 } },
      axisLabel: { distance: 18, fontSize: 10 },
      title: { offsetCenter: [0, "62%"], fontSize: 13, color: css("--muted") },
      detail: { valueAnimation: true, offsetCenter: [0, "10%"], fontSize: 30, fontWeight: 700,
        formatter: value === null || value === undefined ? "–" : "{value}%", color: css("--text") },
      data: [{ value: Number(v.toFixed(1)), name: label }] }] });
  }

  // revenue and waveform ---------------------------------------------------------------
  function drawTimeseries(data) {
    $("ts-bucket").textContent = `per ${data.bucket} · ${data.currency}`;
    const c = chart("chart-timeseries");
    if (!c) return;
    const x = data.points.map((p) => p.label.replace("T", " ").slice(0, data.bucket === "hour" ? 16 : 10));
    const line = (key, name) => ({ name, type: "line", smooth: 0.35, showSymbol: false,
      data: data.points.map((p) => p[key]), lineStyle: { width: 1.6, color: EVENT_COLORS[key] },
      itemStyle: { color: EVENT_COLORS[key] }, areaStyle: { opacity: 0.08, color: EVENT_COLORS[key] } });
    c.setOption({ ...base(), tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: { color: css("--muted") } },
      grid: { left: 48, right: 56, top: 34, bottom: 28 },
      xAxis: { type: "category", data: x, axisLabel: { color: css("--muted") } },
      yAxis: [{ type: "value", name: "events", splitLine: { lineStyle: { color: css("--line") } } },
        { type: "value", name: data.currency, splitLine: { show: false } }],
      series: [{ name: "Revenue", type: "bar", yAxisIndex: 1, barMaxWidth: 18,
        data: data.points.map((p) => Number(p.revenue)), itemStyle: { color: "rgba(79,140,255,.45)" } },
        line("clicks", "Clicks"), line("contact", "Contact"), line("subscribed", "Subscribed"),
        line("registration", "Registration"), line("deposit", "Deposit")] }, true);
  }

  // world map ----------------------------------------------------------------------------
  function fixAntimeridian(geo) {
    const fixRing = (ring) => {
      let jump = false;
      for (let i = 1; i < ring.length; i++) if (Math.abs(ring[i][0] - ring[i - 1][0]) > 180) jump = true;
      return jump ? ring.map(([lon, lat]) => [lon < 0 ? lon + 360 : lon, lat]) : ring;
    };
    for (const f of geo.features) {
      const g = f.geometry;
      if (!g) continue;
      if (g.type === "Polygon") g.coordinates = g.coordinates.map(fixRing);
      if (g.type === "MultiPolygon") g.coordinates = g.coordinates.map((p) => p.map(fixRing));
    }
    return geo;
  }
  function loadWorld() {
    if (!worldReady) worldReady = fetch(cfg.world, { credentials: "same-origin" })
      .then((r) => r.json()).then((topo) => {
        const geo = fixAntimeridian(topojson.feature(topo, topo.objects.countries));
        echarts.registerMap("world", geo);
      });
    return worldReady;
  }
  async function drawMap(data) {
    if (!window.echarts || !window.topojson) return;
    await loadWorld();
    const c = chart("chart-map");
    const rows = data.rows.filter((r) => r.country);
    const max = Math.max(1, ...rows.map((r) => r.value));
    c.setOption({ ...base(), tooltip: { trigger: "item", formatter: (p) =>
        `${p.name}: ${p.value === undefined || isNaN(p.value) ? 0 : p.value.toLocaleString("en-US")}` },
      visualMap: { min: 0, max, left: 8, bottom: 8, calculable: true, itemHeight: 90,
        inRange: { color: ["#1e3a8a", "#3b82f6", "#22c55e", "#facc15"] }, textStyle: { color: css("--muted") } },
      series: [{ type: "map", map: "world", nameProperty: "iso2", roam: true, zoom: 1.15,
        itemStyle: { areaColor: css("--panel-2"), borderColor: css("--line") },
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#f97316" } },
        data: rows.map((r) => ({ name: r.country, value: r.value })) }] }, true);
  }

  // deliveries ---------------------------------------------------------------------------
  function drawDeliveries(data) {
    const body = $("delivery-table").querySelector("tbody");
    body.replaceChildren();
    $("delivery-empty").hidden = data.destinations.length > 0;
    for (const d of data.destinations) {
      const tr = XT.el("tr", { "data-destination": d.destination_id });
      const name = XT.el("td");
      name.append(XT.el("span", {}, d.name), XT.el("span", { class: "muted small" }, " " + d.kind));
      const circuit = XT.el("td");
      circuit.append(XT.el("span", { class: "badge " + (d.circuit.state === "closed" ? "ok" :
        d.circuit.state === "open" ? "bad" : "warn") }, d.circuit.state));
      const err = XT.el("td", { class: "small error-cell", title: d.last_error || "" },
        d.last_error || "");
      const act = XT.el("td");
      if (cfg.canChange && d.failed_permanently > 0) {
        const b = XT.el("button", { type: "button", class: "small replay" }, "Replay failed");
        b.addEventListener("click", async () => {
          b.disabled = true;
          const note = $("delivery-note");
          try {
            const r = await XT.api("POST", cfg.replay.replace("{id}", encodeURIComponent(d.destination_id)), {});
            note.textContent = `Replayed ${r.replayed} failed deliveries of ${d.name} (same event_id).`;
            refresh();
          } catch (e) { note.textContent = e.message; b.disabled = false; }
        });
        act.append(b);
      }
      tr.append(name, XT.el("td", { class: "num" }, int(d.pending + d.sending)),
        XT.el("td", { class: "num sent" }, int(d.sent)), XT.el("td", { class: "num" }, int(d.retrying)),
        XT.el("td", { class: "num failed" }, int(d.failed_permanently)),
        XT.el("td", { class: "num" }, pct(d.success_rate)),
        XT.el("td", { class: "num" }, d.latency_ms_avg === null ? "–" : Math.round(d.latency_ms_avg) + " ms"),
        circuit, err, act);
      body.append(tr);
    }
  }

  // attribution ----------------------------------------------------------------------------
  function rowName(r) {
    if (state.group === "link") return r.link_name || r.link_slug || "(no link)";
    if (state.group === "ad") return [r.ad_name || r.ad_id || "(no ad)", r.campaign_name].filter(Boolean).join(" · ");
    return r.campaign_name || r.campaign_id || "(no campaign)";
  }
  function attrRow(r, tag) {
    const tr = XT.el("tr", { "data-key": r.key || "" });
    const cell = (v, cls) => XT.el(tag, { class: "num " + (cls || "") }, v);
    tr.append(XT.el(tag, { class: "name" }, tag === "th" ? "Total" : rowName(r)),
      cell(int(r.clicks), "clicks"), cell(int(r.contact), "contact"), cell(int(r.subscribed), "subscribed"),
      cell(int(r.registration), "registration"), cell(int(r.deposit), "deposit"),
      cell(r.revenue, "revenue"), cell(pct(r.click_to_contact)), cell(pct(r.subscribed_to_registration)),
      cell(pct(r.registration_to_deposit)), cell(r.epc, "epc"));
    return tr;
  }
  function drawAttribution(data) {
    const body = $("attr-table").querySelector("tbody");
    body.replaceChildren(...data.rows.map((r) => attrRow(r, "td")));
    $("attr-table").querySelector("tfoot").replaceChildren(attrRow(data.totals, "th"));
    document.querySelectorAll("#attr-table th.sortable").forEach((th) => {
      th.classList.remove("sorted-asc", "sorted-desc");
      if (th.dataset.key === state.sort) th.classList.add("sorted-" + state.order);
    });
    $("attr-csv").href = `${cfg.api}/reports/attribution?${params({ ...attrParams(), format: "csv" })}`;
  }
  const attrParams = () => ({ group_by: state.group,
    sort: state.sort === "name" ? (state.group === "link" ? "link_name" : state.group + "_name") : state.sort,
    order: state.order });

  // alerts (the monitoring capability's API) -------------------------------------------
  function drawAlerts(data) {
    const list = $("alerts-list");
    list.replaceChildren();
    const items = [...data.firing, ...data.pending, ...data.history.slice(0, 5)];
    $("alerts-empty").hidden = items.length > 0;
    for (const a of items) {
      const li = XT.el("li", { class: "alert-" + a.state, "data-rule": a.rule });
      const when = a.resolved_at_ms || a.fired_at_ms || a.started_at_ms;
      const badge = a.state === "firing" ? "bad" : a.state === "pending" ? "warn" : "muted";
      li.append(XT.el("span", { class: "t" }, new Date(when).toLocaleTimeString([], { hour12: false })),
        XT.el("span", { class: "badge " + badge }, a.state),
        XT.el("span", { title: a.summary }, a.title), XT.el("span"));
      list.append(li);
    }
  }

  // Telegram channel stats (hourly joins, leaves, members) ---------------------------------
  function drawChannels(channels) {
    $("channel-empty").hidden = channels.length > 0;
    $("chart-channel").hidden = channels.length === 0;
    if (!channels.length) return;
    const c = chart("chart-channel");
    if (!c) return;
    const hours = channels[0].points.map((p) => new Date(p.hour_ms).toLocaleString([], {
      month: "2-digit", day: "2-digit", hour: "2-digit", hour12: false }));
    const series = [];
    for (const ch of channels) {
      series.push({ name: `${ch.title}: attributed joins`, type: "bar", stack: ch.chat_id,
        data: ch.points.map((p) => p.attributed), itemStyle: { color: "#22c55e" } });
      series.push({ name: `${ch.title}: organic joins`, type: "bar", stack: ch.chat_id,
        data: ch.points.map((p) => p.organic), itemStyle: { color: "#60a5fa" } });
      series.push({ name: `${ch.title}: leaves`, type: "bar", stack: ch.chat_id,
        data: ch.points.map((p) => -p.leaves), itemStyle: { color: "#ef4444" } });
      series.push({ name: `${ch.title}: members`, type: "line", yAxisIndex: 1, showSymbol: false,
        connectNulls: true, data: ch.points.map((p) => p.member_count), lineStyle: { color: "#f59e0b" } });
    }
    // Channel titles are user data: the tooltip renders as canvas text, never as HTML.
    c.setOption({ ...base(), tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0, textStyle: { color: css("--muted") } },
      grid: { left: 48, right: 56, top: 34, bottom: 28 },
      xAxis: { type: "category", data: hours, axisLabel: { color: css("--muted") } },
      yAxis: [{ type: "value", splitLine: { lineStyle: { color: css("--line") } } },
        { type: "value", name: "members", splitLine: { show: false }, scale: true }], series }, true);
  }

  // loading --------------------------------------------------------------------------------
  async function refresh() {
    const view = params();
    const jobs = [
      report("funnel").then((d) => { drawFunnel(d); drawGauge(); }),
      report("timeseries", { bucket: bucket() }).then(drawTimeseries),
      report("countries", { metric: state.metric }).then(drawMap),
      report("deliveries").then(drawDeliveries),
      report("attribution", attrParams()).then(drawAttribution),
    ];
    if (cfg.alerts) jobs.push(XT.api("GET", cfg.alerts).then(drawAlerts));
    if (cfg.channelStats) jobs.push(XT.api("GET", cfg.channelStats).then(drawChannels));
    const results = await Promise.allSettled(jobs);
    for (const r of results) if (r.status === "rejected") console.warn("deck:", r.reason);
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
    document.body.dataset.view = view;  // which filters the numbers on screen are for
  }
  let pending = null;
  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh(); }, 1500);
  }

  // live feed (Server-Sent Events; the browser resumes with Last-Event-ID) --------------
  let source = null;
  let retry = 1000;
  let downTimer = null;
  const shown = new Set();
  function feedItem(item) {
    const li = XT.el("li", { class: "fresh", "data-id": item.id, "data-kind": item.kind });
    const what = item.kind === "click" ? "click" : item.event;
    const where = [linkNames[item.link_id] || "", item.country || "", item.ad_name || item.campaign_name || ""]
      .filter(Boolean).join(" · ");
    li.append(XT.el("span", { class: "t" }, new Date(item.ts_ms).toLocaleTimeString([], { hour12: false })),
      XT.el("span", { class: "ev-" + what }, what),
      XT.el("span", { class: "small" }, where || (item.uid || "")),
      XT.el("span", { class: "v" }, item.value ? `${item.value} ${item.currency || ""}` : ""));
    return li;
  }
  function setLive(up) {
    $("live-dot").className = up ? "dot live" : "dot down";
    $("live-state").textContent = up ? "live" : "reconnecting…";
  }
  // The server ends each stream after a few seconds and the browser reconnects at once,
  // resuming after the last item (Last-Event-ID); only a gap that lasts is shown as down.
  function connect() {
    source = new EventSource(cfg.live);
    source.onopen = () => { clearTimeout(downTimer); downTimer = null; setLive(true); retry = 1000; };
    source.addEventListener("item", (e) => {
      const item = JSON.parse(e.data);
      if (shown.has(item.id)) return;
      shown.add(item.id);
      const list = $("live-feed");
      list.prepend(feedItem(item));
      while (list.children.length > 100) list.lastChild.remove();
      $("live-empty").hidden = true;
      $("live-count").textContent = `${list.children.length} shown`;
      refreshSoon();
    });
    source.onerror = () => {
      if (!downTimer) downTimer = setTimeout(() => setLive(false), 2500);
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 15000);
      }
    };
  }

  // filters --------------------------------------------------------------------------------
  function bind() {
    document.querySelectorAll(".preset").forEach((b) => b.addEventListener("click", () => {
      document.querySelectorAll(".preset").forEach((x) => x.classList.toggle("on", x === b));
      state.preset = b.dataset.preset;
      $("custom-range").hidden = state.preset !== "custom";
      if (state.preset !== "custom") refresh();
    }));
    $("f-apply").addEventListener("click", () => {
      state.start = $("f-start").value; state.end = $("f-end").value;
      if (state.start) refresh();
    });
    $("f-link").addEventListener("change", (e) => { state.link = e.target.value; refresh(); });
    let typing = null;
    $("f-campaign").addEventListener("input", (e) => {
      clearTimeout(typing);
      typing = setTimeout(() => { state.campaign = e.target.value.trim(); refresh(); }, 400);
    });
    $("map-metric").addEventListener("change", (e) => {
      state.metric = e.target.value;
      report("countries", { metric: state.metric }).then(drawMap);
    });
    $("attr-group").addEventListener("change", (e) => {
      state.group = e.target.value;
      report("attribution", attrParams()).then(drawAttribution);
    });
    document.querySelectorAll("#attr-table th.sortable").forEach((th) => th.addEventListener("click", () => {
      const key = th.dataset.key;
      state.order = state.sort === key && state.order === "desc" ? "asc" : "desc";
      state.sort = key;
      report("attribution", attrParams()).then(drawAttribution);
    }));
    window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
    document.addEventListener("xt-theme", () => { resetCharts(); refresh(); });
  }

  function start() {
    bind();
    refresh();
    connect();
    setInterval(() => { gaugeIndex += 1; drawGauge(); }, 4000);
    setInterval(refresh, 30000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
