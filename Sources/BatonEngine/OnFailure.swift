import BatonJSON
import BatonStore

extension RunEngine {
    /// The payload of the run `on-failure=` starts for a failed run (SPEC §2): which run
    /// failed, why, its counts and its last cursor.
    public static func onFailurePayload(_ failed: RunRecord) -> String {
        var o: [String: JSONValue] = [
            "job": .string(failed.job), "run_id": .string(failed.id), "status": .string(failed.status.rawValue),
            "error": failed.error.map { .string($0) } ?? .null, "cursor": failed.cursor.map { .string($0) } ?? .null,
            "counts": .object(["processed": .number(String(failed.counts.processed)), "succeeded": .number(String(failed.counts.succeeded)),
                               "skipped": .number(String(failed.counts.skipped)), "failed": .number(String(failed.counts.failed))]),
            "trigger": .string(failed.trigger.rawValue),
        ]
        if let t = failed.total { o["total"] = .number(String(t)) }
        return JSONValue.object(["on_failure_of": .object(o)]).text
    }

    /// Records the run `on-failure=` names for `failed`, under the target's overlap=.
    public func startOnFailure(of failed: RunRecord, target: JobRunSpec) async throws(EngineError) -> RequestResult {
        // A run that on-failure= started does not start another when it fails itself:
        // two jobs naming each other would otherwise ping-pong for ever.
        if failed.payload?.contains("\"on_failure_of\"") == true {
            return .refused("run \(failed.id) was itself started by on-failure=; not followed again")
        }
        return try await accept([RunRequest(job: target, trigger: .manual, payload: Self.onFailurePayload(failed))])[0]
    }

    /// `on-failure=` of `job` for `failed`, a run of it that just failed: records a run
    /// of the job it names (`lookup` finds it) whose payload describes the failed run.
    /// The one implementation the daemon, `tick`, `invoke` and `resume` share; the
    /// caller drives the run it returns.
    public func followOnFailure(of failed: RunRecord, job: JobRunSpec,
                                lookup: (String) -> JobRunSpec?) async throws(EngineError) -> OnFailure {
        guard failed.status == .failed, let name = job.options.onFailure else { return .none }
        guard let target = lookup(name) else { return .refused(target: name, why: "no job named \(name)") }
        switch try await startOnFailure(of: failed, target: target) {
        case let .started(run): return .started(run, target: target)
        case let .refused(why): return .refused(target: name, why: why)
        case .existing, .replay: return .none
        }
    }
}

/// What `on-failure=` did for a failed run.
public enum OnFailure: Sendable {
    /// Nothing to do: the job names no target, or the run was started already.
    case none
    /// A run of `target` was recorded; the caller drives it.
    case started(RunRecord, target: JobRunSpec)
    /// Nothing was started, for this reason (no such job, a run that on-failure= started).
    case refused(target: String, why: String)
}
