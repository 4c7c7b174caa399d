/// A parsed cron expression of five fields (minute hour day-of-month month
/// day-of-week) or six (a leading seconds field).
///
/// Matching follows Vixie and Debian cron, as `cronsim` does: when either day field
/// starts with `*`, a day must match both; otherwise it matches if either does.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written (fields separated by single spaces).
    public let source: String
    public let hasSeconds: Bool
    let second: CronField
    let minute: CronField
    let hour: CronField
    let dayOfMonth: CronField
    let month: CronField
    let dayOfWeek: CronField
    /// Both day fields must match (one of them was written starting with `*`).
    let dayAnd: Bool
    /// Minute and hour both name fixed values (neither starts with `*`): a five-field
    /// expression of this kind is wall-clock time across daylight-saving changes.
    public let isWallClock: Bool

    public var description: String { source }

    /// Parses whitespace-separated fields.
    /// - Throws: `ExpressionError` with the column of the first mistake.
    public init(_ text: String) throws(ExpressionError) {
        var tokens: [(Substring, Int)] = []
        var column = 1
        var current: Substring.Index? = nil
        var startColumn = 1
        let s = Substring(text)
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == " " || s[i] == "\t" {
                if let c = current { tokens.append((s[c..<i], startColumn)); current = nil }
            } else if current == nil {
                current = i; startColumn = column
            }
            column += 1
            i = s.index(after: i)
        }
        if let c = current { tokens.append((s[c..<s.endIndex], startColumn)) }
        try self.init(fields: tokens)
    }

    /// Parses fields already split, each with its 1-based column.
    /// - Throws: `ExpressionError` for the first field at fault.
    public init(fields: [(Substring, Int)]) throws(ExpressionError) {
        guard fields.count == 5 || fields.count == 6 else {
            throw ExpressionError(
                column: fields.count > 6 ? fields[6].1 : (fields.last?.1 ?? 1),
                "a cron expression has 5 or 6 fields, not \(fields.count)",
                hint: "write 'minute hour day-of-month month day-of-week', e.g. '*/15 9-17 * * mon-fri', or a macro like '@daily'")
        }
        let kinds: [CronFieldKind] = fields.count == 6
            ? [.second, .minute, .hour, .dayOfMonth, .month, .dayOfWeek]
            : [.minute, .hour, .dayOfMonth, .month, .dayOfWeek]
        var parsed: [CronField] = []
        for (kind, (text, col)) in zip(kinds, fields) {
            parsed.append(try CronFieldParser(kind: kind, text: text, column: col).parse())
        }
        hasSeconds = fields.count == 6
        source = fields.map { String($0.0) }.joined(separator: " ")
        if hasSeconds {
            second = parsed[0]
            parsed.removeFirst()
        } else {
            var zero = CronField(); zero.bits = 1
            second = zero
        }
        (minute, hour, dayOfMonth, month, dayOfWeek) = (parsed[0], parsed[1], parsed[2], parsed[3], parsed[4])
        dayAnd = dayOfMonth.starred || dayOfWeek.starred
        isWallClock = !hasSeconds && !minute.starred && !hour.starred
        if !canEverFire {
            let domColumn = fields[hasSeconds ? 3 : 2].1
            throw ExpressionError(column: domColumn, "'\(source)' can never fire: no month it names has such a day",
                                  hint: "check the day-of-month against the months (February has 28 or 29 days; April, June, September and November 30)")
        }
    }

    /// A macro's expansion, e.g. `@daily` → `0 0 * * *`.
    public static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    /// True when some month of some year has a day matching both day fields. A month's
    /// matches depend only on its length and the weekday of its first day, and every
    /// such combination occurs within a 400-year cycle, so this is exact.
    var canEverFire: Bool {
        for m in 1...12 where month.contains(m) {
            let lengths = m == 2 ? [28, 29] : [CivilTime.daysInMonth(year: 2001, month: m)]
            for length in lengths {
                for firstWeekday in 0..<7 where matchingDays(length: length, firstWeekday: firstWeekday) != 0 {
                    return true
                }
            }
        }
        return false
    }

    /// Bit d set for each day d of a month of `length` days starting on `firstWeekday`.
    func matchingDays(length: Int, firstWeekday: Int) -> UInt32 {
        var dom: UInt32 = UInt32(truncatingIfNeeded: dayOfMonth.bits) & Self.daysMask(length)
        if dayOfMonth.lastDay { dom |= 1 << UInt32(length) }
        if dayOfMonth.lastWeekday {
            let w = (firstWeekday + length - 1) % 7
            dom |= 1 << UInt32(w == 0 ? length - 2 : w == 6 ? length - 1 : length)
        }
        var nearest = dayOfMonth.nearestWeekday & Self.daysMask(length)
        while nearest != 0 {
            let n = nearest.trailingZeroBitCount
            nearest &= nearest - 1
            let w = (firstWeekday + n - 1) % 7
            var d = n
            if w == 6 { d = n == 1 ? 3 : n - 1 }           // Saturday: Friday, or Monday the 3rd
            else if w == 0 { d = n == length ? n - 2 : n + 1 }  // Sunday: Monday, or Friday if last
            dom |= 1 << UInt32(d)
        }
        let all = Self.daysMask(length)
        var dow: UInt32 = 0
        if dayOfWeek.bits & 0x7F == 0x7F {
            dow = all
        } else {
            // Days of this month falling on weekday w: the days d with (d - 1) % 7 == (w - first) mod 7.
            @inline(__always) func on(_ w: Int) -> UInt32 { Self.everySeventh << UInt32((w - firstWeekday + 7) % 7) & all }
            for w in 0..<7 {
                let bit = UInt8(1) << UInt8(w)
                if dayOfWeek.bits & (1 << UInt64(w)) != 0 { dow |= on(w) }
                if dayOfWeek.lastOfMonth & bit != 0 { dow |= on(w) & ~Self.daysMask(length - 7) }
                if dayOfWeek.nth != 0 {
                    for k in 1...5 where dayOfWeek.nth(k) & bit != 0 {
                        dow |= on(w) & Self.daysMask(min(31, 7 * k)) & ~Self.daysMask(7 * (k - 1))
                    }
                }
            }
        }
        return dayAnd ? dom & dow : dom | dow
    }

    /// Bits 1…length (bit 0 unused: days count from 1).
    @inline(__always)
    static func daysMask(_ length: Int) -> UInt32 { length <= 0 ? 0 : (UInt32.max >> UInt32(31 - length)) & ~1 }

    /// Days 1, 8, 15, 22, 29.
    static let everySeventh: UInt32 = (1 << 1) | (1 << 8) | (1 << 15) | (1 << 22) | (1 << 29)
}
