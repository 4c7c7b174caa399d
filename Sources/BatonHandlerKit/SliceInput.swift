import BatonJSON

/// What baton hands a slice (SPEC §3), typed: from the JSON object on stdin, or from
/// the `BATON_*` variables when stdin is empty (a handler run by hand, `mode=plain`).
public struct SliceInput: Sendable, Equatable {
    public var job: String
    public var runId: String
    public var slice: Int
    public var attempt: Int
    /// The previous slice's cursor as baton committed it; nil for the first slice.
    public var cursor: String?
    public var trigger: String
    public var scheduledAt: String
    public var budgetMs: Int64
    /// Unix epoch milliseconds.
    public var deadlineMs: Int64
    public var params: Params
    /// The webhook body or retry payload; nil when there is none.
    public var payload: JSONValue?

    public init(job: String = "", runId: String = "", slice: Int = 1, attempt: Int = 1, cursor: String? = nil,
                trigger: String = "manual", scheduledAt: String = "", budgetMs: Int64 = 55_000, deadlineMs: Int64,
                params: Params = Params(), payload: JSONValue? = nil) {
        self.job = job; self.runId = runId; self.slice = slice; self.attempt = attempt; self.cursor = cursor
        self.trigger = trigger; self.scheduledAt = scheduledAt; self.budgetMs = budgetMs; self.deadlineMs = deadlineMs
        self.params = params; self.payload = payload
    }

    /// The ids a `baton retry` run asks for (`payload.items`), or nil for a normal run.
    public var retryItems: [String]? {
        guard case let .array(list)? = payload?["items"] else { return nil }
        return list.compactMap { $0.string ?? $0.integer.map(String.init) }
    }

    static let protocolVersion: Int64 = 1

    /// Reads the slice. `arguments` are the handler's own (`--k v` from the schedule
    /// line become params, which stdin's `params` override).
    /// - Throws: `HandlerError` saying where stdin or a field is wrong, never a silent
    ///   default: a dropped `payload.items` would make a retry redo everything.
    public static func read(stdin: [UInt8], environment env: [String: String], arguments: [String],
                            nowMs: Int64) throws(HandlerError) -> SliceInput {
        let base = try Params.fromArguments(arguments)
        if stdin.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return try fromEnvironment(env, params: base, nowMs: nowMs)
        }
        let value: JSONValue
        do { value = try JSONValue.decode(stdin) } catch {
            throw HandlerError("standard input is not the slice's JSON object: \(error.withExcerpt)",
                               hint: "baton writes one JSON object on stdin; to run a handler by hand, give it no stdin (< /dev/null)")
        }
        guard case .object = value else {
            throw HandlerError("standard input holds \(value.kind), not the slice's JSON object")
        }
        let version: Int64
        do { version = try JSONField(value)["version"].optionalInteger() ?? protocolVersion } catch {
            throw HandlerError("stdin field \(error)")
        }
        guard version == protocolVersion else {
            throw HandlerError("stdin speaks protocol version \(version); this handler knows version \(protocolVersion)",
                               hint: "rebuild the handler with the baton that runs it")
        }
        do { return try fields(JSONField(value), base: base, nowMs: nowMs) } catch {
            throw HandlerError("stdin field \(error)", hint: "baton writes this object; run the handler with the baton that built it")
        }
    }

    /// The protocol's fields, each read naming its path when it is wrong.
    static func fields(_ doc: JSONField, base: Params, nowMs: Int64) throws(JSONFieldError) -> SliceInput {
        func string(_ key: String, _ fallback: String = "") throws(JSONFieldError) -> String {
            try doc[key].optionalString("a string") ?? fallback
        }
        func integer(_ key: String, _ fallback: Int64) throws(JSONFieldError) -> Int64 {
            try doc[key].optionalInteger() ?? fallback
        }
        var params = base
        if !doc["params"].isAbsent { params.merge(try doc["params"].object()) }
        let budget = try integer("budget_ms", 55_000)
        let cursor = try doc["cursor"].optionalString()
        let payload = doc["payload"].isAbsent ? nil : doc["payload"].value
        return SliceInput(job: try string("job"), runId: try string("run_id"), slice: Int(try integer("slice", 1)),
                          attempt: Int(try integer("attempt", 1)), cursor: cursor, trigger: try string("trigger", "manual"),
                          scheduledAt: try string("scheduled_at"), budgetMs: budget,
                          deadlineMs: try integer("deadline_ms", nowMs + budget), params: params, payload: payload)
    }

    static func fromEnvironment(_ env: [String: String], params: Params, nowMs: Int64) throws(HandlerError) -> SliceInput {
        func integer(_ key: String, _ fallback: Int64) throws(HandlerError) -> Int64 {
            guard let text = env[key], !text.isEmpty else { return fallback }
            guard let n = Int64(text) else { throw HandlerError("\(key)='\(text)' is not a whole number") }
            return n
        }
        let budget = try integer("BATON_BUDGET_MS", 55_000)
        return SliceInput(job: env["BATON_JOB"] ?? "", runId: env["BATON_RUN_ID"] ?? "",
                          slice: Int(try integer("BATON_SLICE", 1)), attempt: Int(try integer("BATON_ATTEMPT", 1)),
                          cursor: env["BATON_CURSOR"].flatMap { $0.isEmpty ? nil : $0 },
                          trigger: env["BATON_TRIGGER"] ?? "manual", scheduledAt: env["BATON_SCHEDULED_AT"] ?? "",
                          budgetMs: budget, deadlineMs: try integer("BATON_DEADLINE_MS", nowMs + budget), params: params)
    }
}
