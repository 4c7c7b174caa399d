/// What a decoder found wrong with one field: where it is in the document and what was
/// expected there, e.g. `"items[3].status": expected a string such as "failed", got 42`.
public struct JSONFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `cursor`, `counts.failed`, `items[3].status`; empty for the whole document.
    public var path: String
    public var expected: String
    /// The value found, as `JSONValue.brief` shows it, or `nothing` when absent.
    public var got: String

    public init(path: String, expected: String, got: String) {
        self.path = path; self.expected = expected; self.got = got
    }

    public var description: String {
        path.isEmpty ? "expected \(expected), got \(got)" : "\"\(path)\": expected \(expected), got \(got)"
    }
}

/// A value at a path in a decoded document, so every read can name the field at fault.
/// `JSONField(doc)["items"][3]["status"].string()` throws
/// `"items[3].status": expected a string, got 42`. A field that is absent and one that
/// is `null` both read as absent in the `optional…` reads.
public struct JSONField: Sendable {
    /// nil when the field is absent.
    public let value: JSONValue?
    // The path is built only for an error (decoding is on every slice's path): a
    // prefix shared with the parent, then at most an index and a key.
    private let prefix: String
    private let index: Int
    private let key: String?

    public init(_ value: JSONValue?, path: String = "") {
        self.init(value, prefix: path, index: -1, key: nil)
    }

    private init(_ value: JSONValue?, prefix: String, index: Int, key: String?) {
        self.value = value; self.prefix = prefix; self.index = index; self.key = key
    }

    /// `cursor`, `counts.failed`, `items[3].status`; empty for the document itself.
    public var path: String {
        var p = prefix
        if index >= 0 { p += "[\(index)]" }
        if let key { p += p.isEmpty ? key : "." + key }
        return p
    }

    /// The member `key` (absent unless this is an object holding it).
    public subscript(key: String) -> JSONField {
        let member = value?[key]
        if self.key == nil { return JSONField(member, prefix: prefix, index: index, key: key) }
        return JSONField(member, prefix: path, index: -1, key: key)
    }

    /// The element at `index` (absent unless this is an array that long).
    public subscript(index: Int) -> JSONField {
        JSONField(value?[index], prefix: path, index: index, key: nil)
    }

    /// Absent, or `null`.
    public var isAbsent: Bool {
        switch value {
        case nil, .null?: true
        default: false
        }
    }

    /// The error saying this field is not `expected`.
    public func mismatch(_ expected: String) -> JSONFieldError {
        JSONFieldError(path: path, expected: expected, got: value?.brief ?? "nothing")
    }

    /// - Throws: `JSONFieldError` unless this is a string.
    public func string(_ expected: String = "a string") throws(JSONFieldError) -> String {
        guard case let .string(s)? = value else { throw mismatch(expected) }
        return s
    }

    /// nil when absent or null.
    /// - Throws: `JSONFieldError` when present and not a string.
    public func optionalString(_ expected: String = "a string or null") throws(JSONFieldError) -> String? {
        if isAbsent { return nil }
        return try string(expected)
    }

    /// - Throws: `JSONFieldError` unless this is `true` or `false`.
    public func bool(_ expected: String = "true or false") throws(JSONFieldError) -> Bool {
        guard case let .bool(b)? = value else { throw mismatch(expected) }
        return b
    }

    /// A whole number (`15` or `15.0`) within `range`.
    /// - Throws: `JSONFieldError` for anything else.
    public func integer(_ expected: String = "a whole number",
                        in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(JSONFieldError) -> Int64 {
        guard let n = value?.integer, range.contains(n) else { throw mismatch(expected) }
        return n
    }

    /// nil when absent or null.
    /// - Throws: `JSONFieldError` when present and not a whole number within `range`.
    public func optionalInteger(_ expected: String = "a whole number",
                                in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(JSONFieldError) -> Int64? {
        if isAbsent { return nil }
        return try integer(expected, in: range)
    }

    /// A finite number.
    /// - Throws: `JSONFieldError` for anything else.
    public func double(_ expected: String = "a number") throws(JSONFieldError) -> Double {
        guard case let .number(text)? = value, let d = Double(text), d.isFinite else { throw mismatch(expected) }
        return d
    }

    /// The members of an object.
    /// - Throws: `JSONFieldError` unless this is an object.
    public func object(_ expected: String = "an object") throws(JSONFieldError) -> [String: JSONValue] {
        guard case let .object(o)? = value else { throw mismatch(expected) }
        return o
    }

    /// The elements of an array, each with its path (made as they are read: no copy).
    /// - Throws: `JSONFieldError` unless this is an array.
    public func elements(_ expected: String = "an array") throws(JSONFieldError) -> LazyMapCollection<Range<Int>, JSONField> {
        guard case let .array(a)? = value else { throw mismatch(expected) }
        let path = self.path
        return a.indices.lazy.map { JSONField(a[$0], prefix: path, index: $0, key: nil) }
    }
}

extension JSONValue {
    /// The value as an error message shows it: numbers, booleans and null as written
    /// (numbers cut to 24 characters), strings, arrays and objects by kind only, since a
    /// string may be message text that must not reach a log.
    public var brief: String {
        switch self {
        case .null: "null"
        case let .bool(b): b ? "true" : "false"
        case let .number(n): n.count > 24 ? String(n.prefix(23)) + "…" : n
        case .string, .array, .object: kind
        }
    }
}
