import BatonReport
import BatonConfig
import BatonCore
import BatonSQLite
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
        guard let lock = try await TickLock.acquire(state: global.state) else {
            log.info("tick", ["skipped": "another baton tick is running on this store"])
            Console.err("baton tick: another tick is running on \(global.state); this one does nothing")
            return .success
        }
        defer { lock.release() }  // also released by the process's death (the kernel, the server)
        try? Supervisor.prepareProcess()
        let started = Date()
        let store = MonitoredStore(try await StateStore.open(global.state), health: StoreHealth { log.store($0) })
        let set = global.loader().load(paths: [global.schedules])
        for p in set.allProblems where p.severity == .error { log.error("schedule", ["problem": p.description]) }
        let engine = RunEngine(store: store,
                               environment: EngineEnvironment(variables: ProcessInfo.processInfo.environment,
                                                              workingDirectory: FileManager.default.currentDirectoryPath,
                                                              owner: RunID.localOwner()),
                               observer: log)
        // The daemon's own scheduler: the same misfire rule, fire record, drivers, lock=
        // and on-failure=; what is left at --max-time continues from its cursor.
        let scheduler = Scheduler(engine: engine, set: set, options: .init(maxConcurrent: concurrency)) { event in
            log.scheduler(event, metrics: nil)
        }
        let left = Int64(started.addingTimeInterval(Double(DurationText.milliseconds(maxTime)) / 1000).timeIntervalSinceNow * 1000)
        await scheduler.tick(until: .now + .milliseconds(max(0, left)))
        Supervisor.sweepStrays(reapZombies: true)
        return .success
    }
}
