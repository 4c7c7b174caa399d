import BatonConfig
import BatonCore
import BatonEngine
import BatonStore
import Foundation
import Synchronization

/// The daemon's loop (`baton run`): fires jobs on time and drives their runs through
/// the same engine and the same exactly-once fire record as `baton tick`.
public actor Scheduler {
    public struct Options: Sendable {
        public var maxConcurrent: Int
        public var window: Int64 = 2
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
        case error(String)
    }

    let engine: RunEngine
    let store: any RunStore
    let options: Options
    let report: @Sendable (Event) -> Void
    var set: ScheduleSet
    var heap = FireHeap()
    var next: [String: Int64] = [:]
    var paused: Set<String> = []
    var active: [String: RunControl] = [:]      // run id -> control
    /// Runs a drain stopped before they ended: the drain names them in the log.
    var leftBehind: [RunRecord] = []
    var drivers: [String: Int] = [:]            // job -> tasks driving its runs
    var recheck: Set<String> = []               // jobs that got new runs while a driver was going
    var heldElsewhere: [String: ContinuousClock.Instant] = [:]  // runs another process drove when tried
    var prepared: [String: RunRecord] = [:]     // runs fired here, owned, first slice's start recorded
    var reserved = 0                            // slots held for runs requests are recording (Scheduler+Intake)
    var waiting: [String] = []                  // jobs with runs to drive once a slot frees
    var waitingSet: Set<String> = []            // the same, to look up
    var lockWaiting: Set<String> = []           // jobs whose next run waits for its lock=
    var lastLockRenewal = ContinuousClock.now
    var lastWaiterRetry = ContinuousClock.now
    var lastLeftovers = ContinuousClock.now
    var stopping = false
    var heartbeat = Scheduler.wallMilliseconds()

    public init(engine: RunEngine, set: ScheduleSet, options: Options, report: @escaping @Sendable (Event) -> Void) {
        self.engine = engine
        self.store = engine.store
        self.set = set
        self.options = options
        self.report = report
    }

    /// Runs until `stop()`; returns after the drain.
    public func run() async {
        let now = wallSeconds()
        do {
            paused = Set(try await store.jobStates().filter(\.value.paused).keys)
        } catch { report(.error(error.description)) }
        if options.fires { await plan(all: set.jobs, now: now, catchUp: true) }
        await driveLeftovers()
        var lastWall = wallSeconds(), lastMono = ContinuousClock.now
        var lastPausePoll = ContinuousClock.now
        while !stopping {
            let wallNow = options.wallClock()
            heartbeat = wallNow
            // Sleep until the earliest fire, but look again at least once a second.
            let target = heap.top.map { $0.at * 1000 } ?? wallNow + 1000
            let wait = max(0, min(1000, target - wallNow))
            if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
            if stopping { break }
            // A wall clock that moved differently from the monotonic one jumped (NTP
            // step, suspend, set by hand): fire times are re-planned from the store.
            let wall = wallSeconds(), mono = ContinuousClock.now
            let drift = (wall - lastWall) - Int64((mono - lastMono).components.seconds)
            lastWall = wall; lastMono = mono
            if abs(drift) > 2 {
                report(.clockJump(seconds: drift))
                heap.removeAll(); next.removeAll()
                if options.fires { await plan(all: set.jobs, now: wall, catchUp: drift > 0) }
                continue
            }
            await tendLocks()
            if !options.fires {
                // Under `serve`, runs nobody drives (a driver that stopped on an error,
                // another intake's runs) are looked for every 10 s.
                if ContinuousClock.now - lastLeftovers >= .seconds(10) {
                    lastLeftovers = ContinuousClock.now
                    await driveLeftovers()
                }
                continue
            }
            if ContinuousClock.now - lastPausePoll >= .seconds(1) {
                lastPausePoll = ContinuousClock.now
                if let states = try? await store.jobStates() { paused = Set(states.filter(\.value.paused).keys) }
            }
            // Everything due now is recorded in one commit, then driven.
            var batch: [DueFire] = []
            while let top = heap.top, top.at <= wallSeconds(), !stopping {
                _ = heap.pop()
                guard next[top.job] == top.at, let job = set.job(named: top.job) else { continue }
                if !paused.contains(job.name) {
                    let jitter = DurationText.milliseconds(job.options.jitter)
                    if jitter > 0 {
                        // A random delay before the start; the nominal time stays the fire's.
                        let delay = Int64.random(in: 0...jitter)
                        Task { try? await Task.sleep(for: .milliseconds(delay)); await self.fire(job, at: top.at, kind: .cron) }
                    } else {
                        batch.append(DueFire(job: job, at: top.at, kind: .cron))
                    }
                }
                schedule(job, after: top.at)
            }
            await fire(batch)
        }
        await drain()
    }

    /// Fire times of `jobs` from `now`, with catch-up of missed fires per `misfire=`:
    /// one read of every job's last fire, and the fires due recorded in one commit.
    func plan(all jobs: [Job], now: Int64, catchUp: Bool) async {
        var due: [DueFire] = []
        var last: [String: Int64] = [:]
        if catchUp {
            do { last = try await store.lastFires() } catch { report(.error("reading the last fires: \(error.description)")) }
        }
        for job in jobs {
            if job.schedule == .reboot {
                if catchUp, let boot = Boot.time() { due.append(DueFire(job: job, at: boot, kind: .reboot)) }
                continue
            }
            if catchUp {
                let plan = MisfirePlan.plan(job.schedule, zone: set.zone(of: job), policy: job.options.misfire,
                                            lastFire: last[job.name].map { $0 / 1000 }, since: now, now: now, window: options.window)
                if plan.dropped > 0 { report(.misfire(job: job.name, dropped: plan.dropped, policy: job.options.misfire.rawValue)) }
                if !paused.contains(job.name) {
                    due += plan.due.map { DueFire(job: job, at: $0.at, kind: $0.catchUp ? .catchup : .cron) }
                }
            }
            schedule(job, after: now)
        }
        // Oldest first, so a job's catch-up runs queue in order.
        await fire(due.sorted { $0.at < $1.at })
    }

    func schedule(_ job: Job, after t: Int64) {
        let at: Int64?
        if case let .every(d) = job.schedule {
            at = t + max(1, DurationText.milliseconds(d) / 1000)
        } else {
            at = job.schedule.fires(after: t, zone: set.zone(of: job), count: 1).first
        }
        guard let at else { next[job.name] = nil; return }
        next[job.name] = at
        heap.push(.init(at: at, job: job.name))
    }

    func fire(_ job: Job, at: Int64, kind: FireKind) async {
        await fire([DueFire(job: job, at: at, kind: kind)])
    }

    func fire(_ batch: [DueFire]) async {
        guard !batch.isEmpty, !stopping else { return }
        do {
            let results = try await engine.fireAll(batch)
            for (f, result) in zip(batch, results) {
                switch result {
                case let .started(run):
                    if run.owner == engine.environment.owner { prepared[run.id] = run }
                    report(.fired(job: f.job.name, run: run.id, at: f.at, result: f.kind.rawValue))
                case let .queued(run): report(.fired(job: f.job.name, run: run.id, at: f.at, result: "queued"))
                case let .skipped(why): report(.fired(job: f.job.name, run: nil, at: f.at, result: "skipped: \(why)"))
                case .duplicate: continue
                }
                await driveQueue(f.job.name)
            }
        } catch {
            report(.error("fire: \(error.description)"))
        }
    }

    /// Drives the job's unfinished runs, oldest first, bounded by --max-concurrent runs
    /// at once in all. A job with overlap=allow has up to that many of its runs going
    /// side by side; any other job one at a time (a queued run starts when the one
    /// before it ends).
    func driveQueue(_ name: String) async {
        guard !stopping, options.drives, let job = set.job(named: name) else { return }
        let limit = job.options.overlap == .allow ? options.maxConcurrent : 1
        if drivers[name, default: 0] >= limit {
            // A driver of this job is going: it looks again before it stops.
            recheck.insert(name)
            return
        }
        if drivers.values.reduce(0, +) >= options.maxConcurrent {
            if waitingSet.insert(name).inserted { waiting.append(name) }
            return
        }
        drivers[name, default: 0] += 1
        Task { await self.driveLoop(job) }
    }

    func driveLoop(_ job: Job) async {
        defer {
            drivers[job.name, default: 1] -= 1
            if drivers[job.name] == 0 { drivers[job.name] = nil }
            if !waiting.isEmpty, !stopping {
                let next = waiting.removeFirst()
                waitingSet.remove(next)
                Task { await self.driveQueue(next) }
            }
        }
        while !stopping {
            recheck.remove(job.name)
            // A run this process just fired goes first, with no read: it is recorded
            // owned by us with its first slice's start.
            if let ready = prepared.values.filter({ $0.job == job.name && active[$0.id] == nil })
                .min(by: { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }) {
                prepared[ready.id] = nil
                if await drive(ready, of: job, startRecorded: true) { if yieldSlot(job) { return }; continue } else { return }
            }
            let now = ContinuousClock.now
            heldElsewhere = heldElsewhere.filter { now - $0.value < .seconds(10) }
            // A run this process recorded owned a moment ago (a fire or a webhook) is handed
            // to a driver by `fire`/`adopt` with its start record: not taken from here.
            let me = engine.environment.owner, recent = Self.wallMilliseconds() - 5000
            let takeable = { (r: RunRecord) in
                self.active[r.id] == nil && self.heldElsewhere[r.id] == nil
                    && !(r.owner == me && self.prepared[r.id] == nil && r.createdAt > recent)
            }
            // Oldest first, read afresh each time (a run read earlier may have been taken,
            // finished or overtaken since); enough to skip the ones being driven.
            let runs = (try? await store.unfinishedRuns(job: job.name, limit: active.count + heldElsewhere.count + 8)) ?? []
            // Taken after the read, with no suspension before it is marked active, so two
            // drivers of one job never take the same run.
            guard let run = runs.first(where: takeable) else {
                if recheck.contains(job.name) { continue }
                return
            }
            let startRecorded = prepared.removeValue(forKey: run.id) != nil
            if await drive(run, of: job, startRecorded: startRecorded) { if yieldSlot(job) { return }; continue } else { return }
        }
    }

    /// After a run, a driver gives its slot to a job that waits for one (the job goes to
    /// the back of the line), so a job with a steady stream of runs cannot keep the
    /// others from ever starting. Returns whether to stop this driver.
    func yieldSlot(_ job: Job) -> Bool {
        guard !waiting.isEmpty, !stopping else { return false }
        if waitingSet.insert(job.name).inserted { waiting.append(job.name) }
        return true
    }

    /// Drives one run of `job` (with its lock= and on-failure=). Returns whether the
    /// driver should go on to the job's next run.
    func drive(_ run: RunRecord, of job: Job, startRecorded: Bool) async -> Bool {
        let control = RunControl()
        active[run.id] = control
        if let lock = job.options.lock {
            let holder = await acquire(lock, for: run)
            if let holder {
                active[run.id] = nil
                if !lockWaiting.contains(job.name) { report(.lockWait(job: job.name, lock: lock, holder: holder)) }
                lockWaiting.insert(job.name)
                return false  // the loop looks again each second
            }
            lockWaiting.remove(job.name)
        }
        do {
            let done = try await engine.drive(runId: run.id, job: JobRunSpec(job), control: control, known: run)
            active[run.id] = nil
            if let lock = job.options.lock { try? await store.releaseLock(name: lock, runId: run.id) }
            if stopping && !done.status.isFinished { leftBehind.append(done) }
            // Only the drive that made it fail follows on-failure= (not one that found it failed).
            if done.status == .failed, !run.status.isFinished { await startOnFailure(of: done, job: job) }
            return done.status.isFinished
        } catch {
            active[run.id] = nil
            if let lock = job.options.lock { try? await store.releaseLock(name: lock, runId: run.id) }
            if case .heldElsewhere = error {
                // Another process drives it. With overlap=allow the job's other runs
                // may go on; otherwise they wait behind it (the next fire looks again).
                guard job.options.overlap == .allow else { return false }
                heldElsewhere[run.id] = ContinuousClock.now
                return true
            }
            report(.error("run \(run.id) of \(job.name): \(error.description)"))
            return false
        }
    }

    /// Drives the runs left unfinished (a drain, a crash, another process's fires, a
    /// webhook intake): one read finds the jobs that have any, so 10,000 idle jobs cost
    /// nothing at start.
    func driveLeftovers() async {
        var names: Set<String> = []
        for status in [RunStatus.running, .queued] {
            do {
                for run in try await store.runs(job: nil, status: status, limit: 100_000) { names.insert(run.job) }
            } catch {
                report(.error("reading unfinished runs: \(error.description)"))
            }
        }
        for job in set.jobs where names.contains(job.name) { await driveQueue(job.name) }
    }

    // MARK: lock= and on-failure=

    /// Takes the job's lock for `run`; nil when taken, else the run holding it.
    func acquire(_ lock: String, for run: RunRecord) async -> String? {
        let now = Self.wallMilliseconds()
        do {
            return try await store.acquireLock(name: lock, runId: run.id, owner: engine.environment.owner, now: now,
                                               expiresAt: now + Self.lockLeaseMs)
        } catch {
            report(.error("lock \(lock): \(error.description)"))
            return "(the store did not answer)"
        }
    }

    /// How long a lock outlives its holder's last renewal (a holder that died).
    static let lockLeaseMs: Int64 = 60_000

    /// Renews the locks this process holds (every 10 s) and gives the jobs waiting for
    /// one another try.
    func tendLocks() async {
        if ContinuousClock.now - lastLockRenewal >= .seconds(10) {
            lastLockRenewal = ContinuousClock.now
            try? await store.renewLocks(owner: engine.environment.owner, expiresAt: Self.wallMilliseconds() + Self.lockLeaseMs)
        }
        for name in lockWaiting.sorted() { await driveQueue(name) }
    }

    /// Starts the run on-failure= names for a failed run of `job`.
    func startOnFailure(of failed: RunRecord, job: Job) async {
        guard let name = job.options.onFailure else { return }
        guard let target = set.job(named: name) else {
            report(.onFailure(job: job.name, run: failed.id, target: name, started: nil, why: "no job named \(name)"))
            return
        }
        do {
            switch try await engine.startOnFailure(of: failed, target: JobRunSpec(target)) {
            case let .started(run):
                report(.onFailure(job: job.name, run: failed.id, target: name, started: run.id, why: nil))
                await driveQueue(name)
            case let .refused(why):
                report(.onFailure(job: job.name, run: failed.id, target: name, started: nil, why: why))
            case .existing, .replay:
                break
            }
        } catch {
            report(.error("on-failure \(name): \(error.description)"))
        }
    }

    // MARK: baton tick

    /// For `baton tick`: drives every job's unfinished runs until none is left or
    /// `deadline` comes; then drains (running slices end within their budget, cursors
    /// are kept, the next tick goes on).
    public func driveAll(until deadline: ContinuousClock.Instant) async {
        await driveLeftovers()
        while !drivers.isEmpty || !lockWaiting.isEmpty {
            if ContinuousClock.now >= deadline {
                stop(hard: false)
                break
            }
            try? await Task.sleep(for: .milliseconds(50))
            if ContinuousClock.now - lastWaiterRetry >= .seconds(1) {
                lastWaiterRetry = ContinuousClock.now
                await tendLocks()
            }
        }
        await drain()
    }

    public func snapshot() -> Snapshot {
        Snapshot(set: set, next: next, paused: paused, heartbeat: heartbeat, stopping: stopping, fires: options.fires)
    }

    /// Asks a run this process drives to stop gracefully (its slice gets SIGTERM, the
    /// cursor is committed). Returns false when this process does not drive it.
    public func cancel(runId: String) async -> Bool {
        if let control = active[runId] {
            control.request(.cancel)
            return true
        }
        if prepared.removeValue(forKey: runId) != nil {
            // Recorded here but not started: take its start back and let it go, so the
            // caller cancels a plain unfinished run and no driver starts it.
        }
        return false
    }

    /// Takes over a run a request just recorded owned by this process with its first
    /// slice's start (`RunRequest.prepare`), and drives it.
    public func adopt(_ run: RunRecord) async {
        if stopping {
            // Too late to drive it: take the start back and let it go for another driver.
            return
        }
        prepared[run.id] = run
        await driveQueue(run.job)
    }

    /// Drives the job's unfinished runs now (a request just recorded one).
    public func drive(job name: String) async {
        await driveQueue(name)
    }

    /// Reloads: a set with errors keeps the last good one.
    public func reload(_ newSet: ScheduleSet) async {
        if newSet.hasErrors {
            let first = newSet.allProblems.first { $0.severity == .error }?.description ?? "errors"
            report(.reloadFailed(first))
            return
        }
        set = newSet
        heap.removeAll(); next.removeAll()
        if options.fires { await plan(all: set.jobs, now: wallSeconds(), catchUp: false) }
        report(.reloaded(jobs: set.jobs.count))
    }

    /// First signal: fire nothing more, let running slices finish (budget bound), keep
    /// cursors. Second: stop slices at once.
    public func stop(hard: Bool) {
        stopping = true
        for c in active.values { c.request(hard ? .kill : .drain) }
    }

    func drain() async {
        while !drivers.isEmpty { try? await Task.sleep(for: .milliseconds(50)) }
        // Runs fired but never driven: take back their start records and let them go, so
        // the next driver starts them cleanly.
        for run in prepared.values {
            leftBehind.append(run)
        }
        prepared.removeAll()
        for run in leftBehind { report(.leftWaiting(job: run.job, run: run.id, slice: run.nextSlice)) }
        leftBehind.removeAll()
    }

    static func wallMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    func wallSeconds() -> Int64 { options.wallClock() / 1000 }
}
