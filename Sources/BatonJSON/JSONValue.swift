import Foundation

/// Any JSON value, decoded strictly (a number is never a boolean, nor the reverse),
/// so a handler's result can be checked field by field.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number as written (`12345678901234567890`, `1e400`, `-0.5`): kept as text, so
    /// payloads pass through exactly; `integer` reads it when a whole number is needed.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// What a person calls this kind of value, for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// A whole number that fits Int64, if this is one (`15` or `15.0`, not `1.5`).
    public var integer: Int64? {
        guard case let .number(text) = self else { return nil }
        if let v = Int64(text) { return v }
        guard let d = Double(text), d.isFinite, d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return Int64(d)
    }

    /// Compact JSON text of this value (object keys sorted, numbers as written).
    public var text: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(n): return n
        case let .string(s): return JSONValue.quote(s)
        case let .array(a): return "[" + a.map(\.text).joined(separator: ",") + "]"
        case let .object(o):
            return "{" + o.keys.sorted().map { JSONValue.quote($0) + ":" + o[$0]!.text }.joined(separator: ",") + "}"
        }
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Parses JSON text; nil when it is not exactly one JSON value.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(bytes).get()
    }

    /// Parses JSON text that must be exactly one JSON value.
    /// - Throws: `JSONSyntaxError` with the line and column of the first problem.
    public static func decode(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        try JSONParser.parse(bytes).get()
    }
}

extension JSONValue {
    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    /// The element at `index` of an array, or nil.
    public subscript(index: Int) -> JSONValue? {
        if case let .array(a) = self, index >= 0, index < a.count { return a[index] }
        return nil
    }

    /// The text of a string, or nil.
    public var string: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// A number as Int, or nil.
    public var int: Int? { integer.flatMap { Int(exactly: $0) } }

    /// A number from Swift's.
    public static func number(_ n: Int) -> JSONValue { .number(String(n)) }
}
