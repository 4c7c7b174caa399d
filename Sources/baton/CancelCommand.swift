import BatonReport
import BatonStore

/// `baton cancel RUN`: graceful; the running slice gets SIGTERM, the cursor is kept.
/// Works on a run driven by another baton process (it polls the store's flag).
struct CancelCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "cancel", values: [], flags: ["--json"])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.cancel); return .success }
        let target = try await RunTarget.load(args, global: global, verb: "cancel")
        let (store, run, id) = (target.store, target.run, target.run.id)
        if run.status.isFinished {
            Console.err("baton: run \(id) already \(run.status.rawValue); nothing to cancel")
            return .success
        }
        var updated = try await store.requestCancel(runId: id, at: RunText.nowMs()) ?? run
        // Nobody driving it (queued, left by a drain, or its driver died): cancel it here.
        let engine = RunDriver(store: store, json: false, global: global).engine(progress: nil)
        if let done = try await engine.cancelAbandoned(runId: id) { updated = done }
        if args.has("--json") {
            Console.out(JSON.encode(RunText.json(updated)))
        } else if updated.status == .cancelled {
            Console.err("baton: run \(id) cancelled; continue it with: \(global.command("resume", id))")
        } else {
            Console.err("baton: cancel requested; \(updated.owner ?? "its driver") stops slice \(updated.nextSlice) with SIGTERM within a second and keeps the cursor")
        }
        return .success
    }
}
