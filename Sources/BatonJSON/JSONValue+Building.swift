/// Building values in Swift: literals for constants (`["status": "ok", "queued": true]`)
/// and typed initializers for variables (`JSONValue(run.id)`, `JSONValue(count)`), so a
/// document is checked by the compiler instead of cast from `Any` at run time.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(floatLiteral value: Double) { self.init(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }

    public init(_ s: String) { self = .string(s) }
    public init(_ b: Bool) { self = .bool(b) }
    public init(_ n: Int) { self = .number(String(n)) }
    public init(_ n: Int64) { self = .number(String(n)) }
    public init(_ n: Int32) { self = .number(String(n)) }
    /// A finite number as Swift writes it shortest (`0.0123`, `1e-06`); NaN and the
    /// infinities, which JSON cannot hold, become `null`.
    public init(_ d: Double) {
        guard d.isFinite else { self = .null; return }
        if d == d.rounded(), abs(d) < 1e15 { self = .number(String(Int64(d))) } else { self = .number("\(d)") }
    }
    /// `null` for nil.
    public init<T>(_ optional: T?, _ wrap: (T) -> JSONValue) {
        self = optional.map(wrap) ?? .null
    }
    public init(_ optional: String?) { self = optional.map(JSONValue.string) ?? .null }
    public init(_ strings: [String]) { self = .array(strings.map(JSONValue.string)) }
}
