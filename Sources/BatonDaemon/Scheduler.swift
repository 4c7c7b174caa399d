import BatonConfig
import BatonCore
import BatonEngine
import BatonStore
import Foundation

/// The daemon's loop (`baton run`, `baton serve`, `baton tick`): fires jobs on time and
/// drives their runs through the same engine and the same exactly-once fire record.
///
/// It reacts instead of polling: it waits for the earliest of the next fire, an event
/// (a driver ended, a stop, a reload, a pause, a run recorded here, another daemon's
/// change told by the store's feed) and a few deadlines (another process's pause, read
/// from the store by version every 500 ms, every 10 s while a feed tells of them;
/// a lock= held elsewhere, tried each second), never in a sleep loop.
/// Split by concern: +Fires (when and what fires), +Drivers (who drives which run),
/// +Locks (lock= and on-failure=), +Intake (runs recorded by requests), +Changes (the
/// store's change feed).
public actor Scheduler {
    public struct Options: Sendable {
        public var maxConcurrent: Int
        /// False for `baton serve`: no schedule fires, only runs started by requests
        /// (and unfinished ones found at start) are driven.
        public var fires: Bool
        /// False for `baton serve --intake-only`: runs are recorded elsewhere and driven
        /// by another baton; this one drives none, not even leftovers.
        public var drives = true
        /// The wall clock fire times are read from (Unix ms); tests step it to check
        /// how the loop meets a clock that jumps.
        public var wallClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
        public init(maxConcurrent: Int, fires: Bool = true) { self.maxConcurrent = maxConcurrent; self.fires = fires }
    }

    /// What the HTTP API shows of the scheduler.
    public struct Snapshot: Sendable {
        public var set: ScheduleSet
        /// Each job's next fire (Unix seconds); absent: none (paused jobs keep theirs).
        public var next: [String: Int64]
        public var paused: Set<String>
        /// When the loop last went round (wall ms): a stuck loop stops answering health checks.
        public var heartbeat: Int64
        public var stopping: Bool
        public var fires: Bool
        /// Runs this process drives now (it holds their leases).
        public var driving: Int
    }

    public enum Event: Sendable {
        case fired(job: String, run: String?, at: Int64, result: String)
        case misfire(job: String, dropped: Int, policy: String)
        case reloaded(jobs: Int)
        case reloadFailed(String)
        case clockJump(seconds: Int64)
        /// A run of `job` waits: its lock= is held by run `holder`.
        case lockWait(job: String, lock: String, holder: String)
        /// Run `run` of `job` failed; on-failure= started `started` of `target`.
        case onFailure(job: String, run: String, target: String, started: String?, why: String?)
        /// A drain (or the end of `tick --max-time`) left run `run` of `job` unfinished,
        /// with its cursor committed, waiting for a driver at slice `slice`.
        case leftWaiting(job: String, run: String, slice: Int)
        /// The store's change feed lost its connection (`why`): the daemon polls until
        /// it is back. Part of an outage when the store is down too, so not an error.
        case listenerLost(String)
        case error(String)
    }

    /// Where the scheduler is in its life.
    enum State {
        /// Made; `run()`, `tick(until:)` or `driveAll(until:)` starts it.
        case idle
        /// Firing (with `options.fires`) and driving runs.
        case running
        /// Stop asked: nothing fires, no driver starts; running slices end (drain: at
        /// their end or budget; hard: killed now), and `waiters` resume when the last
        /// driver is gone.
        case draining(hard: Bool, waiters: [CheckedContinuation<Void, Never>])
        case stopped
    }

    let engine: RunEngine
    let store: any RunStore
    let options: Options
    let report: @Sendable (Event) -> Void
    var state = State.idle
    var set: ScheduleSet
    var fires = FirePlan()
    var pauses = Pauses()
    var pool = DriverPool()
    let wake = Wakeup()
    var heartbeat = Scheduler.wallMilliseconds()

    /// How often another process's pause or unpause is looked for (an indexed read of
    /// what changed), how often runs recorded elsewhere are looked for, and how often
    /// a lock= held elsewhere is tried again.
    static let pausePoll: Duration = .milliseconds(500)
    static let leftoversPoll: Duration = .seconds(5)
    static let lockRetry: Duration = .seconds(1)

    public init(engine: RunEngine, set: ScheduleSet, options: Options, report: @escaping @Sendable (Event) -> Void) {
        self.engine = engine
        self.store = engine.store
        self.set = set
        self.options = options
        self.report = report
    }

    var isRunning: Bool { if case .running = state { true } else { false } }

    /// Runs until `stop()`; returns after the drain.
    public func run() async {
        guard case .idle = state else { return }
        state = .running
        await refreshPauses()
        if options.fires { await plan(all: set.jobs, now: wallSeconds(), catchUp: true) }
        await driveLeftovers()
        // Other daemons' changes as they commit (PostgreSQL); the looks below slow down
        // to a backstop while it is live. An intake-only server neither fires nor
        // drives: it has nothing to learn.
        let feed = options.fires || options.drives ? store.changeFeed() : nil
        let listening = feed.map { listen(to: $0) }
        var watch = ClockWatch(wall: options.wallClock())
        var pausesLooked = ContinuousClock.now, leftoversLooked = ContinuousClock.now
        var locksAt = ContinuousClock.now + Self.lockRetry
        while isRunning {
            let intervals = lookIntervals(feed)
            let pausesAt = pausesLooked + intervals.pauses, leftoversAt = leftoversLooked + intervals.leftovers
            heartbeat = options.wallClock()
            // The earliest of: the next fire, the next look at the store, and a second
            // (the clock-jump check and the heartbeat /healthz reads).
            var until = ContinuousClock.now + .seconds(1)
            // (After an outage the heap waits for the catch-up, tried at the pause poll.)
            if let top = fires.heap.top, !fires.catchUpPending {
                until = min(until, .now + .milliseconds(max(0, top.at * 1000 - heartbeat)))
            }
            if options.fires { until = min(until, pausesAt) }
            if !pool.lockWaiting.isEmpty { until = min(until, locksAt) }
            await wake.wait(until: until)
            guard isRunning else { break }
            let now = ContinuousClock.now
            if let drift = watch.jump(wall: options.wallClock()) {
                // A wall clock that moved differently from the monotonic one jumped (NTP
                // step, suspend, set by hand): fire times are planned again from the store.
                report(.clockJump(seconds: drift))
                fires.removeAll()
                if options.fires { await plan(all: set.jobs, now: wallSeconds(), catchUp: drift > 0) }
                continue
            }
            if options.fires, now >= pausesAt { pausesLooked = now; await refreshPauses() }
            if now >= locksAt { locksAt = now + Self.lockRetry; await tendLocks() }
            if now >= leftoversAt { leftoversLooked = now; await driveLeftovers() }
            if options.fires {
                // After an outage, the store's last fires decide what fires, not the heap.
                if fires.catchUpPending { fires.catchUpPending = false; await catchUpAfterOutage() } else { await fireDue() }
            }
        }
        listening?.cancel()
        await drain()
    }

    /// For `baton tick`: fires what is due since the last fires recorded, per each job's
    /// misfire= (the daemon's own rule), then drives every unfinished run until none is
    /// left or `deadline` comes.
    public func tick(until deadline: ContinuousClock.Instant) async {
        guard case .idle = state else { return }
        state = .running
        fires.endBy = deadline
        await refreshPauses()
        await plan(all: set.jobs, now: wallSeconds(), catchUp: true)
        fires.removeAll()
        await driveUntilDone(deadline)
    }

    /// For `baton tick` (`fires: false`): drives every job's unfinished runs until none
    /// is left or `deadline` comes; then drains (running slices end within their budget,
    /// cursors are kept, the next tick goes on).
    public func driveAll(until deadline: ContinuousClock.Instant) async {
        guard case .idle = state else { return }
        state = .running
        await driveUntilDone(deadline)
    }

    func driveUntilDone(_ deadline: ContinuousClock.Instant) async {
        await driveLeftovers()
        var locksAt = ContinuousClock.now + Self.lockRetry
        while isRunning, pool.drivers > 0 || !pool.lockWaiting.isEmpty || fires.delayed > 0 {
            await wake.wait(until: pool.lockWaiting.isEmpty ? deadline : min(deadline, locksAt))
            if ContinuousClock.now >= deadline { stop(hard: false); break }
            if ContinuousClock.now >= locksAt { locksAt = .now + Self.lockRetry; await tendLocks() }
        }
        await drain()
    }

    public func snapshot() -> Snapshot {
        Snapshot(set: set, next: fires.next, paused: pauses.paused, heartbeat: heartbeat, stopping: !isRunning && !isIdle,
                 fires: options.fires, driving: pool.active.count)
    }

    var isIdle: Bool { if case .idle = state { true } else { false } }

    /// Reloads: a set with errors keeps the last good one.
    public func reload(_ newSet: ScheduleSet) async {
        if newSet.hasErrors {
            let first = newSet.allProblems.first { $0.severity == .error }?.description ?? "errors"
            report(.reloadFailed(first))
            return
        }
        set = newSet
        fires.removeAll()
        if options.fires { await plan(all: set.jobs, now: wallSeconds(), catchUp: false) }
        report(.reloaded(jobs: set.jobs.count))
        wake.signal()
    }

    /// First call: fire nothing more, let running slices finish (budget bound), keep
    /// cursors. A hard one (a second signal): stop slices at once.
    public func stop(hard: Bool) {
        switch state {
        case .idle, .running: state = .draining(hard: hard, waiters: [])
        case let .draining(wasHard, waiters): state = .draining(hard: hard || wasHard, waiters: waiters)
        case .stopped: return
        }
        for c in pool.active.values { c.request(hard ? .kill : .drain) }
        wake.signal()
    }

    /// Waits for the drivers to end, then names the runs left unfinished.
    func drain() async {
        if pool.drivers > 0 {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if case let .draining(hard, waiters) = state { state = .draining(hard: hard, waiters: waiters + [c]) } else { c.resume() }
            }
        }
        state = .stopped
        // Runs recorded here but never driven wait, unowned, for the next driver.
        for run in pool.ready.values.joined().sorted(by: { $0.createdAt < $1.createdAt }) { pool.leftBehind.append(run) }
        pool.ready.removeAll()
        for run in pool.leftBehind { report(.leftWaiting(job: run.job, run: run.id, slice: run.nextSlice)) }
        pool.leftBehind.removeAll()
    }

    /// Called when a driver ends: a drain waiting for the last one goes on.
    func driversChanged() {
        wake.signal()
        guard pool.drivers == 0, case let .draining(hard, waiters) = state, !waiters.isEmpty else { return }
        state = .draining(hard: hard, waiters: [])
        for w in waiters { w.resume() }
    }

    static func wallMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    func wallSeconds() -> Int64 { options.wallClock() / 1000 }
}

/// Notices a wall clock that moved apart from the monotonic one (an NTP step, a
/// resume from suspend, a clock set by hand).
struct ClockWatch {
    var wall: Int64
    var mono = ContinuousClock.now

    /// The jump in seconds, when over 2 s since the last look.
    mutating func jump(wall now: Int64) -> Int64? {
        let mono = ContinuousClock.now
        let elapsed = mono - self.mono
        let drift = (now - wall) / 1000 - elapsed.components.seconds
        wall = now; self.mono = mono
        return abs(drift) > 2 ? drift : nil
    }
}
