import BatonEngine
import BatonStore

/// `baton retry RUN [--include-unknown]`: a new run of the same job whose
/// `payload.items` lists the ids of the items the old run reported as failed (and, when
/// asked, those whose outcome is unknown). A run already retried is not retried again:
/// its items went to the retry, which is retried in turn.
struct RetryCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "retry", values: HandlerEnvironmentOptions.values, flags: ["--json", "--include-unknown"])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.retry); return .success }
        let target = try await RunTarget.load(args, global: global, verb: "retry")
        let (store, old, id) = (target.store, target.run, target.run.id)
        if let newest = try await store.retries(of: id).first {
            Console.err("baton: run \(id) was retried already by \(newest.id) (\(newest.status.rawValue)); "
                + "its items went there, so they are not offered again")
            if newest.status == .failed || newest.counts.failed > 0 {
                Console.err("  what still failed: \(global.command("retry", newest.id))")
            }
            return .success
        }
        let driver = RunDriver(store: store, json: args.has("--json"), global: global)
        let progress = Progress()
        let engine = driver.engine(progress: progress)
        let includeUnknown = args.has("--include-unknown")
        guard let (payload, count) = try await engine.retryPayload(of: old, includeUnknown: includeUnknown) else {
            let unknown = includeUnknown ? [] : try await store.items(runId: id, status: "unknown")
            if !unknown.isEmpty {
                Console.err("baton: run \(id) has no failed items, but \(unknown.count) whose outcome is unknown "
                    + "(they may have been delivered); to run them again anyway: \(global.command("retry", id, "--include-unknown"))")
            } else if old.counts.failed > 0 {
                Console.err("baton: run \(id) counted \(old.counts.failed) failed item(s) but listed none in its results' "
                    + "`items`, so baton cannot tell which to run again (docs/runs.md: report each failed item with its id)")
            } else if old.status == .succeeded {
                Console.err("baton: run \(id) reported no failed items; nothing to retry")
            } else {
                Console.err("baton: run \(id) reported no failed items; it is \(old.status.rawValue), "
                    + "to continue it from its cursor: \(global.command("resume", id))")
            }
            return .success
        }
        var job = try RunDriver.job(for: old, global: global)
        try HandlerEnvironmentOptions.apply(args, to: &job)
        let run = try await engine.createRun(job: job, trigger: .retry, params: old.params, payload: payload,
                                             parentRun: id, command: old.command)
        if !args.has("--json") { Console.err("baton: retrying \(count) failed item(s) of \(id) as run \(run.id)") }
        return try await driver.drive(run, job: job, engine: engine, progress: progress)
    }
}
