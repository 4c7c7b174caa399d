/// A value bound to a statement parameter. Optional Swift values bind as SQL NULL.
public enum SQLiteValue {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null

    public static func int(_ value: Int?) -> SQLiteValue { value.map { .integer(Int64($0)) } ?? .null }
    public static func int64(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }
    public static func string(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
    public static func bool(_ value: Bool) -> SQLiteValue { .integer(value ? 1 : 0) }
}
