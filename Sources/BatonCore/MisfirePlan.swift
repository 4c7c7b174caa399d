/// Which fires of a job are due at `now`, given the last fire baton recorded for it
/// and the job's `misfire=` policy (SPEC §2). `baton tick` and the daemon (at start,
/// after a restart or a clock jump) both decide through here, with one rule, so a fire
/// is judged the same way whoever acts on it:
///
/// A fire less than `onTime` (60 s, cron's own resolution: Debian cron and a
/// `* * * * * baton tick` line act once a minute) before `now` is on time (trigger
/// `cron`), whatever the policy. Older unrecorded fires were missed while nothing was
/// running baton:
/// - `skip`: missed fires are dropped; an on-time fire still runs.
/// - `once`: one run (trigger `catchup` unless it is on time), for the latest fire.
/// - `all`: every missed fire, oldest first, then the on-time one: at most the newest
///   100 runs in all, the rest dropped and counted.
/// A job with no recorded fire (new, or never fired) has missed nothing: only an
/// on-time fire is due.
public struct MisfirePlan: Sendable, Equatable {
    public struct Fire: Sendable, Equatable {
        /// The nominal fire time (Unix seconds).
        public var at: Int64
        /// A fire that was missed and is run late (trigger `catchup`).
        public var catchUp: Bool

        public init(at: Int64, catchUp: Bool) { self.at = at; self.catchUp = catchUp }
    }

    public var due: [Fire]
    /// Missed fires that the policy dropped (for the warning that says how many).
    public var dropped: Int
    /// The next fire after `now` (nil for @reboot, or none within 50 years).
    public var next: Int64?

    public static let catchUpLimit = 100

    public init(due: [Fire], dropped: Int, next: Int64?) { self.due = due; self.dropped = dropped; self.next = next }

    /// How late a fire may be and still be on time (seconds).
    public static let onTime: Int64 = 60

    /// - Parameters:
    ///   - lastFire: the last fire recorded for the job (Unix seconds); nil when it
    ///     never fired.
    ///   - now: Unix seconds.
    public static func plan(_ schedule: Schedule, zone: ZoneRules, policy: MisfirePolicy,
                            lastFire: Int64?, now: Int64) -> MisfirePlan {
        let window = onTime
        let start = lastFire ?? now - window
        var times: [Int64] = []   // the newest `catchUpLimit + 1` fires in (start, now]
        var count = 0
        var next: Int64?
        switch schedule {
        case .reboot:
            return MisfirePlan(due: [], dropped: 0, next: nil)
        case let .every(d):
            // On the epoch grid (`Schedule.fires(after:)`): indexes of the grid points in
            // (start, now], computed, not walked.
            let step = max(1, DurationText.milliseconds(d) / 1000)
            let first = start / step + 1, last = now / step
            let n = max(0, last - first + 1)
            count = Int(min(n, Int64(Int32.max)))
            let keep = min(n, Int64(catchUpLimit + 1))
            times = (0..<keep).reversed().map { (last - $0) * step }
            next = (last + 1) * step
        case let .cron(expr, _):
            // The newest `catchUpLimit + 1` fires, in a ring (a long outage can hold millions).
            let size = catchUpLimit + 1
            var ring = [Int64](repeating: 0, count: size)
            var it = CronIterator(expr, zone: zone, after: start)
            while let t = it.next() {
                if t > now { next = t; break }
                ring[count % size] = t
                count += 1
                if count >= 1_000_000 {  // years of per-second fires: enough to decide
                    var after = CronIterator(expr, zone: zone, after: now)
                    next = after.next()
                    break
                }
            }
            let kept = min(count, size)
            times = (0..<kept).map { ring[(count - kept + $0) % size] }
        }
        guard let latest = times.last else { return MisfirePlan(due: [], dropped: 0, next: next) }
        // A job never fired has missed nothing: its latest on-time fire is due, alone.
        if lastFire == nil { times = [latest]; count = 1 }
        let onTime = latest > now - window
        switch policy {
        case .skip:
            return MisfirePlan(due: onTime ? [Fire(at: latest, catchUp: false)] : [], dropped: count - (onTime ? 1 : 0), next: next)
        case .once:
            return MisfirePlan(due: [Fire(at: latest, catchUp: !onTime)], dropped: count - 1, next: next)
        case .all:
            let missed = onTime ? Array(times.dropLast()) : times
            let kept = missed.suffix(catchUpLimit - (onTime ? 1 : 0))
            var due = kept.map { Fire(at: $0, catchUp: true) }
            if onTime { due.append(Fire(at: latest, catchUp: false)) }
            return MisfirePlan(due: due, dropped: count - due.count, next: next)
        }
    }
}
