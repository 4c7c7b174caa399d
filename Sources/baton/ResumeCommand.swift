import BatonEngine
import BatonStore

/// `baton resume RUN`: continue a cancelled, failed or partial run (or one whose
/// driver died) from its committed cursor, in the foreground.
struct ResumeCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "resume", values: [], flags: ["--json", "--once"])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.resume); return .success }
        guard args.positional.count == 1, let id = args.positional.first else {
            throw UsageError(message: "name one run to resume", hint: "baton resume RUN")
        }
        let store = try StateStore.open(global.state)
        guard var run = try await store.run(id: id) else {
            throw UsageError(message: "no run \(id)", hint: "list runs with 'baton runs'")
        }
        if run.status == .succeeded {
            Console.err("baton: run \(id) already succeeded; nothing to resume")
            return .success
        }
        let job = try RunDriver.job(for: run, global: global)
        if run.status.isFinished || run.cancelRequested {
            run.status = .running
            run.cancelRequested = false
            run.error = nil
            run.finishedAt = nil
            run.failedAttempts = 0
            run.updatedAt = RunText.nowMs()
            run = try await store.updateRun(run)
        }
        let driver = RunDriver(store: store, json: args.has("--json"))
        let progress = Progress()
        return try await driver.drive(run, job: job, engine: driver.engine(progress: progress), progress: progress,
                                      once: args.has("--once"))
    }
}
