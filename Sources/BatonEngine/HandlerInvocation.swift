import BatonJSON
import BatonCore
import BatonStore

/// The environment and stdin of one slice (SPEC §3, protocol version 1).
struct HandlerInvocation {
    static let inherited = ["PATH", "HOME", "LANG", "TZ", "USER"]

    var environment: [String]
    var input: [UInt8]

    init(job: JobRunSpec, run: RunRecord, slice: Int, attempt: Int, budgetMs: Int64, deadlineMs: Int64, base: EngineEnvironment) {
        var env: [(String, String)] = []
        func set(_ k: String, _ v: String) {
            env.removeAll { $0.0 == k }
            env.append((k, v))
        }
        for k in Self.inherited { if let v = base.variables[k] { set(k, v) } }
        if base.variables["PATH"] == nil { set("PATH", "/usr/local/bin:/usr/bin:/bin") }
        if base.variables["TZ"] == nil { set("TZ", job.zone) }
        for e in job.environment { set(e.key, e.value) }
        for k in job.options.passEnv { if let v = base.variables[k] { set(k, v) } }
        let scheduled = Self.rfc3339(run.scheduledAt)
        set("BATON_JOB", job.name)
        set("BATON_RUN_ID", run.id)
        set("BATON_SLICE", String(slice))
        set("BATON_ATTEMPT", String(attempt))
        set("BATON_CURSOR", run.cursor ?? "")
        set("BATON_TRIGGER", run.trigger.rawValue)
        set("BATON_SCHEDULED_AT", scheduled)
        set("BATON_BUDGET_MS", String(budgetMs))
        set("BATON_DEADLINE_MS", String(deadlineMs))
        environment = env.map { "\($0.0)=\($0.1)" }

        let params = JSONValue.parse(Array(run.params.utf8)) ?? .object([:])
        let payload = run.payload.flatMap { JSONValue.parse(Array($0.utf8)) } ?? .null
        let doc: [String: JSONValue] = [
            "version": .number("1"), "job": .string(job.name), "run_id": .string(run.id),
            "slice": .number(String(slice)), "attempt": .number(String(attempt)),
            "cursor": run.cursor.map { .string($0) } ?? .null, "trigger": .string(run.trigger.rawValue),
            "scheduled_at": .string(scheduled), "budget_ms": .number(String(budgetMs)),
            "deadline_ms": .number(String(deadlineMs)), "params": params, "payload": payload,
        ]
        input = Array((JSONValue.object(doc).text + "\n").utf8)
    }

    /// RFC 3339 in UTC with whole seconds: `2026-11-22T10:30:00Z`.
    static func rfc3339(_ ms: Int64) -> String {
        let f = LocalFields(localSeconds: ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        func p(_ v: Int, _ w: Int = 2) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(f.year, 4))-\(p(f.month))-\(p(f.day))T\(p(f.hour)):\(p(f.minute)):\(p(f.second))Z"
    }
}
