/// A POSIX TZ string such as `EST5EDT,M3.2.0,M11.1.0`, the footer of a TZif file that
/// says what happens after its last listed transition. Evaluated as Python's zoneinfo
/// does (`_TZStr`), so expanded transitions match it to the second.
struct PosixZoneRule {
    struct DST { var offset: Int32; var start: Date; var end: Date }

    /// A transition date: `Jn` (1-365, never Feb 29), `n` (0-365), or `Mm.w.d`, plus a
    /// local time of day in seconds (may be negative or past 24h).
    enum Date {
        case julian(Int, time: Int)
        case zeroBased(Int, time: Int)
        case monthWeekDay(month: Int, week: Int, weekday: Int, time: Int)

        /// Local seconds of the transition in `year` (in the offset in force before it).
        func localSeconds(year: Int) -> Int64 {
            let jan1 = CivilTime.days(year: year, month: 1, day: 1)
            switch self {
            case let .julian(n, time):
                // As zoneinfo's _DayOffset computes it, quirks included.
                let d = (n >= 59 && CivilTime.isLeap(year)) ? n + 1 : n
                return Int64(jan1 - 1 + d) * 86_400 + Int64(time)
            case let .zeroBased(n, time):
                return Int64(jan1 - 1 + n) * 86_400 + Int64(time)
            case let .monthWeekDay(month, week, weekday, time):
                let first = CivilTime.days(year: year, month: month, day: 1)
                var day = (weekday - CivilTime.weekday(days: first) + 7) % 7 + 1 + (week - 1) * 7
                if day > CivilTime.daysInMonth(year: year, month: month) { day -= 7 }
                return Int64(first + day - 1) * 86_400 + Int64(time)
            }
        }
    }

    var stdOffset: Int32
    var dst: DST?

    func startUTC(year: Int, dst: DST) -> Int64 { dst.start.localSeconds(year: year) - Int64(stdOffset) }
    func endUTC(year: Int, dst: DST) -> Int64 { dst.end.localSeconds(year: year) - Int64(dst.offset) }

    init(parsing text: String, zone: String) throws(ZoneError) {
        var s = Substring(text)
        func bad() -> ZoneError {
            ZoneError(zone: zone, message: "time zone \(zone) has an unreadable rule '\(text)'",
                      hint: "reinstall the tzdata package")
        }
        guard Self.name(&s) else { throw bad() }
        guard let std = Self.offset(&s) else { throw bad() }
        stdOffset = Int32(-std)  // POSIX: "EST5" is five hours west of UTC
        if s.isEmpty { dst = nil; return }
        guard Self.name(&s) else { throw bad() }
        var dstOffset = stdOffset + 3600
        if let o = Self.offset(&s) { dstOffset = Int32(-o) }
        guard s.first == "," else { throw bad() }
        s.removeFirst()
        guard let start = Self.date(&s), s.first == "," else { throw bad() }
        s.removeFirst()
        guard let end = Self.date(&s), s.isEmpty else { throw bad() }
        dst = DST(offset: dstOffset, start: start, end: end)
    }

    private static func name(_ s: inout Substring) -> Bool {
        if s.first == "<" {
            guard let close = s.firstIndex(of: ">") else { return false }
            s = s[s.index(after: close)...]
            return true
        }
        let n = s.prefix { !"<0123456789:.+-,".contains($0) }
        guard !n.isEmpty else { return false }
        s = s.dropFirst(n.count)
        return true
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, sign as written.
    private static func offset(_ s: inout Substring) -> Int? {
        var sign = 1
        if s.first == "+" || s.first == "-" {
            if s.first == "-" { sign = -1 }
            s.removeFirst()
        }
        var parts: [Int] = []
        while parts.count < 3 {
            let digits = s.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let v = Int(digits) else { return parts.isEmpty ? nil : nil }
            parts.append(v)
            s = s.dropFirst(digits.count)
            if s.first == ":" { s.removeFirst() } else { break }
        }
        while parts.count < 3 { parts.append(0) }
        return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])
    }

    private static func date(_ s: inout Substring) -> Date? {
        func int(_ s: inout Substring) -> Int? {
            let digits = s.prefix { $0.isASCII && $0.isNumber }
            s = s.dropFirst(digits.count)
            return Int(digits)
        }
        var time = 7200
        let result: Date
        if s.first == "M" {
            s.removeFirst()
            guard let m = int(&s), s.first == "." else { return nil }
            s.removeFirst()
            guard let w = int(&s), s.first == "." else { return nil }
            s.removeFirst()
            guard let d = int(&s), (1...12).contains(m), (1...5).contains(w), (0...6).contains(d) else { return nil }
            result = .monthWeekDay(month: m, week: w, weekday: d, time: 0)
        } else if s.first == "J" {
            s.removeFirst()
            guard let n = int(&s), (1...365).contains(n) else { return nil }
            result = .julian(n, time: 0)
        } else {
            guard let n = int(&s), (0...365).contains(n) else { return nil }
            result = .zeroBased(n, time: 0)
        }
        if s.first == "/" {
            s.removeFirst()
            guard let t = offset(&s) else { return nil }
            time = t
        }
        switch result {
        case let .julian(n, _): return .julian(n, time: time)
        case let .zeroBased(n, _): return .zeroBased(n, time: time)
        case let .monthWeekDay(m, w, d, _): return .monthWeekDay(month: m, week: w, weekday: d, time: time)
        }
    }
}
