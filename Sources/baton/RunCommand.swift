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
        // One log line when the store goes away and one when it is back, not one per operation.
        let store = MonitoredStore(try await StateStore.open(global.state), health: StoreHealth { log.store($0) })
        let startedAt = RunText.nowMs()
        let metrics = Metrics(startedAt: startedAt)
        let owner = RunID.localOwner()
        let engine = RunEngine(store: store,
                               environment: EngineEnvironment(variables: environment,
                                                              workingDirectory: FileManager.default.currentDirectoryPath,
                                                              owner: owner, leaseMs: global.leaseMs),
                               observer: Observers([log, metrics]))
        var schedulerOptions = Scheduler.Options(maxConcurrent: concurrency, fires: fires)
        schedulerOptions.drives = !args.has("--intake-only")
        let scheduler = Scheduler(engine: engine, set: set, options: schedulerOptions) { event in
            log.scheduler(event, metrics: metrics)
        }
        let roster = Roster(store: store, owner: owner, startedAt: startedAt, schedules: { await scheduler.snapshot().set }) { level, event, fields in
            log.write(level, event, fields: fields)
        }
        log.info("start", ["jobs": String(set.jobs.count), "state": global.state, "schedules": global.schedules,
                           "mode": fires ? "run" : "serve", "owner": owner])
        let server: HTTPServer?
        if let listen {
            var options = API.Options()
            options.token = token
            options.environment = environment
            options.intakeOnly = args.has("--intake-only")
            options.maxBacklog = backlog
            options.roster = roster
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
        } else {
            server = nil
        }
        let loader = global.loader()
        let paths = [global.schedules]
        let daemon = Daemon(scheduler: scheduler, schedules: global.schedules, load: { loader.load(paths: paths) }, roster: roster) { event, fields in
            log.write("info", event, fields: fields)
        }
        await daemon.run { server?.stop() }
        log.info("stop", ["drained": "true"])
        return .success
    }
}
