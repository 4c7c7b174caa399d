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
            let excerpt = error.excerpt.isEmpty ? "" : ": \(JSONValue.quote(error.excerpt))"
            throw ResultError("stdout is not one JSON object: \(error)\(excerpt); logs belong on stderr (>&2), stdout takes only the result",
                              hint: "print exactly one JSON object such as {\"cursor\":\"42\"} on stdout, or nothing; write logs to stderr")
        }
        guard case let .object(o) = value else {
            throw ResultError("stdout holds \(value.kind), not a JSON object", hint: "print one object: {\"cursor\":…,\"has_more\":…}")
        }
        var r = SliceResult(cursor: nil, hasMore: false)
        switch o["cursor"] {
        case nil, .null?: r.cursor = nil
        case let .string(s)?:
            guard s.utf8.count <= 64 * 1024 else { throw ResultError("result field 'cursor' is longer than 64 KiB", hint: "keep cursors short: a key, an offset, an id") }
            r.cursor = s
        case let v?: throw ResultError.field("cursor", "a string or null", v)
        }
        switch o["has_more"] {
        case nil, .null?: r.hasMore = r.cursor != nil
        case let .bool(b)?: r.hasMore = b
        case let v?: throw ResultError.field("has_more", "true or false", v)
        }
        if let v = o["total"], v != .null {
            guard let n = v.integer, n >= 0 else { throw ResultError.field("total", "a whole number of 0 or more", v) }
            r.total = Int(n)
        }
        if let v = o["counts"], v != .null {
            guard case let .object(c) = v else { throw ResultError.field("counts", "an object such as {\"processed\":15}", v) }
            func count(_ key: String) throws(ResultError) -> Int {
                guard let x = c[key], x != .null else { return 0 }
                guard let n = x.integer, n >= 0 else { throw ResultError.field("counts.\(key)", "a whole number of 0 or more", x) }
                return Int(n)
            }
            r.counts = Counts(processed: try count("processed"), succeeded: try count("succeeded"),
                              skipped: try count("skipped"), failed: try count("failed"))
        }
        if let v = o["items"], v != .null {
            guard case let .array(list) = v else { throw ResultError.field("items", "an array of {\"id\",\"status\"}", v) }
            // Every item is kept as written: the 1 MiB bound on a result bounds them, and an
            // item dropped or cut here would be one `baton retry` never redoes (issue 11).
            r.items.reserveCapacity(list.count)
            for (i, item) in list.enumerated() {
                guard case let .object(it) = item else { throw ResultError.field("items[\(i)]", "an object with \"id\" and \"status\"", item) }
                let id: String
                switch it["id"] {
                case let .string(s)?: id = s
                case let x? where x.integer != nil: id = String(x.integer!)
                case let x: throw ResultError.field("items[\(i)].id", "a string", x ?? .null)
                }
                guard case let .string(status)? = it["status"] else {
                    throw ResultError.field("items[\(i)].status", "a string such as \"failed\"", it["status"] ?? .null)
                }
                var error: String?
                if let e = it["error"], e != .null {
                    guard case let .string(s) = e else { throw ResultError.field("items[\(i)].error", "a string", e) }
                    error = s
                }
                r.items.append((id, status, error))
            }
        }
        if let v = o["retry_after_ms"], v != .null {
            guard let n = v.integer, n >= 0 else { throw ResultError.field("retry_after_ms", "a whole number of milliseconds", v) }
            r.retryAfterMs = min(n, 3_600_000)
        }
        if let v = o["usage"], v != .null {
            guard case let .object(u) = v else {
                throw ResultError.field("usage", "an object such as {\"input_tokens\":1200,\"output_tokens\":300,\"cost_usd\":0.004}", v)
            }
            func tokens(_ key: String) throws(ResultError) -> Int {
                guard let x = u[key], x != .null else { return 0 }
                guard let n = x.integer, n >= 0, n < 1 << 40 else { throw ResultError.field("usage.\(key)", "a whole number of 0 or more", x) }
                return Int(n)
            }
            var cost = 0.0
            if let x = u["cost_usd"], x != .null {
                guard case let .number(text) = x, let d = Double(text), d.isFinite, d >= 0, d < 1e9 else {
                    throw ResultError.field("usage.cost_usd", "a number of US dollars, 0 or more", x)
                }
                cost = d
            }
            r.usage = TokenUsage(inputTokens: try tokens("input_tokens"), outputTokens: try tokens("output_tokens"), costUsd: cost)
        }
        if let v = o["message"], v != .null {
            guard case let .string(s) = v else { throw ResultError.field("message", "a string", v) }
            r.message = String(s.prefix(1000))
        }
        return r
    }
}

/// Why a result was refused: the field and what was expected.
public struct ResultError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) { self.message = message; self.hint = hint }

    static func field(_ name: String, _ expected: String, _ got: JSONValue) -> ResultError {
        ResultError("result field '\(name)' must be \(expected), not \(got.kind)",
                    hint: "fix the handler's output; the slice is retried with the same cursor")
    }

    public var description: String { message }
}
