import BatonJSON
import BatonStore

/// A handler's result (SPEC §3): one JSON object on stdout, or nothing at all
/// ("done, nothing to report").
public struct SliceResult: Sendable, Equatable {
    public var cursor: String?
    public var hasMore: Bool
    public var total: Int?
    public var counts = Counts()
    public var items: [(id: String, status: String, error: String?)] = []
    public var retryAfterMs: Int64?
    public var message: String?
    public var usage = TokenUsage()

    public static func == (a: SliceResult, b: SliceResult) -> Bool {
        a.cursor == b.cursor && a.hasMore == b.hasMore && a.total == b.total && a.counts == b.counts
            && a.items.map { "\($0.id)|\($0.status)|\($0.error ?? "")" } == b.items.map { "\($0.id)|\($0.status)|\($0.error ?? "")" }
            && a.retryAfterMs == b.retryAfterMs && a.message == b.message && a.usage == b.usage
    }

    /// Reads a result. Fields it does not know are ignored (later protocol versions).
    /// - Throws: `ResultError` naming the field at fault and what was expected.
    public static func parse(_ output: [UInt8]) throws(ResultError) -> SliceResult {
        if output.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) {
            return SliceResult(cursor: nil, hasMore: false)
        }
        let value: JSONValue
        do { value = try JSONValue.decode(output) } catch {
            // The message is what `show`, `runs` and the invoke summary print: it carries
            // the position, the line at fault, and the most common cause.
            throw ResultError("stdout is not one JSON object: \(error.withExcerpt); logs belong on stderr (>&2), stdout takes only the result",
                              hint: "print exactly one JSON object such as {\"cursor\":\"42\"} on stdout, or nothing; write logs to stderr")
        }
        guard case let .object(o) = value else {
            throw ResultError("stdout holds \(value.kind), not a JSON object", hint: "print one object: {\"cursor\":…,\"has_more\":…}")
        }
        let r: SliceResult
        do { r = try fields(o) } catch { throw ResultError.field(error) }
        if let c = r.cursor, c.utf8.count > 64 * 1024 {
            throw ResultError("result field \"cursor\" is longer than 64 KiB", hint: "keep cursors short: a key, an offset, an id")
        }
        return r
    }

    /// The protocol's fields, each read naming its path when it is wrong.
    static func fields(_ o: [String: JSONValue]) throws(JSONFieldError) -> SliceResult {
        // One lookup per top-level field, straight from the object: this runs per slice.
        func doc(_ key: String) -> JSONField { JSONField(o[key], path: key) }
        var r = SliceResult(cursor: nil, hasMore: false)
        let wholeCount = "a whole number of 0 or more"
        r.cursor = try doc("cursor").optionalString()
        let hasMore = doc("has_more")
        r.hasMore = try hasMore.isAbsent ? r.cursor != nil : hasMore.bool()
        r.total = try doc("total").optionalInteger(wholeCount, in: 0...Int64(Int.max)).map { Int($0) }
        let counts = doc("counts")
        if !counts.isAbsent {
            _ = try counts.object("an object such as {\"processed\":15}")
            func count(_ key: String) throws(JSONFieldError) -> Int {
                Int(try counts[key].optionalInteger(wholeCount, in: 0...Int64(Int.max)) ?? 0)
            }
            r.counts = Counts(processed: try count("processed"), succeeded: try count("succeeded"),
                              skipped: try count("skipped"), failed: try count("failed"))
        }
        let items = doc("items")
        if !items.isAbsent {
            guard case let .array(list)? = items.value else { throw items.mismatch("an array of {\"id\",\"status\"}") }
            // Every item is kept as written: the 1 MiB bound on a result bounds them, and an
            // item dropped or cut here would be one `baton retry` never redoes (issue 11).
            // Read straight from the values (a result may hold thousands); the field's
            // path is made only for an error.
            r.items.reserveCapacity(list.count)
            for (i, item) in list.enumerated() {
                guard case let .object(it) = item else { throw items[i].mismatch("an object with \"id\" and \"status\"") }
                let id: String
                switch it["id"] {
                case let .string(s)?: id = s
                case let x? where x.integer != nil: id = String(x.integer!)
                default: throw items[i]["id"].mismatch("a string")
                }
                guard case let .string(status)? = it["status"] else { throw items[i]["status"].mismatch("a string such as \"failed\"") }
                var error: String?
                switch it["error"] {
                case nil, .null?: break
                case let .string(e)?: error = e
                default: throw items[i]["error"].mismatch("a string")
                }
                r.items.append((id, status, error))
            }
        }
        if let n = try doc("retry_after_ms").optionalInteger("a whole number of milliseconds", in: 0...Int64.max) {
            r.retryAfterMs = min(n, 3_600_000)
        }
        let usage = doc("usage")
        if !usage.isAbsent {
            _ = try usage.object("an object such as {\"input_tokens\":1200,\"output_tokens\":300,\"cost_usd\":0.004}")
            func tokens(_ key: String) throws(JSONFieldError) -> Int {
                Int(try usage[key].optionalInteger(wholeCount, in: 0...(1 << 40) - 1) ?? 0)
            }
            var cost = 0.0
            if !usage["cost_usd"].isAbsent {
                cost = try usage["cost_usd"].double("a number of US dollars, 0 or more")
                guard cost >= 0, cost < 1e9 else { throw usage["cost_usd"].mismatch("a number of US dollars, 0 or more") }
            }
            r.usage = TokenUsage(inputTokens: try tokens("input_tokens"), outputTokens: try tokens("output_tokens"), costUsd: cost)
        }
        r.message = try doc("message").optionalString("a string").map { String($0.prefix(1000)) }
        return r
    }
}

/// Why a result was refused: the field and what was expected.
public struct ResultError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) { self.message = message; self.hint = hint }

    /// `result field "items[3].status": expected a string such as "failed", got 42`.
    static func field(_ error: JSONFieldError) -> ResultError {
        ResultError("result field \(error)", hint: "fix the handler's output; the slice is retried with the same cursor")
    }

    public var description: String { message }
}
