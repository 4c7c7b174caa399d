import BatonStore
import Synchronization

extension RunEngine {
    /// Commits a slice's outcome. A store problem that may pass (a full disk, a busy or
    /// unreachable database) does not lose the outcome or run the slice again: it is
    /// reported once, kept, and the commit retried with back-off (250 ms doubling to
    /// 5 s: more often than `StoreHealth.settle`, so a store that keeps refusing it is
    /// one outage, not one per retry) until it lands, or until a hard stop (a second signal) gives up, leaving the
    /// slice to run again on resume. Nothing new starts meanwhile: the drive is here,
    /// and no other drive of this engine starts a slice while a result is held
    /// (`HeldResults`).
    func commit(_ lease: Lease, _ commit: SliceCommit, run: RunRecord, control: RunControl) async throws(EngineError) -> RunRecord {
        var delay: Int64 = 250
        var troubled = false
        defer { if troubled { held.release() } }
        while true {
            do {
                let stored = try await store.commitSlice(lease, commit)
                if troubled { observer?.event(.storeRecovered(run: run)) }
                return stored
            } catch where Self.mayPass(error) && control.current != .kill {
                if !troubled {
                    observer?.event(.storeTrouble(run: run, error: error))
                    held.hold()
                }
                troubled = true
                await Self.wait(ms: delay, control: control)
                delay = min(delay * 2, 5_000)
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

    /// Waits while a slice result of this engine is held (its commit waits for the
    /// store): no slice starts then, in any drive; said once. A cancel, drain or kill
    /// ends the wait (the drive's loop acts on it next).
    func waitWhileResultsHeld(_ control: RunControl) async {
        while control.current == .none, let count = held.mustWait() {
            if let count { observer?.event(.startsHeld(held: count)) }
            await control.pause(ms: 250)
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
    static func mayPass(_ error: StoreError) -> Bool { StoreHealth.mayPass(error) }

    /// Waits `ms` between commit attempts; only a kill (which gives up) ends it early.
    /// (`RunControl.pause` returns at once during a drain: a drain keeps the result and
    /// must not turn the retries into a busy loop.)
    static func wait(ms: Int64, control: RunControl) async {
        var left = ms
        while left > 0, control.current != .kill {
            let step = min(left, 250)
            try? await Task.sleep(for: .milliseconds(step))
            left -= step
        }
    }
}

/// The slice results an engine holds in memory because the store does not take their
/// commits. At most one per drive (a drive retries its own commit before anything
/// else), so at most `--max-concurrent` per daemon; and from the first one held, no
/// drive of the engine starts a new slice until every held result is committed.
final class HeldResults: Sendable {
    /// Read before every slice: one relaxed load while nothing is held.
    private let count = Atomic<Int>(0)
    private let said = Mutex(false)

    func hold() { count.add(1, ordering: .relaxed) }

    func release() {
        if count.subtract(1, ordering: .relaxed).newValue == 0 { said.withLock { $0 = false } }
    }

    /// nil: a slice may start. Else the drive waits; the inner value is the count to
    /// report, the first time only.
    func mustWait() -> Int?? {
        let held = count.load(ordering: .relaxed)
        guard held > 0 else { return nil }
        let first = said.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        return .some(first ? held : nil)
    }
}
