import BatonEngine
import BatonStore

/// `baton retry RUN`: a new run of the same job whose `payload.items` lists the ids of
/// the items the old run reported as failed (or unknown).
struct RetryCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "retry", values: [], flags: ["--json"])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.retry); return .success }
        let target = try await RunTarget.load(args, global: global, verb: "retry")
        let (store, old, id) = (target.store, target.run, target.run.id)
        let driver = RunDriver(store: store, json: args.has("--json"), global: global)
        let progress = Progress()
        let engine = driver.engine(progress: progress)
        guard let (payload, count) = try await engine.retryPayload(of: old) else {
            Console.err("baton: run \(id) reported no failed items; to continue it from its cursor use: baton resume \(id)")
            return .success
        }
        let job = try RunDriver.job(for: old, global: global)
        let run = try await engine.createRun(job: job, trigger: .retry, params: old.params, payload: payload,
                                             parentRun: id, command: old.command)
        if !args.has("--json") { Console.err("baton: retrying \(count) failed item(s) of \(id)") }
        return try await driver.drive(run, job: job, engine: engine, progress: progress)
    }
}
