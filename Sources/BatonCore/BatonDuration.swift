/// Durations as schedule files write them: `500ms`, `30s`, `5m`, `2h`, `1d`, and sums
/// such as `1h30m`.
public enum DurationText {
    static let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]

    /// Parses a duration.
    /// - Throws: `ExpressionError` with the column (from 1) of the part at fault.
    public static func parse(_ text: some StringProtocol) throws(ExpressionError) -> Duration {
        let chars = Array(text.utf8)
        if chars.isEmpty {
            throw ExpressionError(column: 1, "empty duration", hint: "write a number and a unit, e.g. '30s', '5m' or '1h30m'")
        }
        var i = 0
        var totalMs: Int64 = 0
        while i < chars.count {
            let start = i
            var value: Int64 = 0
            while i < chars.count, chars[i] >= 48, chars[i] <= 57 {
                let (v, o1) = value.multipliedReportingOverflow(by: 10)
                let (w, o2) = v.addingReportingOverflow(Int64(chars[i] - 48))
                if o1 || o2 { throw tooLong(text) }
                value = w
                i += 1
            }
            if i == start {
                throw ExpressionError(column: start + 1, "'\(text)' is not a duration: expected a number at '\(String(decoding: chars[start...], as: UTF8.self))'",
                                      hint: "write a number and a unit, e.g. '30s', '5m' or '1h30m'")
            }
            let unitStart = i
            while i < chars.count, (chars[i] >= 97 && chars[i] <= 122) || (chars[i] >= 65 && chars[i] <= 90) { i += 1 }
            let unit = String(decoding: chars[unitStart..<i], as: UTF8.self)
            guard let scale = units.first(where: { $0.0 == unit })?.1 else {
                let hint = unit.isEmpty
                    ? "add a unit: '\(value)s' for seconds, '\(value)m' for minutes"
                    : "units are ms, s, m, h and d, e.g. '90s' or '1h30m'"
                throw ExpressionError(column: unitStart + 1,
                                      unit.isEmpty ? "duration '\(text)' has no unit" : "unknown unit '\(unit)' in duration '\(text)'",
                                      hint: hint)
            }
            let (part, o) = value.multipliedReportingOverflow(by: scale)
            let (sum, o2) = totalMs.addingReportingOverflow(part)
            if o || o2 || sum > 100 * 365 * 86_400_000 { throw tooLong(text) }
            totalMs = sum
        }
        return .milliseconds(totalMs)
    }

    static func tooLong(_ text: some StringProtocol) -> ExpressionError {
        ExpressionError(column: 1, "duration '\(text)' is too long", hint: "durations go up to 100 years; write e.g. '365d'")
    }

    /// Formats a duration the way it is parsed: `1h30m`, `500ms`, `0s`.
    public static func format(_ d: Duration) -> String {
        var ms = milliseconds(d)
        if ms == 0 { return "0s" }
        var out = ms < 0 ? "-" : ""
        ms = abs(ms)
        for (unit, scale) in units.reversed() where ms >= scale {
            out += "\(ms / scale)\(unit)"
            ms %= scale
        }
        return out
    }

    /// A duration in whole milliseconds.
    public static func milliseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}
