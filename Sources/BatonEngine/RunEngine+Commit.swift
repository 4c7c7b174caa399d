import BatonStore

extension RunEngine {
    /// Commits a slice's outcome. A store problem that may pass (a full disk, a busy or
    /// unreachable database) does not lose the outcome or run the slice again: it is
    /// reported once, kept, and the commit retried with back-off (250 ms doubling to
    /// 10 s) until it lands, or until a hard stop (a second signal) gives up, leaving the
    /// slice to run again on resume. Nothing new starts meanwhile: the drive is here.
    func commit(_ lease: Lease, _ commit: SliceCommit, run: RunRecord, control: RunControl) async throws(EngineError) -> RunRecord {
        var delay: Int64 = 250
        var troubled = false
        while true {
            do {
                let stored = try await store.commitSlice(lease, commit)
                if troubled { observer?.event(.storeRecovered(run: run)) }
                return stored
            } catch where Self.mayPass(error) && control.current != .kill {
                if !troubled { observer?.event(.storeTrouble(run: run, error: error)) }
                troubled = true
                await control.pause(ms: delay)
                delay = min(delay * 2, 10_000)
            } catch where troubled && error.kind == .conflict {
                // The slice is no longer running: a commit the connection lost the answer
                // to may have landed after all. It did when the slice row says so.
                if let landed = try? await landedCommit(commit, runId: lease.runId) {
                    observer?.event(.storeRecovered(run: run))
                    return landed
                }
                throw EngineError(error, runId: lease.runId)
            } catch {
                throw EngineError(error, runId: lease.runId)
            }
        }
    }

    /// The run as stored when `commit`'s slice row shows it was committed (its outcome
    /// and cursor as sent), else nil.
    func landedCommit(_ commit: SliceCommit, runId: String) async throws(StoreError) -> RunRecord? {
        let slices = try await store.slices(runId: runId)
        guard let row = slices.first(where: { $0.number == commit.slice.number && $0.attempt == commit.slice.attempt }),
              row.outcome == commit.slice.outcome, row.cursorOut == commit.slice.cursorOut,
              row.finishedAt == commit.slice.finishedAt else { return nil }
        return try await store.run(id: runId)
    }

    /// Store failures worth retrying: the condition may clear without anyone changing
    /// baton (space freed, the other process done, the database back).
    static func mayPass(_ error: StoreError) -> Bool {
        switch error.kind {
        case .busy, .full, .io: true
        case .readOnly, .cantOpen, .corrupt, .tooNew, .notFound, .conflict, .fenced: false
        }
    }
}
