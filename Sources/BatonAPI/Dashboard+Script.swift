extension Dashboard {
    /// Shared script: calls to the API (token, ETags), times in one zone, badges,
    /// routing between the views, the poll.
    static let scriptCore = #"""
    const $ = (sel, root) => (root || document).querySelector(sel);
    // Where the API is: this page's directory, also when it was opened as /runs/RUN.
    const ROOT = location.pathname.replace(/runs\/[^/]*$/, "");
    const state = { local: localStorage.getItem("baton.zone") === "local", etags: new Map(), cache: new Map(), view: null, key: "" };
    function el(tag, attrs, ...kids) {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs || {})) {
        if (v == null || v === false) continue;
        if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
        else if (k === "text") e.textContent = v; else e.setAttribute(k, v === true ? "" : v);
      }
      for (const kid of kids) if (kid != null) e.append(kid instanceof Node ? kid : String(kid));
      return e;
    }
    function token() { return sessionStorage.getItem("baton.token"); }
    function headers(extra) {
      const h = Object.assign({ "X-Baton-Dashboard": "1" }, extra || {});
      if (token()) h["Authorization"] = "Bearer " + token();
      return h;
    }
    function needToken(message) {
      $("#token-form").hidden = false; $("#token-button").hidden = false;
      $("#error").textContent = message || "This baton needs its API token.";
      $("#token-input").focus();
    }
    // GET path as JSON; null when unchanged since the last read (304).
    async function read(path, fresh) {
      const h = headers();
      if (!fresh && state.etags.has(path)) h["If-None-Match"] = state.etags.get(path);
      const r = await fetch(ROOT + path, { headers: h, cache: "no-store" });
      if (r.status === 304) return null;
      const body = await r.json().catch(() => ({ error: "baton answered " + r.status + " without JSON" }));
      if (r.status === 401) { needToken(body.error); throw new Error(body.error); }
      if (!r.ok) throw new Error(body.error + (body.hint ? " (" + body.hint + ")" : ""));
      if (r.headers.get("ETag")) state.etags.set(path, r.headers.get("ETag"));
      state.cache.set(path, body);
      return body;
    }
    // An action: POST path; shows its outcome and redraws the view.
    async function act(path, done) {
      const out = $("#outcome");
      out.className = ""; out.textContent = "Working…";
      try {
        const r = await fetch(ROOT + path, { method: "POST", headers: headers(), cache: "no-store" });
        const body = await r.json().catch(() => ({}));
        if (r.status === 401) needToken(body.error);
        if (!r.ok) { out.className = "bad"; out.textContent = "Refused (" + r.status + "): " + body.error + (body.hint ? ". " + body.hint : ""); return; }
        out.className = "good"; out.textContent = done(body);
        state.etags.clear();
        await refresh();
      } catch (e) { out.className = "bad"; out.textContent = "Cannot reach baton: " + e.message; }
    }
    function confirmThen(text, then) {
      const d = $("#confirm");
      $("#confirm-text").textContent = text;
      d.returnValue = "";
      d.onclose = () => { if (d.returnValue === "yes") then(); };
      d.showModal();
    }
    const pad = n => String(n).padStart(2, "0");
    function when(text) {
      if (!text) return "";
      const d = new Date(text);
      if (isNaN(d)) return text;
      if (!state.local) return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    }
    function zoneName() { return state.local ? Intl.DateTimeFormat().resolvedOptions().timeZone || "local" : "UTC"; }
    function took(ms) {
      if (ms == null) return "";
      if (ms < 1000) return ms + "ms";
      const s = Math.round(ms / 1000);
      if (s < 60) return (ms / 1000).toFixed(1) + "s";
      if (s < 3600) return Math.floor(s / 60) + "m " + pad(s % 60) + "s";
      return Math.floor(s / 3600) + "h " + pad(Math.floor(s / 60) % 60) + "m";
    }
    const SYMBOL = { succeeded: "✓", failed: "✕", running: "▶", queued: "…", waiting: "‖", cancelled: "■", partial: "◐" };
    // A run's status as a badge: symbol and words, not colour alone.
    function badge(run) {
      let cls = run.status, text = run.status;
      if (run.failed_on_items) { cls = "items-failed"; text = "failed: " + run.counts.failed + " item" + (run.counts.failed === 1 ? "" : "s"); }
      else if (run.status === "waiting") text = "waiting for a driver";
      const b = el("span", { class: "status " + cls, "data-status": run.status }, (run.failed_on_items ? "⚠ " : (SYMBOL[run.status] || "") + " ") + text);
      if (run.status === "succeeded" && run.counts && run.counts.failed > 0) return el("span", {}, b, " ", el("span", { class: "status items-some" }, "⚠ " + run.counts.failed + " failed"));
      return b;
    }
    function runLink(id) { return el("a", { href: "#/runs/" + encodeURIComponent(id) }, id); }
    function table(headings, caption) {
      const t = el("table", {}, caption ? el("caption", { class: "note", style: "text-align:left" }, caption) : null);
      const tr = el("tr"); for (const h of headings) tr.append(el("th", { scope: "col", class: h.endsWith("#") ? "num" : null }, h.replace(/#$/, "")));
      t.append(el("thead", {}, tr)); const body = el("tbody"); t.append(body);
      return [el("div", { class: "scroll" }, t), body];
    }
    function cell(row, content, cls) { const td = row.insertCell(); if (cls) td.className = cls; if (content != null) td.append(content instanceof Node ? content : String(content)); return td; }
    function route() {
      const opened = location.pathname.match(/\/(runs\/[^/]+)$/);
      const path = location.hash || (opened ? "#/" + opened[1] : "#/runs");
      const [where, q] = path.slice(1).split("?");
      const params = new URLSearchParams(q || "");
      const m = where.match(/^\/runs\/([^/]+)$/);
      if (m) return { name: "run", id: decodeURIComponent(m[1]), params };
      if (where === "/jobs") return { name: "jobs", params };
      return { name: "runs", params };
    }
    async function refresh(fresh) {
      const r = route();
      const key = r.name + "?" + r.params + "/" + (r.id || "");
      const changed = key !== state.key;
      state.key = key;
      for (const a of document.querySelectorAll("nav a")) a.removeAttribute("aria-current");
      const nav = $(r.name === "jobs" ? "#nav-jobs" : "#nav-runs"); if (nav) nav.setAttribute("aria-current", "page");
      try {
        if (r.name === "run") await showRun(r.id, changed || fresh);
        else if (r.name === "jobs") await showJobs(r.params, changed || fresh);
        else await showRuns(r.params, changed || fresh);
        $("#updated").textContent = "Updated " + when(new Date().toISOString()) + " " + zoneName() + ".";
        $("#error").textContent = "";
        document.body.dataset.loaded = "true";
      } catch (e) {
        $("#error").textContent = "Cannot read from baton: " + e.message;
      }
    }
    function zoneButton() { const z = $("#zone"); z.textContent = "Times: " + zoneName(); z.setAttribute("aria-pressed", String(state.local)); }
    $("#zone").addEventListener("click", () => { state.local = !state.local; localStorage.setItem("baton.zone", state.local ? "local" : "utc"); zoneButton(); refresh(true); });
    $("#token-button").addEventListener("click", () => needToken("Enter the API token."));
    $("#token-form").addEventListener("submit", ev => {
      ev.preventDefault(); sessionStorage.setItem("baton.token", $("#token-input").value.trim()); $("#token-input").value = "";
      $("#token-form").hidden = true; $("#error").textContent = ""; state.etags.clear(); refresh(true);
    });
    window.addEventListener("hashchange", () => { $("#outcome").textContent = ""; refresh(true); });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
    zoneButton();
    refresh(true);
    // One light poll of the view on screen: a 304 when nothing changed.
    setInterval(() => { if (!document.hidden && !$("#confirm").open) refresh(); }, 2000);

    """#
}
