import Foundation

extension JSONValue {
    /// A value from the `[String: Any]` documents the report and the sandbox still build
    /// (String, Bool, integers, Double, NSNull, arrays, string-keyed dictionaries,
    /// optionals), so every document baton writes goes through one encoder (`text`).
    /// Anything else is a programmer's error.
    public init(any value: Any) {
        switch value {
        case let v as JSONValue: self = v
        case let s as String: self = .string(s)
        case let s as Substring: self = .string(String(s))
        case let b as Bool: self = .bool(b)
        case let n as Int: self = JSONValue(n)
        case let n as Int64: self = JSONValue(n)
        case let n as Int32: self = JSONValue(n)
        case let n as UInt16: self = JSONValue(Int(n))
        case let d as Double: self = JSONValue(d)
        case is NSNull: self = .null
        case let o as [String: Any]: self = .object(o.mapValues { JSONValue(any: $0) })
        case let a as [Any]: self = .array(a.map { JSONValue(any: $0) })
        default:
            // An Optional inside `Any`: nil is null, a value is itself.
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                self = mirror.children.first.map { JSONValue(any: $0.value) } ?? .null
                return
            }
            preconditionFailure("no JSON for a \(type(of: value))")
        }
    }
}
