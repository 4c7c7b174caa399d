/// The six positions of a cron expression (seconds only in six-field form).
public enum CronFieldKind: Int, Sendable, CaseIterable {
    case second, minute, hour, dayOfMonth, month, dayOfWeek

    public var name: String {
        switch self {
        case .second: "second"
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// Allowed numbers; day-of-week takes 0-7, both ends meaning Sunday.
    public var range: ClosedRange<Int> {
        switch self {
        case .second, .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    var example: String {
        switch self {
        case .second: "'0', '*/10' or '0,30'"
        case .minute: "'0', '*/15' or '0,30'"
        case .hour: "'9', '9-17' or '*/2'"
        case .dayOfMonth: "'1', '1,15', 'L' (last day), 'LW' or '15W'"
        case .month: "'1', 'jan-mar' or '*/3'"
        case .dayOfWeek: "'1-5', 'mon-fri', '5L' (last Friday) or 'mon#2'"
        }
    }
}

/// One parsed field: the set of plain values plus the day extensions.
struct CronField: Sendable, Equatable {
    /// Bit n set when value n matches (day-of-week 7 is folded into 0).
    var bits: UInt64 = 0
    /// The raw text started with `*` (the Vixie day-of-month/day-of-week rule).
    var starred = false
    // Day-of-month extensions.
    var lastDay = false          // L
    var lastWeekday = false      // LW
    var nearestWeekday: UInt32 = 0  // nW, bit n
    // Day-of-week extensions: bit w (0 = Sunday).
    var lastOfMonth: UInt8 = 0   // 5L
    /// Byte k (1-5) is the set of weekdays w written as `w#k`.
    var nth: UInt64 = 0

    @inline(__always) func nth(_ k: Int) -> UInt8 { UInt8(truncatingIfNeeded: nth >> UInt64(8 * k)) }

    var count: Int { bits.nonzeroBitCount }
    var single: Int? { count == 1 ? bits.trailingZeroBitCount : nil }

    @inline(__always) func contains(_ v: Int) -> Bool { bits & (1 << UInt64(v)) != 0 }
}

/// Parses one field of a cron expression. Columns in errors count from `column`.
struct CronFieldParser {
    let kind: CronFieldKind
    let text: Substring
    let column: Int

    func parse() throws(ExpressionError) -> CronField {
        var field = CronField()
        field.starred = text.hasPrefix("*")
        var offset = 0
        for term in text.split(separator: ",", omittingEmptySubsequences: false) {
            if term.isEmpty {
                throw ExpressionError(column: column + offset,
                                      "empty item in the \(kind.name) list",
                                      hint: "remove the extra comma; a list looks like '1,15,30'")
            }
            try parseTerm(term.uppercased()[...], original: term, at: column + offset, into: &field)
            offset += term.count + 1
        }
        if kind == .dayOfWeek, field.contains(7) {
            field.bits = (field.bits & ~(1 << 7)) | 1
        }
        return field
    }

    private func parseTerm(_ t: Substring, original: Substring, at col: Int, into f: inout CronField) throws(ExpressionError) {
        if let bad = original.firstIndex(where: { !$0.isASCII || $0.isWhitespace }) {
            throw ExpressionError(column: col + original.distance(from: original.startIndex, to: bad),
                                  "unexpected character '\(original[bad])' in the \(kind.name) field",
                                  hint: "write \(kind.example)")
        }
        if kind == .dayOfMonth, t == "L" { f.lastDay = true; return }
        if kind == .dayOfMonth, t == "LW" { f.lastWeekday = true; return }
        if kind == .dayOfMonth, t.hasSuffix("W"), t.count > 1 {
            let n = try value(t.dropLast(), at: col)
            f.nearestWeekday |= 1 << UInt32(n)
            return
        }
        if kind == .dayOfMonth, t.hasPrefix("L") {
            throw ExpressionError(column: col, "'\(original)' is not a day-of-month",
                                  hint: "write 'L' for the last day of the month or 'LW' for its last weekday")
        }
        if kind == .dayOfWeek, let hash = t.firstIndex(of: "#") {
            let day = try value(t[..<hash], at: col)
            let nthText = t[t.index(after: hash)...]
            let nthCol = col + t.distance(from: t.startIndex, to: hash) + 1
            guard let k = Int(nthText), nthText.allSatisfy(\.isASCII), nthText.allSatisfy(\.isNumber), (1...5).contains(k) else {
                throw ExpressionError(column: nthCol, "'#\(nthText)' is not a week of the month",
                                      hint: "write 1 to 5 after '#': 'mon#2' is the second Monday")
            }
            f.nth |= UInt64(1 << UInt8(day % 7)) << UInt64(8 * k)
            return
        }
        if kind == .dayOfWeek, t.hasSuffix("L") {
            guard t.count > 1 else {
                throw ExpressionError(column: col, "'L' alone is not a day-of-week",
                                      hint: "name the day: '5L' or 'friL' is the last Friday of the month")
            }
            let day = try value(t.dropLast(), at: col)
            f.lastOfMonth |= 1 << UInt8(day % 7)
            return
        }
        if let slash = t.firstIndex(of: "/") {
            let stepText = t[t.index(after: slash)...]
            let stepCol = col + t.distance(from: t.startIndex, to: slash) + 1
            guard !stepText.isEmpty, stepText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let step = Int(stepText.prefix(6)), step > 0 else {
                throw ExpressionError(column: stepCol, "step '\(stepText)' in the \(kind.name) field is not a positive whole number",
                                      hint: "write a step of 1 or more: '*/15' is every 15th \(kind.name)")
            }
            let base = t[..<slash]
            let lo: Int
            var hi: Int
            if base == "*" {
                (lo, hi) = (kind.range.lowerBound, kind.range.upperBound)
            } else if base.contains("-") {
                // A range keeps its bounds with a step, even one naming a single value:
                // `8-8/3` is just 8, as in Debian cron and cronsim 2.9 (2.8 read it as
                // `8/3`, which baton once copied: issue 11).
                (lo, hi) = try range(base, at: col)
            } else {
                (lo, hi) = (try value(base, at: col), kind.range.upperBound)
            }
            var v = lo
            while v <= hi { f.bits |= 1 << UInt64(v); v += step }
            return
        }
        if t == "*" {
            for v in kind.range { f.bits |= 1 << UInt64(v) }
            return
        }
        if t.contains("-") {
            let (lo, hi) = try range(t, at: col)
            for v in lo...hi { f.bits |= 1 << UInt64(v) }
            return
        }
        f.bits |= 1 << UInt64(try value(t, at: col))
    }

    private func range(_ t: Substring, at col: Int) throws(ExpressionError) -> (Int, Int) {
        let dash = t.firstIndex(of: "-")!
        let lo = try value(t[..<dash], at: col)
        let hi = try value(t[t.index(after: dash)...], at: col + t.distance(from: t.startIndex, to: dash) + 1)
        if hi < lo {
            let wrap = kind == .dayOfWeek || kind == .month || kind == .hour
            throw ExpressionError(column: col, "range \(t.lowercased()) in the \(kind.name) field runs backwards",
                                  hint: wrap
                                      ? "ranges do not wrap around; write two ranges, e.g. '\(lo)-\(kind.range.upperBound),\(kind.range.lowerBound)-\(hi)'"
                                      : "write the smaller number first: '\(hi)-\(lo)'")
        }
        return (lo, hi)
    }

    private func value(_ t: Substring, at col: Int) throws(ExpressionError) -> Int {
        if t.isEmpty {
            throw ExpressionError(column: col, "missing value in the \(kind.name) field", hint: "write \(kind.example)")
        }
        if t.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let v = Int(t.prefix(9)), t.count <= 9, kind.range.contains(v) else {
                let r = kind.range
                throw ExpressionError(column: col, "\(kind.name) \(t) is out of range \(r.lowerBound)-\(r.upperBound)",
                                      hint: "write \(kind == .hour ? "an" : "a") \(kind.name) from \(r.lowerBound) to \(r.upperBound), e.g. \(kind.example)")
            }
            return v
        }
        let names = kind == .month ? CronFieldKind.monthNames : kind == .dayOfWeek ? CronFieldKind.dayNames : []
        if let i = names.firstIndex(of: String(t)) {
            return kind == .month ? i + 1 : i
        }
        if !names.isEmpty, t.count > 3, let i = names.firstIndex(of: String(t.prefix(3))) {
            _ = i
            throw ExpressionError(column: col, "'\(t.lowercased())' is not a \(kind.name) name",
                                  hint: "use the three-letter name '\(t.prefix(3).lowercased())'")
        }
        if t == "?" {
            throw ExpressionError(column: col, "'?' is not supported in the \(kind.name) field", hint: "write '*'")
        }
        throw ExpressionError(column: col, "'\(t.lowercased())' is not a valid \(kind.name)",
                              hint: names.isEmpty ? "write \(kind.example)"
                                  : "write a number or a name (\(names.first!.lowercased())…\(names.last!.lowercased())), e.g. \(kind.example)")
    }
}
