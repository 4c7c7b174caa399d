import BatonHTTP

/// `GET /`: one self-contained page (no outside assets, no framework) that reads
/// `/jobs` and `/runs` and redraws itself every two seconds.
enum Dashboard {
    static func page() -> HTTPResponse {
        HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", text: html,
                     headers: [("Cache-Control", "no-store"),
                               ("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")])
    }

    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>baton</title>
    <style>
      body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #fafbfc; }
      h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; }
      .meta { color: #667; font-size: .85rem; }
      table { border-collapse: collapse; width: 100%; background: #fff; }
      th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e4e7ec; white-space: nowrap; }
      th { font-weight: 600; color: #445; background: #f1f3f6; }
      td.num { text-align: right; font-variant-numeric: tabular-nums; }
      code { font-size: .85rem; }
      progress { width: 10rem; height: .9rem; vertical-align: middle; }
      .status { padding: .05rem .45rem; border-radius: .6rem; font-size: .8rem; }
      .succeeded { background: #d9f2e3; color: #14532d; } .failed { background: #fde2e1; color: #7f1d1d; }
      .running { background: #dbeafe; color: #1e3a8a; } .queued { background: #eef; color: #334; }
      .cancelled, .partial { background: #fef3c7; color: #78350f; }
      .waiting { background: #ede9fe; color: #4c1d95; border: 1px dashed #4c1d95; }
      #error { color: #7f1d1d; }
    </style>
    </head>
    <body>
    <h1>baton</h1>
    <div class="meta">Refreshes every 2 s. <span id="updated"></span> <span id="error"></span></div>
    <h2>Jobs</h2>
    <table id="jobs"><thead><tr><th>job</th><th>schedule</th><th>zone</th><th>next fire</th><th>last run</th><th>paused</th></tr></thead><tbody></tbody></table>
    <h2>Recent runs</h2>
    <table id="runs"><thead><tr><th>run</th><th>job</th><th>trigger</th><th>status</th><th>progress</th><th class="num">processed</th><th class="num">failed</th><th class="num">slices</th><th class="num">tokens</th><th>elapsed</th><th>ETA</th></tr></thead><tbody></tbody></table>
    <script>
    "use strict";
    function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
    function took(ms) {
      if (ms == null) return "";
      const s = Math.round(ms / 1000);
      if (s < 60) return s + "s";
      if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
      return Math.floor(s / 3600) + "h " + String(Math.floor(s / 60) % 60).padStart(2, "0") + "m";
    }
    function badge(td, status) { const b = document.createElement("span"); b.className = "status " + status; b.textContent = status; td.replaceChildren(b); }
    function drawJobs(jobs) {
      const body = document.querySelector("#jobs tbody");
      body.replaceChildren();
      for (const j of jobs) {
        const r = body.insertRow(); r.dataset.job = j.job;
        cell(r, j.job); const s = cell(r, ""); const c = document.createElement("code"); c.textContent = j.schedule; s.append(c);
        cell(r, j.tz); cell(r, j.next ? j.next + " (" + j.next_in + ")" : "-");
        const last = cell(r, ""); if (j.last_run) badge(last, j.last_run.status); else last.textContent = "never";
        cell(r, j.paused ? "yes" : "no");
      }
    }
    function drawRuns(runs) {
      const body = document.querySelector("#runs tbody");
      body.replaceChildren();
      for (const run of runs) {
        const r = body.insertRow(); r.dataset.run = run.run_id;
        cell(r, run.run_id); cell(r, run.job); cell(r, run.trigger); badge(cell(r, ""), run.status);
        const p = document.createElement("progress"); p.max = 100;
        if (run.percent != null) { p.value = run.percent; p.title = run.percent + "%"; }
        else if (run.status !== "running") p.value = 0;  // only live work animates
        const pc = cell(r, ""); pc.append(p, " " + (run.percent != null ? run.percent + "%" : ""));
        cell(r, run.counts.processed, "num"); cell(r, run.counts.failed, "num"); cell(r, run.slices, "num");
        cell(r, run.usage && (run.usage.input_tokens + run.usage.output_tokens) > 0 ? (run.usage.input_tokens + run.usage.output_tokens).toLocaleString("en") : "", "num");
        cell(r, took(run.elapsed_ms)); cell(r, run.eta_ms != null ? took(run.eta_ms) : "");
      }
    }
    async function refresh() {
      try {
        const [jobs, runs] = await Promise.all([fetch("jobs").then(r => r.json()), fetch("runs?limit=30").then(r => r.json())]);
        if (jobs.error || runs.error) throw new Error(jobs.error || runs.error);
        drawJobs(jobs.jobs); drawRuns(runs.runs);
        document.getElementById("updated").textContent = "Updated " + new Date().toLocaleTimeString() + ".";
        document.getElementById("error").textContent = "";
        document.body.dataset.loaded = "true";
      } catch (e) {
        document.getElementById("error").textContent = "Cannot reach baton: " + e.message;
      }
    }
    refresh();
    setInterval(refresh, 2000);
    </script>
    </body>
    </html>
    """#
}
