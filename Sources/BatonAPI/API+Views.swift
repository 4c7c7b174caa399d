import BatonCore
import BatonCrypto
import BatonHTTP
import BatonJSON
import BatonReport
import BatonStore
import Foundation

/// What the dashboard reads: runs a page at a time, a run's whole story, a slice's
/// log, jobs with their history. Every GET answer carries an ETag, so a poll that
/// finds nothing changed is answered `304` with no body.
extension API {
    /// Failed (and unknown) items listed in a run's detail; the rest are counted.
    static let detailItems = 1000
    /// The tail of a slice's log one request returns.
    static let logCap = 256 * 1024

    /// `GET /` and, for a browser, `GET /runs/RUN`: the page. It holds no data, but
    /// with a token set it is answered 401 (the page, for a browser, which then asks
    /// for the token and sends it with every call it makes).
    func page(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else { return Self.wrongMethod("GET") }
        if let refused = authorize(request) {
            guard Dashboard.wantsPage(request) else { return refused }
            var page = Dashboard.page()
            page.status = 401
            page.headers.append(("WWW-Authenticate", "Bearer realm=\"baton\""))
            return page
        }
        return Dashboard.page()
    }

    /// `304` when the client already holds this answer (`If-None-Match`).
    static func conditional(_ request: HTTPRequest, _ response: HTTPResponse) -> HTTPResponse {
        guard response.status == 200 else { return response }
        let tag = "\"" + String(Digest.hex(Digest.sha256(response.body)).prefix(32)) + "\""
        var r = response
        r.headers.append(("ETag", tag))
        if request.header("if-none-match") == tag {
            r.status = 304
            r.body = []
        }
        return r
    }

    func runs(_ query: [String: String]) async -> HTTPResponse {
        let state = query["status"]
        if let s = state, !RunText.states.contains(s) {
            return Self.error(400, "status '\(Self.printable(s))' is not a run status",
                              hint: "use one of " + RunText.states.joined(separator: ", "))
        }
        var limit = 50
        if let text = query["limit"] {
            guard let n = Int(text), (1...1000).contains(n) else {
                return Self.error(400, "limit '\(Self.printable(text))' is not a whole number from 1 to 1000", hint: "e.g. ?limit=50")
            }
            limit = n
        }
        do {
            var before: (createdAt: Int64, id: String)?
            if let id = query["before"] {
                guard let run = try await engine.store.run(id: id) else {
                    return Self.error(400, "before '\(Self.printable(id))' is not a run", hint: "pass the next_before of the previous page")
                }
                before = (run.createdAt, run.id)
            }
            let now = Self.nowMs()
            // Filtered by the status shown, as `baton runs --status` does.
            let rows = try await RunText.runs(in: engine.store, job: query["job"], state: state, before: before, limit: limit, now: now)
            var o: [String: Any] = ["runs": rows.map { RunText.json($0, now: now) }]
            if rows.count == limit, let last = rows.last { o["next_before"] = last.id }
            return Self.json(200, o)
        } catch {
            return Self.storeDown()
        }
    }

    func run(_ id: String, _ query: [String: String]) async -> HTTPResponse {
        do {
            guard let run = try await engine.store.run(id: id) else { return Self.noSuchRun(id) }
            let store = engine.store
            return Self.json(200, RunText.detail(run, slices: try await store.slices(runId: id),
                                                 failed: try await store.items(runId: id, status: "failed"),
                                                 unknown: try await store.items(runId: id, status: "unknown"),
                                                 retries: try await store.retries(of: id), itemCap: Self.detailItems))
        } catch {
            return Self.storeDown()
        }
    }

    /// `GET /runs/RUN/slices/N/A/log`: the tail of one attempt's log, as JSON text (the
    /// page shows it as text, never as markup).
    func sliceLog(runId: String, number: String, attempt: String) async -> HTTPResponse {
        guard let n = Int(number), let a = Int(attempt) else {
            return Self.error(400, "slice and attempt must be whole numbers", hint: "e.g. /runs/RUN/slices/1/1/log")
        }
        do {
            guard try await engine.store.run(id: runId) != nil else { return Self.noSuchRun(runId) }
            guard let s = try await engine.store.slices(runId: runId).first(where: { $0.number == n && $0.attempt == a }) else {
                return Self.error(404, "run \(Self.printable(runId)) has no slice \(n) attempt \(a)", hint: "GET /runs/RUN lists its slices")
            }
            let bytes = Array(s.log.utf8)
            let tail = String(decoding: bytes.suffix(Self.logCap), as: UTF8.self)
            return Self.json(200, ["run_id": runId, "slice": n, "attempt": a, "log": tail, "bytes": bytes.count,
                                   "capped": bytes.count > Self.logCap])
        } catch {
            return Self.storeDown()
        }
    }
}
