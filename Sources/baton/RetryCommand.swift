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
        let failed = try await store.items(runId: id, status: "failed") + (try await store.items(runId: id, status: "unknown"))
        var seen = Set<String>()
        let ids = failed.map(\.itemId).filter { seen.insert($0).inserted }
        if ids.isEmpty {
            Console.err("baton: run \(id) reported no failed items; to continue it from its cursor use: baton resume \(id)")
            return .success
        }
        var payload: [String: JSONValue] = [:]
        if let text = old.payload, case let .object(o)? = JSONValue.parse(Array(text.utf8)) { payload = o }
        payload["items"] = .array(ids.map { .string($0) })
        payload["retry_of"] = .string(id)
        let job = try RunDriver.job(for: old, global: global)
        let driver = RunDriver(store: store, json: args.has("--json"))
        let progress = Progress()
        let engine = driver.engine(progress: progress)
        let run = try await engine.createRun(job: job, trigger: .retry, params: old.params, payload: JSONValue.object(payload).text,
                                             parentRun: id, command: old.command)
        if !args.has("--json") { Console.err("baton: retrying \(ids.count) failed item(s) of \(id)") }
        return try await driver.drive(run, job: job, engine: engine, progress: progress)
    }
}
