/// When a job fires.
public enum Schedule: Sendable, Equatable, CustomStringConvertible {
    /// A cron expression (a macro such as `@daily` is stored as its expansion).
    case cron(CronExpression, macro: String?)
    /// `@every D`: real elapsed time, on the multiples of D since the Unix epoch
    /// (1970-01-01T00:00:00Z), so every daemon, tick and restart computes the same fires.
    case every(Duration)
    /// `@reboot`: once per boot of the machine.
    case reboot

    public var description: String {
        switch self {
        case let .cron(e, macro): macro ?? e.source
        case let .every(d): "@every \(DurationText.format(d))"
        case .reboot: "@reboot"
        }
    }

    /// Parses a schedule written on its own (`baton next '…'`).
    /// - Throws: `ExpressionError` with the column at fault.
    public init(_ text: String) throws(ExpressionError) {
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        let lead = text.count - trimmed.count
        if trimmed.hasPrefix("@") {
            let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let macro = words[0].lowercased()
            if macro == "@every" {
                guard words.count == 2 else {
                    throw ExpressionError(column: lead + 1, "@every takes one duration",
                                          hint: "write e.g. '@every 15s' or '@every 1h30m'")
                }
                let durColumn = lead + trimmed.distance(from: trimmed.startIndex, to: words[1].startIndex) + 1
                self = try Self.every(words[1], column: durColumn)
                return
            }
            guard words.count == 1 else {
                throw ExpressionError(column: lead + words[0].count + 2, "\(words[0]) takes no arguments",
                                      hint: "write the macro alone, e.g. '@daily'")
            }
            self = try Self.macro(String(words[0]), column: lead + 1)
            return
        }
        self = .cron(try CronExpression(text), macro: nil)
    }

    static func macro(_ word: String, column: Int) throws(ExpressionError) -> Schedule {
        let lower = word.lowercased()
        if lower == "@reboot" { return .reboot }
        if let expansion = CronExpression.macros[lower] {
            return .cron(try CronExpression(expansion), macro: lower)
        }
        let known = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@reboot", "@every"]
        let near = Suggest.nearest(lower, in: known)
        throw ExpressionError(column: column, "unknown macro '\(word)'",
                              hint: near.map { "did you mean '\($0)'?" } ?? "macros are \(known.joined(separator: " "))")
    }

    static func every(_ text: Substring, column: Int) throws(ExpressionError) -> Schedule {
        do throws(ExpressionError) {
            let d = try DurationText.parse(text)
            guard d >= .seconds(1) else {
                throw ExpressionError(column: 1, "@every \(text) is shorter than one second",
                                      hint: "write an interval of at least 1s")
            }
            return .every(d)
        } catch {
            throw ExpressionError(column: column + error.column - 1, error.message, hint: error.hint)
        }
    }

    /// The next `count` fire instants (Unix seconds) strictly after `instant`.
    /// `@every D` fires on the multiples of D since the Unix epoch; `@reboot` has none.
    public func fires(after instant: Int64, zone: ZoneRules, count: Int) -> [Int64] {
        switch self {
        case let .cron(e, _):
            var it = CronIterator(e, zone: zone, after: instant)
            var out: [Int64] = []
            out.reserveCapacity(count)
            while out.count < count, let t = it.next() { out.append(t) }
            return out
        case let .every(d):
            let step = max(1, DurationText.milliseconds(d) / 1000)
            let base = (instant >= 0 ? instant / step : (instant - step + 1) / step) * step
            return (1...max(1, count)).prefix(count).map { base + Int64($0) * step }
        case .reboot:
            return []
        }
    }
}

/// Nearest-name suggestions for typos ("did you mean …?").
public enum Suggest {
    /// The closest candidate within a small edit distance, if any.
    public static func nearest(_ word: String, in candidates: [String]) -> String? {
        let w = Array(word.lowercased())
        var best: (String, Int)?
        for c in candidates {
            let d = distance(w, Array(c.lowercased()))
            if d <= max(2, w.count / 3), best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = prev
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
