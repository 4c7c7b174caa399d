extension Dashboard {
    /// The runs list (filters, paging from the server) and the jobs view (next fires,
    /// last success and failure, an inline-SVG strip of the last 30 runs), with actions.
    static let scriptViews = #"""
    const STATUSES = ["queued", "running", "waiting", "succeeded", "failed", "cancelled", "partial"];
    function cancelButton(run) {
      if (["succeeded", "failed", "cancelled", "partial"].includes(run.status)) return null;
      return el("button", { type: "button", class: "danger", "data-action": "cancel", "aria-label": "Cancel run " + run.run_id,
        onclick: () => confirmThen("Cancel run " + run.run_id + " of " + run.job + "? Its slice gets SIGTERM and keeps its cursor.",
          () => act("runs/" + encodeURIComponent(run.run_id) + "/cancel", b => "Run " + b.run_id + ": cancel requested (" + b.status + ")")) }, "Cancel");
    }
    function retryButton(run) {
      if (!(run.counts && run.counts.failed > 0) || !["succeeded", "failed", "partial", "cancelled"].includes(run.status)) return null;
      if (run.retried_by && run.retried_by.length) return null;  // retried already: retry the retry
      return el("button", { type: "button", "data-action": "retry", "aria-label": "Retry the failed items of run " + run.run_id,
        onclick: () => act("runs/" + encodeURIComponent(run.run_id) + "/retry", b => "Retry started: run " + b.run_id + " (" + b.status + ")") }, "Retry");
    }
    function runsFilter(params) {
      const job = el("input", { name: "job", id: "filter-job", value: params.get("job") || "", size: 18, placeholder: "job name" });
      const status = el("select", { name: "status", id: "filter-status" }, el("option", { value: "" }, "any"));
      for (const s of STATUSES) status.append(el("option", { value: s, selected: params.get("status") === s }, s));
      const f = el("form", { class: "filters", role: "search", "aria-label": "filter runs" },
        el("label", {}, "job", job), el("label", {}, "status", status), el("button", { type: "submit" }, "Filter"));
      f.addEventListener("submit", ev => {
        ev.preventDefault();
        const q = new URLSearchParams(); if (job.value.trim()) q.set("job", job.value.trim()); if (status.value) q.set("status", status.value);
        location.hash = "#/runs" + (String(q) ? "?" + q : "");
      });
      status.addEventListener("change", () => f.requestSubmit());
      return f;
    }
    async function showRuns(params, fresh) {
      const q = new URLSearchParams(); q.set("limit", "50");
      for (const k of ["job", "status", "before"]) if (params.get(k)) q.set(k, params.get(k));
      const data = await read("runs?" + q, fresh);
      const view = $("#view");
      if (fresh || !$("#runs")) {
        view.replaceChildren(el("h2", {}, "Runs"), runsFilter(params), el("p", { class: "note", id: "runs-zone" }));
        const [wrap, body] = table(["run", "job (trigger)", "status", "started", "duration", "progress", "items#", "failed#", "why it ended", "actions"]);
        wrap.firstChild.id = "runs"; view.append(wrap, el("div", { class: "pager", id: "pager" }));
      }
      const body = data || state.cache.get("runs?" + q);
      if (!body) return;
      $("#runs-zone").textContent = "Newest first; start times in " + zoneName() + ".";
      const rows = $("#runs tbody"); rows.replaceChildren();
      if (!body.runs.length) { const r = rows.insertRow(); const c = cell(r, "No runs match."); c.colSpan = 10; }
      for (const run of body.runs) {
        const r = rows.insertRow(); r.dataset.run = run.run_id; r.dataset.status = run.status;
        if (run.status === "failed") r.className = "row-failed"; else if (run.status === "waiting") r.className = "row-waiting";
        cell(r, runLink(run.run_id)); cell(r, el("span", {}, run.job, " ", el("span", { class: "note" }, run.trigger))); cell(r, badge(run));
        cell(r, when(run.created_at)); cell(r, took(run.elapsed_ms));
        const p = el("progress", { max: 100 });
        if (run.percent != null) { p.value = run.percent; p.title = run.percent + "%"; }
        else if (run.status !== "running") p.value = 0;  // only live work animates
        cell(r, el("span", {}, p, " " + (run.percent != null ? run.percent + "%" : "")));
        cell(r, run.counts.processed, "num"); cell(r, run.counts.failed, "num");
        cell(r, run.end_reason || (run.eta_ms != null ? "ETA " + took(run.eta_ms) : ""), "wrap");
        cell(r, el("span", {}, cancelButton(run), " ", retryButton(run)));
      }
      const pager = $("#pager"); pager.replaceChildren();
      if (params.get("before")) pager.append(el("a", { href: "#/runs" + (params.get("job") || params.get("status") ? "?" + new URLSearchParams([...params].filter(([k]) => k !== "before")) : "") }, "⇤ Newest"));
      if (body.next_before) { const n = new URLSearchParams(params); n.set("before", body.next_before); pager.append(el("a", { href: "#/runs?" + n, id: "older" }, "Older →")); }
    }
    // The last runs as bars: height by duration, colour and shape by outcome.
    function strip(runs) {
      const w = 6, gap = 1, h = 22, max = Math.max(1, ...runs.map(r => r.duration_ms || 0));
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("class", "strip"); svg.setAttribute("width", 30 * (w + gap)); svg.setAttribute("height", h);
      svg.setAttribute("role", "img");
      const bad = runs.filter(r => r.status === "failed").length;
      svg.setAttribute("aria-label", "last " + runs.length + " runs, " + bad + " failed");
      runs.forEach((r, i) => {
        const bh = Math.max(3, Math.round((h - 2) * Math.sqrt((r.duration_ms || 0) / max)));
        const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
        const failed = r.status === "failed";
        rect.setAttribute("x", i * (w + gap)); rect.setAttribute("y", failed ? 0 : h - bh); rect.setAttribute("width", w);
        rect.setAttribute("height", failed ? h : bh);
        const colour = { succeeded: "#16a34a", failed: "#dc2626", running: "#2563eb", waiting: "#7c3aed", queued: "#94a3b8" }[r.status] || "#d97706";
        rect.setAttribute("fill", r.failed_items > 0 && !failed ? "#d97706" : colour);
        const t = document.createElementNS("http://www.w3.org/2000/svg", "title");
        t.textContent = r.run_id + ": " + r.status + (r.failed_items ? ", " + r.failed_items + " items failed" : "") + ", " + took(r.duration_ms);
        rect.append(t); svg.append(rect);
      });
      return svg;
    }
    async function showJobs(params, fresh) {
      const offset = Number(params.get("offset") || 0);
      const path = "jobs?history=30&limit=50&offset=" + offset;
      const data = await read(path, fresh);
      const body = data || state.cache.get(path);
      if (!body) return;
      const view = $("#view");
      const [wrap, rows] = table(["job", "schedule and zone", "next fires", "last success", "last failure", "last 30 runs", "actions"]);
      wrap.firstChild.id = "jobs";
      for (const j of body.jobs) {
        const r = rows.insertRow(); r.dataset.job = j.job; r.dataset.paused = j.paused;
        if (j.last_run && j.last_run.status === "failed") r.className = "row-failed";
        cell(r, j.job); cell(r, el("span", {}, el("code", {}, j.schedule), el("br"), el("span", { class: "note" }, j.tz)));
        if (j.paused) cell(r, el("span", { class: "status waiting" }, "‖ paused"));
        else cell(r, (j.next_fires || []).map(when).join("\n") || "-", "small").style.whiteSpace = "pre";
        const at = (x, cls) => el("a", { href: "#/runs/" + encodeURIComponent(x.run_id), title: x.run_id + (x.reason ? ": " + x.reason : ""), class: cls }, when(x.at));
        cell(r, j.last_success ? at(j.last_success) : "never", "small");
        cell(r, j.last_failure ? el("span", { class: "status failed" }, "✕ ", at(j.last_failure)) : "none", "small");
        cell(r, strip(j.recent || []));
        const pause = el("button", { type: "button", "data-action": j.paused ? "unpause" : "pause", "aria-label": (j.paused ? "Unpause " : "Pause ") + j.job,
          onclick: () => act("jobs/" + encodeURIComponent(j.job) + "/" + (j.paused ? "unpause" : "pause"), b => b.job + (b.paused ? " paused: it fires no more until unpaused" : " unpaused: it fires again from its next time")) }, j.paused ? "Unpause" : "Pause");
        const run = el("button", { type: "button", "data-action": "invoke", "aria-label": "Run " + j.job + " now",
          onclick: () => act("jobs/" + encodeURIComponent(j.job) + "/invoke", b => "Started run " + b.run_id + " of " + j.job + " (" + b.status + ")") }, "Run now");
        cell(r, el("span", {}, pause, " ", run, " ", el("a", { href: "#/runs?job=" + encodeURIComponent(j.job) }, "runs")));
      }
      const pager = el("div", { class: "pager" }, el("span", { class: "note" }, "Jobs " + (body.total ? offset + 1 : 0) + "–" + (offset + body.jobs.length) + " of " + body.total + "; times in " + zoneName() + " (each job's zone is listed)."));
      if (offset > 0) pager.append(el("a", { href: "#/jobs?offset=" + Math.max(0, offset - 50) }, "← Previous"));
      if (offset + body.jobs.length < body.total) pager.append(el("a", { href: "#/jobs?offset=" + (offset + 50) }, "Next →"));
      const focused = document.activeElement && document.activeElement.getAttribute("aria-label");
      view.replaceChildren(el("h2", {}, "Jobs"), pager, wrap);
      if (focused) for (const b of view.querySelectorAll("button")) if (b.getAttribute("aria-label") === focused) b.focus();
    }

    """#
}
