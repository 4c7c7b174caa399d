import BatonCore
import BatonStore

/// What became of one due fire.
public enum FireResult: Sendable, Equatable {
    case started(RunRecord)
    /// Queued behind the job's unfinished run (overlap=queue).
    case queued(RunRecord)
    case skipped(String)
    /// Another process recorded this fire first and acts on it.
    case duplicate
}

extension RunEngine {
    /// Acts on one due fire of `job` (nominal time `at`, Unix seconds) under its
    /// `overlap=` policy, against every unfinished run of the job whoever started it.
    /// The fire and its run are recorded in one transaction, so a fire happens once
    /// however many processes see it due.
    public func fire(_ job: Job, at: Int64, kind: FireKind) async throws(EngineError) -> FireResult {
        let now = Self.nowMs()
        do {
            let unfinished = try await store.runs(job: job.name, status: .running, limit: 50)
                + (try await store.runs(job: job.name, status: .queued, limit: 50))
            var status = RunStatus.running
            switch job.options.overlap {
            case .allow:
                break
            case .skip:
                if let busy = unfinished.first {
                    let why = "run \(busy.id) is unfinished (overlap=skip)"
                    return try await store.recordFire(job: job.name, scheduledAt: at * 1000, kind: .skipped, run: nil, at: now)
                        ? .skipped(why) : .duplicate
                }
            case .queue:
                if let waiting = unfinished.first(where: { $0.status == .queued }) {
                    let why = "run \(waiting.id) is already waiting (overlap=queue keeps one)"
                    return try await store.recordFire(job: job.name, scheduledAt: at * 1000, kind: .skipped, run: nil, at: now)
                        ? .skipped(why) : .duplicate
                }
                if !unfinished.isEmpty { status = .queued }
            case .replace:
                for old in unfinished { _ = try await store.requestCancel(runId: old.id, at: now) }
            }
            let trigger: Trigger = switch kind {
            case .cron, .skipped: .cron
            case .catchup: .catchup
            case .reboot: .reboot
            }
            let new = NewRun(id: RunID.make(now), job: job.name, trigger: trigger, scheduledAt: at * 1000, createdAt: now,
                             status: status)
            guard try await store.recordFire(job: job.name, scheduledAt: at * 1000, kind: kind, run: new, at: now),
                  let run = try await store.run(id: new.id) else { return .duplicate }
            return status == .queued ? .queued(run) : .started(run)
        } catch {
            throw .store(error)
        }
    }
}
