import BatonJSON
import BatonConfig
import BatonCore
import BatonCrypto
import BatonDaemon
import BatonEngine
import BatonHTTP
import BatonReport
import BatonStore
import Foundation
import Synchronization

/// The HTTP API of SPEC §6, one implementation for `baton serve` and `baton run
/// --listen`: routes requests to the run engine (webhooks start runs exactly as
/// `invoke` does, under the job's overlap policy) and the scheduler (jobs, health).
/// Every error is `{"error":…,"hint":…}` with no internals. See docs/http.md.
public final class API: Sendable {
    public struct Options: Sendable {
        /// `BATON_API_TOKEN`: when set, every GET but /healthz needs it as a bearer token.
        public var token: String?
        /// Record webhook runs but drive none (another baton drives them).
        public var intakeOnly = false
        /// baton's environment, where webhook secrets are read.
        public var environment: [String: String] = [:]
        /// Runs recorded `queued` (no slice started) past which a request that would
        /// start one is answered 503 with `Retry-After`, recording nothing; 0: no limit.
        public var maxBacklog = API.defaultMaxBacklog
        /// The daemon's heartbeat in the store, for the per-daemon gauges of /metrics.
        public var roster: Roster?
        public init() {}
    }

    public static let defaultMaxBacklog = 10_000
    /// What a request refused for a full backlog is told to wait, in seconds.
    static let backlogRetryAfter = 5

    /// How far a signed request's timestamp may be from baton's clock.
    public static let signatureWindowSeconds: Int64 = 300

    let engine: RunEngine
    let scheduler: Scheduler
    let metrics: Metrics
    let options: Options
    let intake: IntakeQueue
    /// When `/metrics` last read each job's last success from the store (API+Metrics).
    let successesRead = Mutex<ContinuousClock.Instant?>(nil)
    let log: @Sendable (_ event: String, _ fields: [(String, String)]) -> Void

    public init(engine: RunEngine, scheduler: Scheduler, metrics: Metrics, options: Options,
                log: @escaping @Sendable (_ event: String, _ fields: [(String, String)]) -> Void) {
        self.engine = engine; self.scheduler = scheduler; self.metrics = metrics; self.options = options; self.log = log
        intake = IntakeQueue(engine: engine, maxBacklog: options.maxBacklog)
    }

    /// What a body over the limit gets, before it is read.
    public static let tooLarge = error(413, "the request body is larger than 1 MiB", hint: "send a smaller payload (at most 1,048,576 bytes)")

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (parts.first, parts.count) {
        case (nil, 0):
            return await page(request)
        case ("healthz", 1):
            guard request.method == "GET" || request.method == "HEAD" else { return Self.wrongMethod("GET") }
            return await health()
        case ("metrics", 1):
            return await get(request, allow: "GET") { await self.metricsText() }
        case ("jobs", 1):
            return await get(request, allow: "GET") {
                request.query["history"] != nil ? await self.jobHistory(request.query) : await self.jobs()
            }
        case ("jobs", 3) where ["pause", "unpause", "invoke"].contains(parts[2]):
            guard request.method == "POST" else { return Self.wrongMethod("POST") }
            return await jobAction(parts[2], name: parts[1], request)
        case ("runs", 1):
            return await get(request, allow: "GET") { await self.runs(request.query) }
        case ("runs", 2) where Dashboard.wantsPage(request):
            return await page(request)
        case ("runs", 2):
            return await get(request, allow: "GET") { await self.run(parts[1], request.query) }
        case ("runs", 6) where parts[2] == "slices" && parts[5] == "log":
            return await get(request, allow: "GET") { await self.sliceLog(runId: parts[1], number: parts[3], attempt: parts[4]) }
        case ("runs", 3) where parts[2] == "cancel" || parts[2] == "retry":
            guard request.method == "POST" else { return Self.wrongMethod("POST") }
            return counted(await runAction(parts[2], runId: parts[1], request))
        case ("hooks", 2):
            guard request.method == "POST" else { return counted(Self.wrongMethod("POST")) }
            return counted(await hook(parts[1], request))
        default:
            return Self.error(404, "no such path: \(Self.printable(request.path))", hint: "see docs/http.md for the endpoints")
        }
    }

    // MARK: reads

    private func get(_ request: HTTPRequest, allow: String, _ body: () async -> HTTPResponse) async -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else { return Self.wrongMethod(allow) }
        if let refused = authorize(request) { return refused }
        return Self.conditional(request, await body())
    }

    /// Nil when the request may read; otherwise the 401 to send.
    func authorize(_ request: HTTPRequest) -> HTTPResponse? {
        guard let token = options.token else { return nil }
        let given = request.header("authorization") ?? ""
        let prefix = "Bearer "
        guard given.hasPrefix(prefix),
              Digest.constantTimeEqual(Digest.sha256(Array(given.dropFirst(prefix.count).utf8)), Digest.sha256(Array(token.utf8))) else {
            return Self.error(401, given.isEmpty ? "this API needs a bearer token" : "the bearer token is wrong",
                              hint: "send Authorization: Bearer <the BATON_API_TOKEN baton was started with>",
                              headers: [("WWW-Authenticate", "Bearer realm=\"baton\"")])
        }
        return nil
    }

    func health() async -> HTTPResponse {
        let snapshot = await scheduler.snapshot()
        if snapshot.stopping { return Self.error(503, "baton is draining", hint: "it stops after the running slices; send traffic elsewhere") }
        let now = Self.nowMs()
        if now - snapshot.heartbeat > 5000 {
            return Self.error(503, "the scheduler loop has not gone round for \((now - snapshot.heartbeat) / 1000)s",
                              hint: "see baton's log; restart it if this persists")
        }
        do {
            _ = try await withTimeout(seconds: 3) { try await self.engine.store.jobStates() }
        } catch let error as StoreError {
            // The reason, as the store gives it (its location never carries a password).
            return Self.error(503, "the state store does not answer: \(error.message)",
                              hint: error.hint ?? "check the store's disk or database server, and baton's log")
        } catch {
            return Self.error(503, "the state store does not answer (no answer within 3 s)",
                              hint: "check the store's disk or database server, and baton's log")
        }
        return Self.json(200, ["status": "ok", "loop": snapshot.fires ? "firing" : "serving"])
    }

    func jobs() async -> HTTPResponse {
        let snapshot = await scheduler.snapshot()
        let nowMs = Self.nowMs()
        var list: [[String: Any]] = []
        do {
            let states = try await engine.store.jobStates()
            let latest = try await engine.store.latestRuns(jobs: snapshot.set.jobs.map(\.name))
            for job in snapshot.set.jobs {
                let paused = states[job.name]?.paused ?? false
                let zone = snapshot.set.zone(of: job)
                let next = snapshot.fires ? snapshot.next[job.name] : job.schedule.fires(after: nowMs / 1000, zone: zone, count: 1).first
                let last = latest[job.name]
                var o = JobText.json(job, zone: zone, next: paused ? nil : next, last: last, paused: paused, now: nowMs / 1000)
                o["overlap"] = job.options.overlap.rawValue
                if let last { o["last_run"] = RunText.json(last, now: nowMs) }
                list.append(o)
            }
        } catch {
            return Self.storeDown()
        }
        return Self.json(200, ["jobs": list, "firing": snapshot.fires])
    }

    // MARK: answers

    static func json(_ status: Int, _ object: [String: Any]) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", text: JSON.encode(object) + "\n",
                     headers: [("Cache-Control", "no-store")])
    }

    static func error(_ status: Int, _ message: String, hint: String, headers: [(String, String)] = []) -> HTTPResponse {
        var r = json(status, ["error": message, "hint": hint])
        r.headers += headers
        return r
    }

    static func wrongMethod(_ allow: String) -> HTTPResponse {
        error(405, "method not allowed here", hint: "use \(allow)", headers: [("Allow", allow)])
    }

    static func noSuchRun(_ id: String) -> HTTPResponse {
        error(404, "no run \(printable(id))", hint: "GET /runs lists recent runs")
    }

    static func storeDown() -> HTTPResponse {
        error(503, "the state store did not answer", hint: "check baton's log and the store's disk; retry shortly")
    }

    /// Text from a request, safe to echo: printable ASCII, at most 100 characters.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(100).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? $0 : "?" }))
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A checked part of a request, or the answer refusing it.
enum Checked<T> {
    case ok(T)
    case refused(HTTPResponse)
}

/// `body`'s result, or `CancellationError` when it takes longer than `seconds`; the
/// caller is answered at the deadline even if `body` never returns.
func withTimeout<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let once = Once()
    return try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        Task {
            do {
                let value = try await body()
                if once.claim() { c.resume(returning: value) }
            } catch {
                if once.claim() { c.resume(throwing: error) }
            }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            if once.claim() { c.resume(throwing: CancellationError()) }
        }
    }
}

/// True for the first caller only.
final class Once: Sendable {
    private let done = Mutex(false)
    func claim() -> Bool { done.withLock { d in defer { d = true }; return !d } }
}
