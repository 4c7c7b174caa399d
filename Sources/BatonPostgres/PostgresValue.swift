import Foundation

/// A statement parameter, sent in PostgreSQL's text format (the server parses it for
/// the parameter's type, inferred from the statement or given by a cast there).
public enum PostgresValue: Sendable, Equatable {
    case null
    case text(String)
    case integer(Int64)
    case real(Double)
    case bool(Bool)

    public static func int(_ value: Int) -> PostgresValue { .integer(Int64(value)) }
    public static func int(_ value: Int?) -> PostgresValue { value.map { .integer(Int64($0)) } ?? .null }
    public static func int64(_ value: Int64?) -> PostgresValue { value.map { .integer($0) } ?? .null }
    public static func string(_ value: String?) -> PostgresValue { value.map { .text($0) } ?? .null }

    /// A `text[]` parameter (`= ANY($1)`): an array literal, each element quoted.
    public static func textArray(_ values: [String]) -> PostgresValue {
        textArray(values.map { Optional($0) })
    }

    /// A `text[]` parameter whose nil elements are NULL.
    public static func textArray(_ values: [String?]) -> PostgresValue {
        .text("{" + values.map { v in
            guard let v else { return "NULL" }
            return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }.joined(separator: ",") + "}")
    }

    /// The text format of the value; nil for NULL. PostgreSQL text cannot hold a NUL
    /// character (and libpq's text parameters end at one): each becomes U+FFFD, so a
    /// handler's stray NUL in a log or message cannot cut the rest off silently.
    var wire: String? {
        switch self {
        case .null: return nil
        case let .text(s): return s.contains("\0") ? s.replacingOccurrences(of: "\0", with: "\u{FFFD}") : s
        case let .integer(i): return String(i)
        case let .real(d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
            return "\(d)"  // the shortest text that reads back as the same Double
        case let .bool(b): return b ? "true" : "false"
        }
    }
}
