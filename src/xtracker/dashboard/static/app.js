// XTRACKER dashboard: theme, copy buttons, confirmations, and a fetch helper that sends the
// session's CSRF token. Values from user data are always set with textContent.
"use strict";
(function () {
  const saved = localStorage.getItem("xt-theme");
  const prefersLight = window.matchMedia && window.matchMedia("(prefers-color-scheme: light)").matches;
  document.documentElement.dataset.theme = saved || (prefersLight ? "light" : "dark");
})();

window.XT = {
  csrf() { return document.body.dataset.csrf || ""; },
  async api(method, url, body) {
    const headers = { "Accept": "application/json", "X-CSRF-Token": XT.csrf() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(url, { method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || res.statusText);
      err.status = res.status; err.data = data; throw err;
    }
    return data;
  },
  el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  },
  theme() { return document.documentElement.dataset.theme; },
};

document.addEventListener("DOMContentLoaded", () => {
  // A page answering a POST (a secret shown once, a form with errors) becomes a plain GET
  // history entry: reloading it never re-submits the form (no second rotation).
  if (document.body.dataset.canonicalUrl) history.replaceState(null, "", document.body.dataset.canonicalUrl);
  const toggle = document.getElementById("theme-toggle");
  if (toggle) toggle.addEventListener("click", () => {
    const next = XT.theme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("xt-theme", next);
    document.dispatchEvent(new CustomEvent("xt-theme", { detail: next }));
  });
  const copy = async (text, node) => {
    try { await navigator.clipboard.writeText(text); } catch (_) { /* not allowed: select */ }
    node.classList.add("copied"); setTimeout(() => node.classList.remove("copied"), 900);
  };
  document.querySelectorAll(".copy").forEach((node) =>
    node.addEventListener("click", () => copy(node.dataset.copy || node.textContent, node)));
  document.querySelectorAll(".copy-btn").forEach((btn) =>
    btn.addEventListener("click", () => {
      const target = document.getElementById(btn.dataset.target);
      if (target) copy(target.textContent, btn);
    }));
  document.querySelectorAll("form[data-confirm]").forEach((form) =>
    form.addEventListener("submit", (e) => { if (!confirm(form.dataset.confirm)) e.preventDefault(); }));
});
