import BatonReport
import BatonAPI
import BatonConfig
import BatonCore
import BatonDaemon
import BatonEngine
import BatonHTTP
import BatonStore
import BatonSupervisor
import Dispatch
import Foundation
import Glibc

/// `baton run`: the daemon. Fires jobs on time, drives their runs, reloads on SIGHUP
/// or a change in the schedules directory, drains on SIGTERM/SIGINT; with `--listen`,
/// also serves the HTTP API. `baton serve --listen ADDR` is the same process without
/// firing: it drives the runs its requests start.
struct RunCommand {
    let args: Arguments
    let global: GlobalOptions
    /// False for `baton serve`.
    let fires: Bool

    init(_ argv: ArraySlice<String>, serve: Bool = false) throws(UsageError) {
        fires = !serve
        args = try Arguments(argv, command: serve ? "serve" : "run", values: ["--max-concurrent", "--listen", "--max-backlog"],
                             flags: serve ? ["--intake-only"] : [])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(fires ? Usage.run : Usage.serve); return .success }
        let concurrency = try args.integer("--max-concurrent", default: 8, range: 1...1000)
        let backlog = try args.integer("--max-backlog", default: API.defaultMaxBacklog, range: 0...100_000_000)
        let environment = ProcessInfo.processInfo.environment
        var listen: ListenAddress?
        if let text = args.value("--listen") {
            do { listen = try ListenAddress(parsing: text) } catch {
                throw UsageError(message: error.description, hint: "e.g. --listen 127.0.0.1:8080")
            }
        } else if !fires {
            throw UsageError(message: "baton serve needs --listen ADDR", hint: "e.g. baton serve --listen 127.0.0.1:8080")
        }
        let token = environment["BATON_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let listen, !listen.isLoopback, token == nil {
            throw UsageError(message: "refusing to listen on \(listen) without BATON_API_TOKEN: anyone who can reach it could read runs and jobs",
                             hint: "set BATON_API_TOKEN to a long random secret (every GET but /healthz then needs it), or listen on 127.0.0.1")
        }
        let log = EventLog(format: global.logFormat)
        let set = global.loader().load(paths: [global.schedules])
        if set.hasErrors {
            for p in set.allProblems where p.severity == .error { Console.err(CheckCommand.render(p, source: set.sources[p.at.file])) }
            Console.fail("the schedules have errors; baton \(fires ? "run" : "serve") does not start on them", hint: "fix them (baton check shows them all)")
            return .usage
        }
        try Supervisor.prepareProcess()
        let store = try StateStore.open(global.state)
        let metrics = Metrics(startedAt: RunText.nowMs())
        let engine = RunEngine(store: store,
                               environment: EngineEnvironment(variables: environment,
                                                              workingDirectory: FileManager.default.currentDirectoryPath,
                                                              owner: RunID.localOwner(), leaseMs: global.leaseMs),
                               observer: Observers([log, metrics]))
        var schedulerOptions = Scheduler.Options(maxConcurrent: concurrency, fires: fires)
        schedulerOptions.drives = !args.has("--intake-only")
        let scheduler = Scheduler(engine: engine, set: set, options: schedulerOptions) { event in
            log.scheduler(event, metrics: metrics)
        }
        log.info("start", ["jobs": String(set.jobs.count), "state": global.state, "schedules": global.schedules,
                           "mode": fires ? "run" : "serve"])
        var server: HTTPServer?
        if let listen {
            var options = API.Options()
            options.token = token
            options.environment = environment
            options.intakeOnly = args.has("--intake-only")
            options.maxBacklog = backlog
            let api = API(engine: engine, scheduler: scheduler, metrics: metrics, options: options) { event, fields in
                log.write("info", event, fields: fields)
            }
            do {
                server = try HTTPServer(address: listen, tooLarge: API.tooLarge) { await api.handle($0) }
            } catch {
                Console.fail(error.description, hint: "choose another address or port (port 0 picks a free one)")
                return .usage
            }
            log.info("listen", ["address": server?.address.description ?? "", "auth": token == nil ? "none" : "bearer"])
        }
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
        if let server { await Self.offPool { server.stop() } }
        reaper.cancel()
        watcher?.stop()
        for s in signals { s.cancel() }
        Supervisor.sweepStrays(reapZombies: true)
        log.info("stop", ["drained": "true"])
        return .success
    }

    /// Runs a blocking call on a thread of its own, off Swift's cooperative pool.
    static func offPool(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread { body(); c.resume() }.start()
        }
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
