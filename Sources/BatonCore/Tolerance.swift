/// `tolerate=` (SPEC §2): how many failed items a run may end with and still be
/// `succeeded`. Past it the run ends `failed`, so cron users hear about items that
/// failed quietly inside an otherwise working run (issue 11).
public enum Tolerance: Sendable, Equatable, CustomStringConvertible {
    /// At most this many failed items.
    case count(Int)
    /// At most this percentage of the run's processed items.
    case percent(Double)

    /// The default: any failed item fails the run.
    public static let none = Tolerance.count(0)

    /// Whether a run that ended with `failed` of `processed` items still succeeds.
    public func allows(failed: Int, processed: Int) -> Bool {
        switch self {
        case let .count(n): failed <= n
        case let .percent(p): Double(failed) <= Double(max(processed, 0)) * p / 100
        }
    }

    public var description: String {
        switch self {
        case let .count(n): String(n)
        case let .percent(p): p == p.rounded() ? "\(Int(p))%" : "\(p)%"
        }
    }

    /// Reads `5` (a count) or `2%` / `0.5%` (a share of processed items, 0 to 100).
    /// - Throws: `ExpressionError` whose column counts within `text`.
    public static func parse(_ text: Substring) throws(ExpressionError) -> Tolerance {
        let hint = "write a count such as 'tolerate=5', or a share of processed items such as 'tolerate=2%'"
        if text.hasSuffix("%") {
            let number = text.dropLast()
            guard !number.isEmpty, number.count <= 12,
                  number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  let p = Double(number), p >= 0, p <= 100 else {
                throw ExpressionError(column: 1, "tolerate '\(text)' is not a percentage from 0% to 100%", hint: hint)
            }
            return .percent(p)
        }
        guard !text.isEmpty, text.count <= 10, text.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(text) else {
            throw ExpressionError(column: 1, "tolerate '\(text)' is not a whole number of items or a percentage", hint: hint)
        }
        return .count(n)
    }
}
