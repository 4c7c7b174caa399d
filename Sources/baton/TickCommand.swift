import BatonReport
import BatonConfig
import BatonCore
import BatonDaemon
import BatonEngine
import BatonStore
import BatonSupervisor
import Foundation
import Glibc
import Synchronization

/// `baton tick [--max-time D] [--max-concurrent N]`: one pass for a system crontab line
/// (`* * * * * baton tick`). Fires what is due since the previous tick per each job's
/// `misfire=`, then drives unfinished runs until they are done or `--max-time` is up;
/// what is left continues from its cursor at the next tick.
struct TickCommand {
    let args: Arguments
    let global: GlobalOptions
    /// A fire this late is still on time: ticks come once a minute.
    static let window: Int64 = 60

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "tick", values: ["--max-time", "--max-concurrent"], flags: [])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.tick); return .success }
        var maxTime: Duration = .seconds(50)
        if let text = args.value("--max-time") {
            do { maxTime = try DurationText.parse(text) } catch { throw UsageError(message: "--max-time: \(error.message)", hint: error.hint) }
        }
        let concurrency = try args.integer("--max-concurrent", default: 8, range: 1...1000)
        let log = EventLog(format: global.logFormat)
        guard let lock = try TickLock.acquire(state: global.state) else {
            log.info("tick", ["skipped": "another baton tick is running on this store"])
            Console.err("baton tick: another tick is running on \(global.state); this one does nothing")
            return .success
        }
        defer { lock.release() }
        try? Supervisor.prepareProcess()
        let started = Date()
        let store = try StateStore.open(global.state)
        let set = global.loader().load(paths: [global.schedules])
        for p in set.allProblems where p.severity == .error { log.error("schedule", ["problem": p.description]) }
        let engine = RunEngine(store: store,
                               environment: EngineEnvironment(variables: ProcessInfo.processInfo.environment,
                                                              workingDirectory: FileManager.default.currentDirectoryPath,
                                                              owner: RunID.localOwner(), leaseMs: global.leaseMs),
                               observer: log)
        try await fireDue(set: set, store: store, engine: engine, log: log)
        await driveUnfinished(set: set, engine: engine, log: log, concurrency: concurrency,
                              until: started.addingTimeInterval(Double(DurationText.milliseconds(maxTime)) / 1000))
        _ = await Supervisor.offPool { Supervisor.sweepStrays(reapZombies: true) }
        return .success
    }

    /// Every job's due fires, per its misfire policy; @reboot once per boot.
    func fireDue(set: ScheduleSet, store: any RunStore, engine: RunEngine, log: EventLog) async throws {
        let paused = try await store.jobStates().filter(\.value.paused).keys
        let now = Int64(Date().timeIntervalSince1970)
        var batch: [DueFire] = []
        let lastFires = try await store.lastFires()
        for job in set.jobs where !paused.contains(job.name) {
            var due: [(Int64, FireKind)] = []
            if job.schedule == .reboot {
                if let boot = Boot.time() { due = [(boot, .reboot)] }
            } else {
                let last = lastFires[job.name].map { $0 / 1000 }
                let plan = MisfirePlan.plan(job.schedule, zone: set.zone(of: job), policy: job.options.misfire,
                                            lastFire: last, since: now - Self.window, now: now, window: Self.window)
                // The daemon's own events, so tick and `baton run` log the same keys.
                if plan.dropped > 0 { log.scheduler(.misfire(job: job.name, dropped: plan.dropped, policy: job.options.misfire.rawValue), metrics: nil) }
                due = plan.due.map { ($0.at, $0.catchUp ? .catchup : .cron) }
            }
            batch += due.map { DueFire(job: job, at: $0.0, kind: $0.1) }
        }
        // All due fires, with their runs, in one commit (as the daemon does).
        for (f, result) in zip(batch, try await engine.fireAll(batch)) {
            let fired: Scheduler.Event
            switch result {
            case let .started(run): fired = .fired(job: f.job.name, run: run.id, at: f.at, result: f.kind.rawValue)
            case let .queued(run): fired = .fired(job: f.job.name, run: run.id, at: f.at, result: "queued")
            case let .skipped(why): fired = .fired(job: f.job.name, run: nil, at: f.at, result: "skipped: \(why)")
            case .duplicate: continue
            }
            log.scheduler(fired, metrics: nil)
        }
    }

    /// Unfinished runs of the schedules' jobs through the daemon's own driver (oldest
    /// first, overlap=allow jobs side by side, lock= and on-failure= honoured), until
    /// they are done or --max-time is up; then a drain keeps their cursors.
    func driveUnfinished(set: ScheduleSet, engine: RunEngine, log: EventLog, concurrency: Int, until deadline: Date) async {
        let scheduler = Scheduler(engine: engine, set: set, options: .init(maxConcurrent: concurrency, fires: false)) { event in
            log.scheduler(event, metrics: nil)
        }
        await scheduler.driveAll(until: .now + .milliseconds(max(0, Int64(deadline.timeIntervalSinceNow * 1000))))
    }
}

/// An exclusive lock next to the store, so two ticks never both act (`flock(2)`).
struct TickLock {
    let fd: Int32

    /// nil when another process holds it.
    static func acquire(state: String) throws -> TickLock? {
        guard state.hasPrefix("sqlite:") else { return TickLock(fd: -1) }
        var path = String(state.dropFirst("sqlite:".count))
        if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(path + ".tick.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw UsageError(message: "cannot create the tick lock \(path).tick.lock: \(String(cString: strerror(errno)))",
                             hint: "make the store's directory writable, or point --state elsewhere")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 { close(fd); return nil }
        return TickLock(fd: fd)
    }

    func release() { if fd >= 0 { flock(fd, LOCK_UN); close(fd) } }
}
