import BatonJSON
import BatonProviders

/// One item's outcome, for `items` in the result (what `baton retry` re-runs).
public struct ItemOutcome: Sendable, Equatable {
    public enum Status: String, Sendable {
        case succeeded, failed, skipped
        /// A send that may have been delivered: never sent again automatically.
        case unknown
    }
    public var id: String
    public var status: Status
    public var error: String?
    public init(id: String, status: Status, error: String? = nil) { self.id = id; self.status = status; self.error = error }
}

/// What a slice spent on AI providers (SPEC §3 `usage`), summed per run by baton and
/// checked against `max-tokens=` and `max-cost=`.
public struct Usage: Sendable, Equatable {
    public var inputTokens = 0
    public var outputTokens = 0
    public var costUsd = 0.0

    public init(inputTokens: Int = 0, outputTokens: Int = 0, costUsd: Double = 0) {
        self.inputTokens = inputTokens; self.outputTokens = outputTokens; self.costUsd = costUsd
    }

    public var isZero: Bool { inputTokens == 0 && outputTokens == 0 && costUsd == 0 }

    public static func += (a: inout Usage, b: Usage) {
        a.inputTokens += b.inputTokens; a.outputTokens += b.outputTokens; a.costUsd += b.costUsd
    }
}

/// The slice's result (SPEC §3), encoded once by the kit.
public struct SliceOutput: Sendable, Equatable {
    public var cursor: Cursor?
    /// Default: the cursor is not nil.
    public var hasMore: Bool?
    public var total: Int?
    public var processed = 0, succeeded = 0, skipped = 0, failed = 0
    /// Every item that did not succeed (failed, skipped with a reason, unknown).
    public var items: [ItemOutcome] = []
    public var retryAfterMs: Int64?
    /// Counts and ids only: never prompt, draft, story or message text.
    public var message: String?
    public var usage = Usage()

    public init(cursor: Cursor? = nil) { self.cursor = cursor }

    /// Counts an item and lists it when it did not succeed.
    public mutating func record(_ item: ItemOutcome) {
        processed += 1
        switch item.status {
        case .succeeded: succeeded += 1
        case .skipped: skipped += 1
        case .failed, .unknown: failed += 1
        }
        if item.status != .succeeded { items.append(item) }
    }

    /// The result object.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "cursor": cursor.map { .string($0.encoded) } ?? .null,
            "counts": .object(["processed": .number(processed), "succeeded": .number(succeeded),
                               "skipped": .number(skipped), "failed": .number(failed)]),
        ]
        if let hasMore { o["has_more"] = .bool(hasMore) }
        if let total { o["total"] = .number(total) }
        if !items.isEmpty {
            o["items"] = .array(items.map { i in
                var d: [String: JSONValue] = ["id": .string(i.id), "status": .string(i.status.rawValue)]
                if let e = i.error { d["error"] = .string(e) }
                return .object(d)
            })
        }
        if let r = retryAfterMs { o["retry_after_ms"] = .number(String(r)) }
        if let m = message { o["message"] = .string(m) }
        if !usage.isZero {
            o["usage"] = .object(["input_tokens": .number(usage.inputTokens), "output_tokens": .number(usage.outputTokens),
                                  "cost_usd": .number(Self.decimal(usage.costUsd))])
        }
        return .object(o)
    }

    /// Dollars as JSON text with at most 6 decimals, never an exponent.
    static func decimal(_ v: Double) -> String {
        let micros = Int64((max(0, v) * 1_000_000).rounded())
        let whole = micros / 1_000_000, frac = micros % 1_000_000
        guard frac != 0 else { return String(whole) }
        var f = String(frac)
        f = String(repeating: "0", count: 6 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)"
    }
}
