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
        } catch {
            return Self.error(503, "the state store does not answer", hint: "check the store's disk and baton's log")
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

    // MARK: signed calls

    /// `POST /hooks/JOB`: a signed request starts a run with the body as payload.
    func hook(_ name: String, _ request: HTTPRequest) async -> HTTPResponse {
        let snapshot = await scheduler.snapshot()
        if snapshot.stopping { return Self.error(503, "baton is draining and starts no runs", hint: "retry against another baton, or later") }
        guard let job = snapshot.set.job(named: name) else {
            return Self.error(404, "no job named '\(Self.printable(name))'", hint: "GET /jobs lists the jobs")
        }
        let signature: String
        switch verify(request, job: job) {
        case let .refused(response): return response
        case let .ok(s): signature = s
        }
        let payload: String?, key: String?
        switch Self.payloadAndKey(request) {
        case let .failure(refused): return refused.response
        case let .success(got): (payload, key) = got
        }
        var call = RunRequest(job: JobRunSpec(job), trigger: .webhook, payload: payload, idempotencyKey: key, replayKey: signature)
        call.replayScope = "POST /hooks/" + job.name
        return await start(call, job: job.name)
    }

    /// `POST /runs/RUN/cancel|retry`, signed with the run's job's secret.
    func runAction(_ action: String, runId: String, _ request: HTTPRequest) async -> HTTPResponse {
        let snapshot = await scheduler.snapshot()
        let old: RunRecord
        do {
            guard let found = try await engine.store.run(id: runId) else { return Self.noSuchRun(runId) }
            old = found
        } catch {
            return Self.storeDown()
        }
        guard let job = snapshot.set.job(named: old.job) else {
            return Self.error(404, "run \(runId) belongs to job '\(old.job)', which the schedules no longer define",
                              hint: "restore the job's entry, or use the command line (baton \(action) \(runId))")
        }
        let signature: String?
        switch authorizeAction(request, job: job) {
        case let .refused(response): return response
        case let .ok(s): signature = s
        }
        if action == "cancel" {
            do {
                // A replay is refused as one whatever became of the run since.
                let now = Self.nowMs()
                if let signature {
                    guard try await engine.store.rememberRequest(signature: signature, scope: "POST " + request.path, at: now,
                                                                 expiresAt: now + RunEngine.replayWindowMs) else {
                        return Self.error(401, "this signed request was received before (a replay)",
                                          hint: "sign each call with a fresh timestamp")
                    }
                }
                guard !old.status.isFinished else {
                    return Self.error(409, "run \(runId) is already \(old.status.rawValue)", hint: "only a queued or running run can be cancelled")
                }
                var run = try await engine.store.requestCancel(runId: runId, at: Self.nowMs()) ?? old
                if await scheduler.cancel(runId: runId) {
                    // This process drives it: the slice gets SIGTERM now, its cursor is kept.
                } else if let done = try await engine.cancelAbandoned(runId: runId) {
                    // Nobody drives it (queued, or its driver died): cancelled here.
                    run = done
                }
                return Self.json(202, ["run_id": run.id, "status": run.status.rawValue, "cancel_requested": true])
            } catch {
                return Self.storeDown()
            }
        }
        // As `baton retry`: a run retried already is not retried again (its items went
        // to the retry, which is retried in turn).
        let earlier: RunRecord?
        do { earlier = try await engine.store.retries(of: runId).first } catch { return Self.storeDown() }
        if let earlier {
            return Self.error(409, "run \(runId) was retried already by \(earlier.id) (\(earlier.status.rawValue))",
                              hint: "retry \(earlier.id) for what still failed there")
        }
        let retry: (payload: String, items: Int)?
        do { retry = try await engine.retryPayload(of: old) } catch { return Self.storeDown() }
        guard let retry else {
            return Self.error(409, "run \(runId) reported no failed items",
                              hint: "to continue it from its cursor: baton resume \(runId)")
        }
        let key: String?
        switch Self.idempotencyKey(request) {
        case let .refused(response): return response
        case let .ok(k): key = k
        }
        var call = RunRequest(job: JobRunSpec(job), trigger: .retry, payload: retry.payload, params: old.params,
                              parentRun: runId, idempotencyKey: key, replayKey: signature)
        if signature != nil { call.replayScope = "POST /runs/\(runId)/retry" }
        return await start(call, job: job.name)
    }

    /// Records the run (group commit), answers, and sets it going: `running` when a
    /// driver slot is free for it now, else `queued` until one frees.
    func start(_ call: RunRequest, job: String) async -> HTTPResponse {
        var call = call
        // Recorded `running` when a driver slot is free for it now, else `queued`;
        // unowned either way (the scheduler's driver claims it).
        let reserved = options.intakeOnly ? false : await scheduler.reserveStart(job: job)
        call.waits = !reserved
        let answer = await intake.submit(call)
        if !options.intakeOnly {
            // Handed over before the answer, so a cancel that follows it finds the run.
            if case let .recorded(.started(run)) = answer { await scheduler.accepted(run) }
            if reserved { await scheduler.unreserve() }
        }
        switch answer {
        case .failed:
            return Self.storeDown()
        case .backlogFull:
            return Self.error(503, "baton has \(options.maxBacklog) runs queued and takes no more for now",
                              hint: "retry after \(Self.backlogRetryAfter)s; nothing was recorded (the limit is --max-backlog)",
                              headers: [("Retry-After", String(Self.backlogRetryAfter))])
        case let .recorded(.started(run)):
            log("webhook", [("job", job), ("run", run.id), ("trigger", call.trigger.rawValue), ("status", run.status.rawValue)])
            return Self.json(202, ["run_id": run.id, "status": run.status.rawValue])
        case let .recorded(.existing(id)):
            return Self.json(202, ["run_id": id, "idempotent_replay": true])
        case .recorded(.replay):
            return Self.error(401, "this signed request was received before (a replay)",
                              hint: "sign each call with a fresh timestamp; to repeat a call safely send an Idempotency-Key")
        case let .recorded(.refused(why)):
            return Self.error(409, why, hint: "wait for that run to finish, or cancel it; the job's overlap= decides")
        }
    }

    /// The signature's hex on success; the 401/403 to send otherwise.
    func verify(_ request: HTTPRequest, job: Job) -> Checked<String> {
        let variable = job.options.webhookSecretEnv
        guard let secret = options.environment[variable], !secret.isEmpty else {
            return .refused(Self.error(403, "job '\(job.name)' has no webhook secret, so it takes no signed calls",
                                       hint: "set \(variable) in baton's environment (or name another variable with webhook-secret-env=) and restart baton"))
        }
        let signHint = "sign with HMAC-SHA256 of TIMESTAMP.BODY and the job's secret; send X-Baton-Timestamp: UNIX_SECONDS and X-Baton-Signature: sha256=HEX"
        guard let stamp = request.header("x-baton-timestamp") else {
            return .refused(Self.error(401, "X-Baton-Timestamp is missing", hint: signHint))
        }
        // 1 to 12 digits: no sign, no overflow in the arithmetic below.
        guard (1...12).contains(stamp.utf8.count), stamp.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seconds = Int64(stamp) else {
            return .refused(Self.error(401, "X-Baton-Timestamp is not Unix seconds", hint: signHint))
        }
        let skew = Self.nowMs() / 1000 - seconds
        guard abs(skew) <= Self.signatureWindowSeconds else {
            return .refused(Self.error(401, "X-Baton-Timestamp is \(abs(skew))s \(skew > 0 ? "old" : "in the future"); at most 300s either way is accepted",
                                       hint: "sign with the current time, and keep the sender's clock in sync (NTP)"))
        }
        guard let header = request.header("x-baton-signature") else {
            return .refused(Self.error(401, "X-Baton-Signature is missing", hint: signHint))
        }
        let hex = header.hasPrefix("sha256=") ? String(header.dropFirst(7)) : ""
        guard hex.utf8.count == 64, let given = Digest.unhex(hex) else {
            return .refused(Self.error(401, "X-Baton-Signature is not sha256= and 64 hex digits", hint: signHint))
        }
        let expected = Digest.hmacSHA256(key: Array(secret.utf8), message: Array(stamp.utf8) + [0x2E] + request.body)
        guard Digest.constantTimeEqual(given, expected) else {
            return .refused(Self.error(401, "the signature does not match", hint: signHint))
        }
        return .ok(Digest.hex(given))
    }

    static func idempotencyKey(_ request: HTTPRequest) -> Checked<String?> {
        guard let key = request.header("idempotency-key") else { return .ok(nil) }
        guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            return .refused(error(400, "Idempotency-Key must be 1 to 200 printable characters without spaces", hint: "e.g. a UUID"))
        }
        return .ok(key)
    }

    private func counted(_ response: HTTPResponse) -> HTTPResponse {
        metrics.webhook(status: response.status)
        return response
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
