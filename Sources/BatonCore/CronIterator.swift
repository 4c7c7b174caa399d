/// Successive fire instants (Unix seconds) of a cron expression in a zone.
///
/// This is the one place that holds baton's daylight-saving policy, which is Debian
/// cron's as `cronsim` implements it (docs/schedules.md states it in words):
///
/// - A five-field expression whose minute and hour are fixed ("wall-clock" jobs) is
///   stepped in local time. A fire that falls in a gap moves to the first minute
///   after the gap; a fire in a repeated hour happens once, at its first occurrence.
/// - Every other expression (a `*` in minute or hour, or six fields) is stepped in
///   real elapsed time: each step goes through UTC and back.
///
/// The stepping mirrors cronsim's, step for step, so that the two agree on every
/// instant (the differential test in `Tests/oracle` checks thousands of cases). Loops
/// that tick one unit at a time are shortened to one jump when no offset change lies
/// in between, which gives the same instants far faster.
public struct CronIterator: IteratorProtocol, Sendable {
    let expr: CronExpression
    let zone: ZoneRules
    /// Wall-clock mode: arithmetic on local fields, the zone consulted only at the end.
    let wallClock: Bool
    /// Steps go through UTC (a zone with transitions, not wall-clock mode).
    let aware: Bool
    /// The current time as local epoch seconds (wall-clock fields encoded as UTC).
    var local: Int64
    var fold: Bool
    /// When true, `local` and `fold` came from a UTC instant inside `period`.
    var canonical = false
    var period = ZonePeriod(start: .min, end: .max, offset: 0, foldSeconds: 0)
    /// Never return an instant at or before this one.
    let after: Int64
    // The matching days of the month last looked at.
    var cachedMonth = Int.min
    var cachedDays: UInt32 = 0
    // The date of the day number last converted.
    var cachedDayNumber = Int.min
    var cachedDate = (year: 0, month: 0, day: 0)

    /// Starts after `instant` (Unix seconds); the first `next()` is strictly later.
    public init(_ expr: CronExpression, zone: ZoneRules, after instant: Int64) {
        self.expr = expr
        self.zone = zone
        self.wallClock = expr.isWallClock && !zone.isFixed
        self.aware = !wallClock && !zone.isFixed
        self.after = instant
        let p = zone.period(containing: instant)
        self.local = instant + Int64(p.offset)
        self.fold = wallClock ? false : p.fold(at: instant)
        self.period = p
        self.canonical = aware
    }

    /// The last instant returned; results only ever move forward from it.
    var last = Int64.min

    /// The next fire instant, or nil when none comes within 50 years (as cronsim).
    public mutating func next() -> Int64? {
        let floor = max(after, last)
        while true {
            tick(1)
            let found = advance()
            if found == .exhausted { return nil }
            var result: Int64
            if found == .cycled {
                guard let r = scanForward(after: floor) else { return nil }
                result = r
            } else if wallClock {
                while zone.isImaginary(local: local) { local += 60 }
                result = zone.utc(local: local, fold: false)
                // From the second pass of a repeated hour, a wall-clock job's
                // first-pass time is already past; cronsim would return it, baton skips it.
                if result <= floor { continue }
            } else {
                result = utcNow
                // Where a zone falls back across midnight (America/St_Johns did at 00:01
                // until 2011), cronsim's stepping can land before where it started or
                // cycle. Real elapsed time has one answer: scan the real instants.
                if result <= floor {
                    guard let r = scanForward(after: floor) else { return nil }
                    result = r
                }
            }
            last = result
            return result
        }
    }

    /// The first instant after `floor` whose local fields match, found by walking real
    /// time: a day, hour, minute or second that cannot match is skipped whole, but a
    /// skip never crosses an offset change, so no real instant is passed over. Nil when
    /// nothing matches within 51 years. Leaves the iterator on the instant found.
    mutating func scanForward(after floor: Int64) -> Int64? {
        var u = floor + 1
        let end = floor + 51 * 366 * 86_400
        while u < end {
            let p = zone.period(containing: u)
            let l = u + Int64(p.offset)
            let days = Int(CivilTime.floorDiv(l, 86_400))
            let tod = l - Int64(days) * 86_400
            let skip: Int64
            let d = CivilTime.date(days: days)
            if !expr.month.contains(d.month) || matchingDays(year: d.year, month: d.month) & (1 << UInt32(d.day)) == 0 {
                skip = 86_400 - tod
            } else if !expr.hour.contains(Int(tod / 3600)) {
                skip = 3600 - tod % 3600
            } else if !expr.minute.contains(Int(tod / 60 % 60)) {
                skip = 60 - tod % 60
            } else if !expr.second.contains(Int(tod % 60)) {
                // The next second of this minute in the set, else the next minute.
                let s = Int(tod % 60)
                let above = expr.second.bits & ~((UInt64(2) << UInt64(s)) - 1) & ((UInt64(1) << 60) - 1)
                skip = above == 0 ? Int64(60 - s) : Int64(above.trailingZeroBitCount - s)
            } else {
                if aware { setUTC(u) } else { local = l }
                return u
            }
            u = min(u + skip, max(p.end, u + 1))
        }
        return nil
    }

    // MARK: - Clock

    @inline(__always)
    var utcNow: Int64 {
        if !aware { return local - Int64(period.offset) }
        return canonical ? local - Int64(period.offset) : zone.utc(local: local, fold: fold)
    }

    @inline(__always)
    mutating func setUTC(_ u: Int64) {
        if u < period.start || u >= period.end { period = zone.period(containing: u) }
        local = u + Int64(period.offset)
        fold = period.fold(at: u)
        canonical = true
    }

    /// cronsim's `tick`: naive arithmetic, or through UTC and back.
    @inline(__always)
    mutating func tick(_ seconds: Int64) {
        if aware { setUTC(utcNow + seconds) } else { local += seconds }
    }

    /// cronsim's `replace(...)`: change local fields, keep the fold.
    @inline(__always)
    mutating func replaceLocal(_ l: Int64) {
        if l != local { local = l; canonical = false }
    }

    /// cronsim's `datetime.combine(date, time(), tzinfo)`: midnight, fold 0.
    @inline(__always)
    mutating func setMidnight(days: Int) {
        local = Int64(days) * 86_400; fold = false; canonical = false
    }

    /// Ticks by `unit` until the field (local time / unit, modulo `modulus`) is in
    /// `set` or wraps to 0, as cronsim's loops do. Precondition: not in `set` now.
    @inline(__always)
    mutating func tickUntil(_ set: UInt64, unit: Int64, modulus: Int64) {
        while true {
            let x = CivilTime.floorMod(CivilTime.floorDiv(local, unit), modulus)
            // The next value in set ∪ {0} above x, or modulus (= 0 after wrapping).
            let above = set & ~((UInt64(2) << UInt64(x)) - 1) & ((UInt64(1) << UInt64(modulus)) - 1)
            let target = above == 0 ? modulus : Int64(above.trailingZeroBitCount)
            let jump = (target - x) * unit
            if !aware {
                local += jump
                return
            }
            if canonical, utcNow + jump < period.end {
                setUTC(utcNow + jump)
                return
            }
            // An offset change lies ahead: step one unit as cronsim does and look again.
            tick(unit)
            let y = CivilTime.floorMod(CivilTime.floorDiv(local, unit), modulus)
            if set & (1 << UInt64(y)) != 0 || y == 0 { return }
        }
    }

    // MARK: - Fields

    mutating func advanceSecond() -> Bool {
        let s = CivilTime.floorMod(local, 60)
        if expr.second.contains(Int(s)) { return false }
        if let target = expr.second.single {
            tick((Int64(target) - s + 60) % 60)
        }
        if !expr.second.contains(Int(CivilTime.floorMod(local, 60))) {
            tickUntil(expr.second.bits, unit: 1, modulus: 60)
        }
        return true
    }

    mutating func advanceMinute() -> Bool {
        let m = CivilTime.floorMod(CivilTime.floorDiv(local, 60), 60)
        if expr.minute.contains(Int(m)) { return false }
        replaceLocal(local - CivilTime.floorMod(local, 60))
        if let target = expr.minute.single {
            tick((Int64(target) - m + 60) % 60 * 60)
        }
        if !expr.minute.contains(Int(CivilTime.floorMod(CivilTime.floorDiv(local, 60), 60))) {
            tickUntil(expr.minute.bits, unit: 60, modulus: 60)
        }
        return true
    }

    mutating func advanceHour() -> Bool {
        let h = CivilTime.floorMod(CivilTime.floorDiv(local, 3600), 24)
        if expr.hour.contains(Int(h)) { return false }
        replaceLocal(local - CivilTime.floorMod(local, 3600))
        tickUntil(expr.hour.bits, unit: 3600, modulus: 24)
        return true
    }

    mutating func matchingDays(year: Int, month: Int) -> UInt32 {
        let key = year * 12 + month
        if key != cachedMonth {
            let first = CivilTime.days(year: year, month: month, day: 1)
            cachedDays = expr.matchingDays(length: CivilTime.daysInMonth(year: year, month: month),
                                           firstWeekday: CivilTime.weekday(days: first))
            cachedMonth = key
        }
        return cachedDays
    }

    /// The day number and date of `local`, converted once per day.
    @inline(__always)
    mutating func today() -> (days: Int, date: (year: Int, month: Int, day: Int)) {
        let days = Int(CivilTime.floorDiv(local, 86_400))
        if days != cachedDayNumber {
            cachedDayNumber = days
            cachedDate = CivilTime.date(days: days)
        }
        return (days, cachedDate)
    }

    mutating func advanceDay() -> Bool {
        let (days, d) = today()
        let matches = matchingDays(year: d.year, month: d.month)
        if matches & (1 << UInt32(d.day)) != 0 { return false }
        // The first matching day after today in this month, else the 1st of the next.
        let later = UInt64(matches) & ~((UInt64(2) << UInt64(d.day)) - 1)
        let length = CivilTime.daysInMonth(year: d.year, month: d.month)
        let target = later == 0 ? length + 1 : later.trailingZeroBitCount
        setMidnight(days: days + target - d.day)
        return true
    }

    mutating func advanceMonth() {
        var d = today().date
        if expr.month.contains(d.month) { return }
        repeat {
            d.month += 1
            if d.month > 12 { d.month = 1; d.year += 1 }
        } while !expr.month.contains(d.month)
        setMidnight(days: CivilTime.days(year: d.year, month: d.month, day: 1))
    }

    var year: Int { mutating get { today().date.year } }

    enum Search { case found, exhausted, cycled }

    /// cronsim's `advance`: `.exhausted` after 50 years without a match, `.cycled`
    /// when it goes round without end (no real search takes 100,000 steps: 50 years of
    /// months and days is under 20,000).
    mutating func advance() -> Search {
        let startYear = year
        for _ in 0..<100_000 {
            advanceMonth()
            if year > startYear + 50 { return .exhausted }
            if advanceDay() { continue }
            if advanceHour() { continue }
            if advanceMinute() { continue }
            if advanceSecond() { continue }
            return .found
        }
        return .cycled
    }
}
