import BatonConfig
import BatonCore
import BatonDaemon
import BatonEngine
import BatonStore
import BatonSupervisor
import Dispatch
import Foundation
import Glibc

/// `baton run`: the daemon. Fires jobs on time, drives their runs, reloads on SIGHUP
/// or a change in the schedules directory, drains on SIGTERM/SIGINT.
struct RunCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "run", values: ["--max-concurrent", "--listen"], flags: [])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.run); return .success }
        if args.value("--listen") != nil {
            throw UsageError(message: "the HTTP API (--listen) is not in this version yet", hint: "run without --listen; see docs/roadmap.md")
        }
        let concurrency = try args.integer("--max-concurrent", default: 8, range: 1...1000)
        let log = EventLog(format: global.logFormat)
        let set = global.loader().load(paths: [global.schedules])
        if set.hasErrors {
            for p in set.allProblems where p.severity == .error { Console.err(CheckCommand.render(p, source: set.sources[p.at.file])) }
            Console.fail("the schedules have errors; baton run does not start on them", hint: "fix them (baton check shows them all)")
            return .usage
        }
        try Supervisor.prepareProcess()
        let store = try StateStore.open(global.state)
        let engine = RunEngine(store: store,
                               environment: EngineEnvironment(variables: ProcessInfo.processInfo.environment,
                                                              workingDirectory: FileManager.default.currentDirectoryPath,
                                                              owner: RunID.localOwner()),
                               observer: log)
        let scheduler = Scheduler(engine: engine, set: set, options: .init(maxConcurrent: concurrency)) { event in
            switch event {
            case let .fired(job, run, at, result):
                log.info("fire", ["job": job, "run": run ?? "-", "scheduled_at": TimeText.rfc3339(at, zone: .utc, utc: true), "result": result])
            case let .misfire(job, dropped, policy): log.warn("misfire", ["job": job, "dropped": String(dropped), "policy": policy])
            case let .reloaded(jobs): log.info("reload", ["jobs": String(jobs)])
            case let .reloadFailed(why): log.error("reload", ["kept": "last good configuration", "problem": why])
            case let .clockJump(seconds): log.warn("clock_jump", ["seconds": String(seconds)])
            case let .error(why): log.error("scheduler", ["error": why])
            }
        }
        log.info("start", ["jobs": String(set.jobs.count), "state": global.state, "schedules": global.schedules])
        let loader = global.loader()
        let paths = [global.schedules]
        let signals = Self.trap(scheduler: scheduler, log: log) { await scheduler.reload(loader.load(paths: paths)) }
        let watcher = DirectoryWatcher(path: global.schedules) { Task { await scheduler.reload(loader.load(paths: paths)) } }
        let reaper = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                Supervisor.sweepStrays(reapZombies: true)
            }
        }
        await scheduler.run()
        reaper.cancel()
        watcher?.stop()
        for s in signals { s.cancel() }
        Supervisor.sweepStrays(reapZombies: true)
        log.info("stop", ["drained": "true"])
        return .success
    }

    /// SIGTERM/SIGINT: drain, then (a second time) stop at once; SIGHUP: reload.
    static func trap(scheduler: Scheduler, log: EventLog, reload: @escaping @Sendable () async -> Void) -> [DispatchSourceSignal] {
        let count = Counter()
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                let hard = count.increment() > 1
                log.info("signal", ["signal": sig == SIGTERM ? "TERM" : "INT", "action": hard ? "stop now" : "drain"])
                Task { await scheduler.stop(hard: hard) }
            }
            s.resume()
            sources.append(s)
        }
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hup.setEventHandler { Task { await reload() } }
        hup.resume()
        return sources + [hup]
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}

/// Calls back (at most every 200 ms) when a file in `path` changes, via inotify(7) read
/// on a thread of its own.
final class DirectoryWatcher: @unchecked Sendable {
    let fd: Int32
    private let lock = NSLock()
    private var stopped = false

    init?(path: String, onChange: @escaping @Sendable () -> Void) {
        fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE)
        guard inotify_add_watch(fd, path, mask) >= 0 else { close(fd); return nil }
        let fd = self.fd
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 || isStopped { return }
                usleep(200_000)  // let an editor finish writing; one reload for a burst
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                while poll(&pfd, 1, 0) > 0 { _ = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
                onChange()
            }
        }
        thread.name = "baton-inotify"
        thread.start()
    }

    var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    func stop() {
        lock.lock(); stopped = true; lock.unlock()
        close(fd)
    }
}
