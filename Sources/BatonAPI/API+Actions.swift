import BatonCore
import BatonEngine
import BatonHTTP
import BatonJSON
import BatonStore

/// The operator's actions (the dashboard's buttons, or any client): pause, unpause and
/// invoke a job, and how cancel and retry may be authorized without a job's secret.
extension API {
    /// How an action is allowed: a signature with the job's secret (SPEC §6; its hex,
    /// remembered against replays), or the operator's credentials (nil): the bearer
    /// token when baton has one, or, on a loopback-only baton without a token, the
    /// `X-Baton-Dashboard` header.
    func authorizeAction(_ request: HTTPRequest, job: Job) -> Checked<String?> {
        if request.header("x-baton-signature") != nil || request.header("x-baton-timestamp") != nil {
            switch verify(request, job: job) {
            case let .ok(s): return .ok(s)
            case let .refused(r): return .refused(r)
            }
        }
        if options.token != nil {
            guard request.header("authorization") != nil else {
                return .refused(Self.error(401, "this action needs the bearer token or a signature",
                                           hint: "send Authorization: Bearer <BATON_API_TOKEN>, or sign it as a webhook (X-Baton-Timestamp, X-Baton-Signature)",
                                           headers: [("WWW-Authenticate", "Bearer realm=\"baton\"")]))
            }
            if let refused = authorize(request) { return .refused(refused) }
            return .ok(nil)
        }
        if request.header("x-baton-dashboard") != nil {
            // Without a token baton listens on loopback only. A custom header cannot be
            // sent cross-site without a CORS preflight, which baton never grants; a
            // browser's Origin, when sent, must be this very server.
            if let origin = request.header("origin"), let host = request.header("host"),
               origin != "http://" + host {
                return .refused(Self.error(403, "a request from another site (Origin \(Self.printable(origin))) may not act",
                                           hint: "use the dashboard baton serves, or sign the request"))
            }
            return .ok(nil)
        }
        switch verify(request, job: job) {
        case let .ok(s): return .ok(s)
        case let .refused(r): return .refused(r)
        }
    }

    /// `POST /jobs/JOB/pause|unpause|invoke`.
    func jobAction(_ action: String, name: String, _ request: HTTPRequest) async -> HTTPResponse {
        let snapshot = await scheduler.snapshot()
        guard let job = snapshot.set.job(named: name) else {
            return Self.error(404, "no job named '\(Self.printable(name))'", hint: "GET /jobs lists the jobs")
        }
        let signature: String?
        switch authorizeAction(request, job: job) {
        case let .refused(response): return response
        case let .ok(s): signature = s
        }
        if action == "invoke" {
            if snapshot.stopping { return Self.error(503, "baton is draining and starts no runs", hint: "retry against another baton, or later") }
            let payload: String?, key: String?
            switch Self.payloadAndKey(request) {
            case let .failure(refused): return refused.response
            case let .success(got): (payload, key) = got
            }
            var call = RunRequest(job: JobRunSpec(job), trigger: .manual, payload: payload, idempotencyKey: key, replayKey: signature)
            if signature != nil { call.replayScope = "POST /jobs/\(job.name)/invoke" }
            return await start(call, job: job.name)
        }
        let pause = action == "pause"
        do {
            let now = Self.nowMs()
            if let signature {
                guard try await engine.store.rememberRequest(signature: signature, scope: "POST " + request.path, at: now,
                                                             expiresAt: now + RunEngine.replayWindowMs) else {
                    return Self.error(401, "this signed request was received before (a replay)", hint: "sign each call with a fresh timestamp")
                }
            }
            try await engine.store.setPaused(job: job.name, paused: pause, at: now)
            // Seen by this process's scheduler at once (another process's within 500 ms).
            await scheduler.jobStatesChanged()
        } catch {
            return Self.storeDown()
        }
        log(action, [("job", job.name)])
        return Self.json(200, ["job": job.name, "paused": pause])
    }
}

/// A request refused with its answer (an `Error`, so it can travel in a `Result`).
struct Refused: Error {
    let response: HTTPResponse
}

extension API {
    /// A run-starting request's body as the run's payload (an empty body is none), and
    /// its `Idempotency-Key`; a body that is not JSON, or a bad key, is refused.
    static func payloadAndKey(_ request: HTTPRequest) -> Result<(String?, String?), Refused> {
        var payload: String?
        if !request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            do { payload = try JSONValue.decode(request.body).text } catch {
                return .failure(Refused(response: API.error(400, "the body is not JSON: \(error.withExcerpt)",
                                                        hint: "send a JSON document (it becomes the run's payload), or an empty body")))
            }
        }
        switch idempotencyKey(request) {
        case let .refused(response): return .failure(Refused(response: response))
        case let .ok(k): return .success((payload, k))
        }
    }
}
