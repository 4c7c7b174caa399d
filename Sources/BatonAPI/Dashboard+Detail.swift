extension Dashboard {
    /// A run's story: why it ended, counts, usage, trigger and payload summary, every
    /// slice and attempt with its log on demand (shown as text, capped by the server),
    /// failed and unknown items with their errors, links to retries.
    static let scriptDetail = #"""
    const openLogs = new Set();
    function fact(dl, name, value) { if (value == null || value === "") return; dl.append(el("dt", {}, name), el("dd", {}, value)); }
    async function showLog(runId, s, target) {
      const key = runId + "/" + s.slice + "/" + s.attempt;
      openLogs.add(key);
      target.replaceChildren(el("span", { class: "note" }, "Loading log…"));
      try {
        const log = await read("runs/" + encodeURIComponent(runId) + "/slices/" + s.slice + "/" + s.attempt + "/log", true);
        target.replaceChildren(
          el("p", { class: "note" }, log.capped ? "Last " + log.log.length.toLocaleString("en") + " characters of " + log.bytes.toLocaleString("en") + " bytes:" : "Log of slice " + s.slice + " attempt " + s.attempt + ":"),
          el("pre", { class: "log", "data-log": key, tabindex: "0", "aria-label": "log of slice " + s.slice + " attempt " + s.attempt }, log.log || "(empty)"));
      } catch (e) { target.textContent = "Cannot read the log: " + e.message; }
    }
    async function showRun(id, fresh) {
      const path = "runs/" + encodeURIComponent(id);
      const data = await read(path, fresh);
      if (!data) return;
      const run = data;
      const view = $("#view");
      const focused = document.activeElement && document.activeElement.getAttribute("aria-label");
      const dl = el("dl", { class: "facts", id: "run-facts" });
      fact(dl, "status", badge(run));
      fact(dl, "why", run.end_reason || run.error || (run.status === "waiting" ? "no driver holds it: the next baton run, tick or resume takes it" : null));
      if (run.error && run.end_reason !== run.error && !run.failed_on_items) fact(dl, "last error", run.error);
      fact(dl, "job", el("a", { href: "#/runs?job=" + encodeURIComponent(run.job) }, run.job));
      fact(dl, "trigger", run.trigger + (run.payload_summary ? ", payload of " + run.payload_summary.bytes + " bytes" + (run.payload_summary.keys ? " (keys: " + run.payload_summary.keys.join(", ") + ")" : "") : ""));
      fact(dl, "started", when(run.created_at) + " " + zoneName());
      if (run.finished_at) fact(dl, "finished", when(run.finished_at) + " " + zoneName());
      fact(dl, "duration", took(run.elapsed_ms) + (run.eta_ms != null ? ", ETA " + took(run.eta_ms) : ""));
      fact(dl, "progress", (run.percent != null ? run.percent + "%" : "") + (run.total != null ? " of " + run.total + " items" : ""));
      const c = run.counts;
      fact(dl, "counts", "processed " + c.processed + ", succeeded " + c.succeeded + ", skipped " + c.skipped + ", failed " + c.failed);
      fact(dl, "cursor", run.cursor == null ? "none" : el("code", {}, run.cursor));
      const u = run.usage;
      fact(dl, "usage", u && (u.input_tokens || u.output_tokens || u.cost_usd) ? (u.input_tokens + u.output_tokens).toLocaleString("en") + " tokens (" + u.input_tokens.toLocaleString("en") + " in, " + u.output_tokens.toLocaleString("en") + " out)" + (u.cost_usd ? ", $" + u.cost_usd.toFixed(4) : "") : "none");
      if (run.message) fact(dl, "message", run.message);
      if (run.retry_of) fact(dl, "retry of", runLink(run.retry_of));
      if (run.retried_by && run.retried_by.length) { const s = el("span", { id: "retried-by" }); run.retried_by.forEach((r, i) => s.append(i ? ", " : "", runLink(r))); fact(dl, "retried by", s); }
      const actions = el("p", {}, cancelButton(run), " ", retryButton(run));
      const [swrap, srows] = table(["slice", "attempt", "started", "duration", "outcome", "exit", "cursor in", "cursor out", "processed#", "failed#", "error", "log"], "Slices and attempts");
      swrap.firstChild.id = "slices";
      for (const s of run.slices) {
        const r = srows.insertRow(); r.dataset.slice = s.slice + "/" + s.attempt;
        cell(r, s.slice, "num"); cell(r, s.attempt, "num"); cell(r, when(s.started_at)); cell(r, took(s.duration_ms));
        cell(r, el("span", { class: "status " + ({ succeeded: "succeeded", failed: "failed", running: "running" }[s.outcome] || "partial") }, s.outcome));
        cell(r, s.exit != null ? s.exit : (s.signal != null ? "signal " + s.signal : ""));
        cell(r, s.cursor_in == null ? "" : el("code", {}, s.cursor_in)); cell(r, s.cursor_out == null ? "" : el("code", {}, s.cursor_out));
        cell(r, s.counts.processed, "num"); cell(r, s.counts.failed, "num"); cell(r, s.error || "", "wrap");
        const key = run.run_id + "/" + s.slice + "/" + s.attempt;
        const logCell = cell(r, null);
        if (s.log_bytes > 0) {
          const target = el("div");
          const lr = srows.insertRow(); const lc = cell(lr, target); lc.colSpan = 12; lc.className = "wrap";
          lr.hidden = !openLogs.has(key);
          const b = el("button", { type: "button", "data-action": "log", "aria-label": "Log of slice " + s.slice + " attempt " + s.attempt, "aria-expanded": String(openLogs.has(key)),
            onclick: () => {
              const open = !openLogs.has(key);
              b.setAttribute("aria-expanded", String(open)); lr.hidden = !open;
              if (open) showLog(run.run_id, s, target); else { openLogs.delete(key); target.replaceChildren(); }
            } }, "log (" + s.log_bytes.toLocaleString("en") + " B)");
          logCell.append(b);
          if (openLogs.has(key)) showLog(run.run_id, s, target);
        } else logCell.append("none");
      }
      const items = run.failed_items.concat(run.unknown_items), total = run.failed_items_total + run.unknown_items_total;
      const [iwrap, irows] = table(["item", "status", "slice#", "error"], total > items.length ? "The first " + items.length + " of " + total + " items (baton show --json lists all)" : null);
      iwrap.firstChild.id = "items";
      for (const it of items) {
        const r = irows.insertRow(); r.dataset.item = it.id;
        cell(r, el("code", {}, it.id)); cell(r, el("span", { class: "status " + (it.status === "failed" ? "failed" : "partial") }, (it.status === "failed" ? "✕ " : "? ") + it.status));
        cell(r, it.slice, "num"); cell(r, it.error || "", "wrap");
      }
      view.replaceChildren(el("p", {}, el("a", { href: "#/runs" }, "← Runs")), el("h2", {}, "Run ", el("code", {}, run.run_id)), dl, actions,
        el("h3", {}, "Slices (" + run.slices.length + ")"), swrap,
        el("h3", {}, "Failed and unknown items (" + total + ")"), total ? iwrap : el("p", { class: "note" }, "None."));
      if (focused) for (const b of view.querySelectorAll("button")) if (b.getAttribute("aria-label") === focused) b.focus();
    }

    """#
}
