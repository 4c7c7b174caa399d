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

/// Signed calls: webhooks that start runs, and cancel or retry of a run.
extension API {

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

    func counted(_ response: HTTPResponse) -> HTTPResponse {
        metrics.webhook(status: response.status)
        return response
    }
}
