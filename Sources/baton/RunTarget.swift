import BatonStore

/// The one RUN argument of show, cancel, resume and retry: the store and the run.
struct RunTarget {
    let store: any RunStore
    let run: RunRecord

    /// - Throws: `UsageError` when RUN is missing, doubled or unknown; store errors.
    static func load(_ args: Arguments, global: GlobalOptions, verb: String) async throws -> RunTarget {
        guard args.positional.count == 1, let id = args.positional.first else {
            throw UsageError(message: "name one run to \(verb)", hint: "baton \(verb) RUN (list runs with 'baton runs')")
        }
        let store = try await StateStore.open(global.state)
        guard let run = try await store.run(id: id) else {
            throw UsageError(message: "no run \(id)", hint: "list runs with 'baton runs'")
        }
        return RunTarget(store: store, run: run)
    }
}
