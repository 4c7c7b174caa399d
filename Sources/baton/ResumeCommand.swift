import BatonEngine
import BatonStore

/// `baton resume RUN`: continue a cancelled, failed or partial run (or one whose
/// driver died) from its committed cursor, in the foreground.
struct ResumeCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "resume", values: HandlerEnvironmentOptions.values, flags: ["--json", "--once"])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.resume); return .success }
        let target = try await RunTarget.load(args, global: global, verb: "resume")
        let (store, id) = (target.store, target.run.id)
        var run = target.run
        if run.status == .succeeded {
            Console.err("baton: run \(id) already succeeded; nothing to resume")
            return .success
        }
        if run.failedOnItems {
            // It reached its end: resuming would run its last cursor again.
            throw UsageError(message: "run \(id) reached its end; \(run.counts.failed) item(s) failed, so there is nothing to resume",
                             hint: "run the failed items again with: \(global.command("retry", id))")
        }
        var job = try RunDriver.job(for: run, global: global)
        try HandlerEnvironmentOptions.apply(args, to: &job)
        let driver = RunDriver(store: store, json: args.has("--json"), global: global)
        let progress = Progress()
        let engine = driver.engine(progress: progress)
        run = try await engine.reopen(runId: id, job: job)
        return try await driver.drive(run, job: job, engine: engine, progress: progress, once: args.has("--once"))
    }
}
