extension Schedule {
    /// What the schedule means in words, and how the given fires met daylight-saving
    /// changes in `zone` (for `baton next --explain`).
    public func explain(zone: ZoneRules, fires: [Int64]) -> [String] {
        switch self {
        case .reboot:
            return ["once per boot of the machine (not per restart of baton)"]
        case let .every(d):
            return ["every \(DurationText.format(d)) of real elapsed time, counted from the previous fire; daylight saving does not affect it"]
        case let .cron(e, macro):
            var out = [(macro.map { "\($0) = \(e.source): " } ?? "") + e.words]
            if zone.isFixed {
                out.append("\(zone.identifier) has no daylight-saving changes")
            } else if e.isWallClock {
                out.append("wall-clock time in \(zone.identifier): a time skipped by a daylight-saving change fires once at the first minute after the gap; a time that occurs twice fires once, the first time")
            } else {
                out.append("real elapsed time in \(zone.identifier) (a '*' in minute or hour, or six fields): steps follow the UTC clock across daylight-saving changes")
            }
            for t in fires {
                let off = zone.offset(utc: t)
                let before = zone.offset(utc: t - 3600)
                if off != before {
                    let f = LocalFields(localSeconds: t + Int64(off))
                    let shift = (Int(off) - Int(before)) / 60
                    // Padded as the fire lines below it are (RFC 3339): 2026-03-08, 03:00.
                    func pad(_ v: Int, _ width: Int = 2) -> String { String(repeating: "0", count: max(0, width - String(v).count)) + String(v) }
                    out.append("the fire at \(pad(f.hour)):\(pad(f.minute)) local on \(pad(f.year, 4))-\(pad(f.month))-\(pad(f.day)) comes within an hour after the clocks moved \(shift > 0 ? "forward" : "back") \(abs(shift)) minutes")
                }
            }
            return out
        }
    }
}

extension CronExpression {
    /// A plain-words reading, field by field.
    public var words: String {
        var parts: [String] = []
        if hasSeconds { parts.append("second " + Self.list(second, .second)) }
        parts.append("minute " + Self.list(minute, .minute))
        parts.append("hour " + Self.list(hour, .hour))
        var days: [String] = []
        let domAll = dayOfMonth.starred && dayOfMonth.bits == Self.allBits(.dayOfMonth) && !dayOfMonth.lastDay
        let dowAll = dayOfWeek.starred && dayOfWeek.bits & 0x7F == 0x7F
        var dom: [String] = []
        if !domAll {
            if dayOfMonth.bits != 0 { dom.append("day-of-month " + Self.list(dayOfMonth, .dayOfMonth)) }
            if dayOfMonth.lastDay { dom.append("the last day of the month") }
            if dayOfMonth.lastWeekday { dom.append("the last weekday of the month") }
            var w = dayOfMonth.nearestWeekday
            while w != 0 { dom.append("the weekday nearest day \(w.trailingZeroBitCount)"); w &= w - 1 }
        }
        var dow: [String] = []
        if !dowAll {
            let names = CronFieldKind.dayNames.map { $0.prefix(1) + $0.dropFirst().lowercased() }
            if dayOfWeek.bits & 0x7F != 0 {
                dow.append((0..<7).filter { dayOfWeek.bits & (1 << UInt64($0)) != 0 }.map { names[$0] }.joined(separator: ", "))
            }
            for d in 0..<7 where dayOfWeek.lastOfMonth & (1 << UInt8(d)) != 0 { dow.append("the last \(names[d]) of the month") }
            for k in 1...5 { for d in 0..<7 where dayOfWeek.nth(k) & (1 << UInt8(d)) != 0 {
                dow.append("the \(["", "first", "second", "third", "fourth", "fifth"][k]) \(names[d]) of the month")
            } }
        }
        if !dom.isEmpty { days.append(dom.joined(separator: " or ")) }
        if !dow.isEmpty { days.append(dow.joined(separator: " or ")) }
        if days.isEmpty { parts.append("every day") }
        else if days.count == 1 { parts.append("on " + days[0]) }
        else { parts.append("on days that are " + days.joined(separator: dayAnd ? " and also " : ", or ")) }
        if month.bits & 0x1FFE != 0x1FFE {
            let names = CronFieldKind.monthNames.map { $0.prefix(1) + $0.dropFirst().lowercased() }
            parts.append("in " + (1...12).filter { month.contains($0) }.map { names[$0 - 1] }.joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }

    static func allBits(_ kind: CronFieldKind) -> UInt64 {
        kind.range.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) }
    }

    static func list(_ f: CronField, _ kind: CronFieldKind) -> String {
        if f.bits == allBits(kind) { return "every" }
        let values = kind.range.filter { f.contains($0) }
        return values.count == 1 ? "\(values[0])" : values.map(String.init).joined(separator: ",")
    }
}
