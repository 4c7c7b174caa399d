import BatonHTTP

/// `GET /` (and `GET /runs/RUN` asked for as HTML): one self-contained page, no
/// outside assets, no framework, no build step. It reads the JSON API, redraws what
/// changed (each poll sends `If-None-Match`, so an unchanged view costs a `304`), and
/// acts through the same API: with `BATON_API_TOKEN` set it asks for the token once
/// and sends it as `Authorization: Bearer` (kept in the tab's sessionStorage, never in
/// a cookie or a URL); without one it sends `X-Baton-Dashboard`, which a page on
/// another site cannot send without a CORS preflight baton never grants.
/// The page is assembled from the parts in Dashboard+Style, +Script, +Views.
enum Dashboard {
    static func page() -> HTTPResponse {
        HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", text: html,
                     headers: [("Cache-Control", "no-store"),
                               ("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:"),
                               ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer")])
    }

    /// A browser asking for a page (its `Accept` names HTML), not a client asking for JSON.
    static func wantsPage(_ request: HTTPRequest) -> Bool {
        guard request.method == "GET" || request.method == "HEAD" else { return false }
        return (request.header("accept") ?? "").contains("text/html")
    }

    static let html = head + style + body + "<script>\n\"use strict\";\n" + scriptCore + scriptViews + scriptDetail + "</script>\n</body>\n</html>\n"

    static let head = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="color-scheme" content="light dark">
    <title>baton</title>

    """#

    static let body = #"""
    </head>
    <body>
    <header>
      <h1>baton</h1>
      <nav aria-label="views"><a href="#/runs" id="nav-runs">Runs</a> <a href="#/jobs" id="nav-jobs">Jobs</a></nav>
      <button type="button" id="zone" aria-pressed="false" title="Show times in UTC or in this browser's zone">Times: UTC</button>
      <button type="button" id="token-button" hidden>Token…</button>
      <span class="meta"><span id="updated"></span></span>
    </header>
    <div id="error" role="alert"></div>
    <div id="outcome" role="status" aria-live="polite"></div>
    <form id="token-form" hidden>
      <label for="token-input">This baton needs its API token (BATON_API_TOKEN). It is kept in this tab only and sent as a bearer header.</label>
      <input id="token-input" type="password" autocomplete="off" required>
      <button type="submit">Use token</button>
    </form>
    <main id="view"></main>
    <dialog id="confirm" aria-labelledby="confirm-text">
      <form method="dialog">
        <p id="confirm-text"></p>
        <button value="no" id="confirm-no" autofocus>Keep it running</button>
        <button value="yes" id="confirm-yes" class="danger">Cancel the run</button>
      </form>
    </dialog>

    """#
}
