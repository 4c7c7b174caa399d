import BatonJSON
import BatonCore
import BatonStore

/// A run asked for by a request (a webhook, an API retry) rather than a fire.
public struct RunRequest: Sendable {
    public var job: JobRunSpec
    public var trigger: Trigger
    /// JSON text, or nil.
    public var payload: String?
    /// JSON object text.
    public var params: String
    public var parentRun: String?
    public var idempotencyKey: String?
    /// Names the signed request itself, to refuse it a second time at `replayScope`.
    public var replayKey: String?
    public var replayScope: String?
    /// The run waits for a driver slot: it is recorded `queued` and unowned (nobody
    /// starts it at once; a driver claims it when a slot frees). Otherwise it is
    /// recorded `running`, held by this process for the driver whose slot it has.
    public var waits = false

    public init(job: JobRunSpec, trigger: Trigger, payload: String? = nil, params: String = "{}", parentRun: String? = nil,
                idempotencyKey: String? = nil, replayKey: String? = nil) {
        self.job = job; self.trigger = trigger; self.payload = payload; self.params = params; self.parentRun = parentRun
        self.idempotencyKey = idempotencyKey; self.replayKey = replayKey
    }
}

/// What became of a `RunRequest`.
public enum RequestResult: Sendable, Equatable {
    /// Recorded, `running` or `queued` (overlap=queue).
    case started(RunRecord)
    /// The idempotency key was seen before: its first run.
    case existing(runId: String)
    case replay
    /// overlap= refused it; nothing was recorded.
    case refused(String)
}

extension RunEngine {
    /// How long an idempotency key finds its first run.
    public static let idempotencyWindowMs: Int64 = 24 * 3600 * 1000
    /// How long a signed request is remembered: twice the signature's 5-minute window,
    /// so a request is refused as a replay for as long as its timestamp would pass.
    public static let replayWindowMs: Int64 = 10 * 60 * 1000

    /// Records runs for requests under each job's `overlap=` policy, with their keys,
    /// in ONE transaction; a caller answering after this returns answers durably.
    /// The runs are left unclaimed: whoever drives the job's runs picks them up.
    public func accept(_ requests: [RunRequest]) async throws(EngineError) -> [RequestResult] {
        guard !requests.isEmpty else { return [] }
        // Requests of one job whose overlap= looks at unfinished runs go in separate
        // waves: whether the first starts a run is only known once the store has
        // answered (it may be a replay), so the next must not be judged against it.
        var results = [RequestResult?](repeating: nil, count: requests.count)
        var pending = Array(requests.indices)
        while !pending.isEmpty {
            var wave: [Int] = []
            var later: [Int] = []
            var judged: Set<String> = []
            for i in pending {
                let r = requests[i]
                if r.job.options.overlap != .allow, !judged.insert(r.job.name).inserted { later.append(i) } else { wave.append(i) }
            }
            let answers = try await acceptWave(wave.map { requests[$0] })
            for (i, a) in zip(wave, answers) { results[i] = a }
            pending = later
        }
        return results.map { $0! }
    }

    /// One transaction of requests, at most one per job whose overlap= matters.
    func acceptWave(_ requests: [RunRequest]) async throws(EngineError) -> [RequestResult] {
        let now = Self.nowMs()
        do {
            let unfinished = try await unfinishedRuns(of: requests.map { ($0.job.name, $0.job.options.overlap) })
            var intake: [RunIntake] = []
            var cancels: [Int: [String]] = [:]
            for r in requests {
                var status = RunStatus.running
                var refusal: String?
                switch OverlapVerdict(r.job.options.overlap, busy: unfinished[r.job.name] ?? []) {
                case let .start(s): status = s
                case let .replace(old): cancels[intake.count] = old
                case let .refuse(why): refusal = why
                }
                if status == .running, r.waits { status = .queued }
                // A run with a driver slot waiting for it is recorded held by this process
                // (as a fired run is), for that driver to start without another claim.
                let held = status == .running && refusal == nil
                let new = NewRun(id: RunID.make(now), job: r.job.name, trigger: r.trigger, scheduledAt: now, createdAt: now,
                                 params: r.params, payload: r.payload, parentRun: r.parentRun,
                                 owner: held ? environment.owner : nil, leaseMs: held ? environment.leaseMs : nil, status: status)
                var item = RunIntake(run: new, idempotencyKey: r.idempotencyKey, replayKey: r.replayKey,
                                     idempotencyExpiresAt: now + Self.idempotencyWindowMs,
                                     replayExpiresAt: now + Self.replayWindowMs, refusal: refusal)
                item.replayScope = r.replayScope
                intake.append(item)
            }
            let outcomes = try await store.createRuns(intake, at: now)
            // The old runs are asked to stop once their replacement is recorded; a failure
            // here does not undo the answer: the new runs are committed.
            for (i, old) in cancels.sorted(by: { $0.key < $1.key }) {
                guard case .created = outcomes[i] else { continue }
                for id in old { _ = try? await store.requestCancel(runId: id, at: now) }
            }
            return outcomes.map { outcome in
                switch outcome {
                case let .created(run): .started(run)
                case let .existing(id): .existing(runId: id)
                case .replay: .replay
                case let .refused(why): .refused(why)
                }
            }
        } catch {
            throw .store(error)
        }
    }
}

extension RunEngine {
    /// The payload of a retry of `run` (SPEC §4 `baton retry`): the old payload with
    /// `items` listing the failed item ids once each, and `retry_of`. Items whose outcome
    /// is `unknown` (a send that may have been delivered) only with `includeUnknown`.
    /// Returns nil when the run reported no such items.
    public func retryPayload(of run: RunRecord, includeUnknown: Bool = false) async throws(EngineError) -> (payload: String, items: Int)? {
        let failed: [ItemRecord]
        do {
            failed = try await store.items(runId: run.id, status: "failed")
                + (includeUnknown ? try await store.items(runId: run.id, status: "unknown") : [])
        } catch {
            throw .store(error)
        }
        var seen = Set<String>()
        let ids = failed.map(\.itemId).filter { seen.insert($0).inserted }
        if ids.isEmpty { return nil }
        var payload: [String: JSONValue] = [:]
        if let text = run.payload, case let .object(o)? = JSONValue.parse(Array(text.utf8)) { payload = o }
        payload["items"] = .array(ids.map { .string($0) })
        payload["retry_of"] = .string(run.id)
        return (JSONValue.object(payload).text, ids.count)
    }
}
