import Foundation
import BatonStore
import Synchronization

/// The start of a slice that follows its run's commit, its claim, or its creation held
/// by its driver, at once (a chain going straight on, a fired run starting), without a round
/// trip: a choice of this backend, invisible to its callers.
///
/// When `commitSlice` leaves a run going on, `claim` takes one, or `createRun`,
/// `createRuns` and `recordFires` create one held by an owner, the store remembers the
/// run under that lease. A `startSlice` of exactly the next slice and attempt under the same
/// lease, within `window` of that commit, is answered from it at once, and its
/// transaction (the same conditional one as always) is queued on the store's thread
/// without waiting for it: it runs while the handler is being spawned, and before any
/// later operation on the store. If it is refused (another process took the run over
/// in that instant, or the disk filled), the refusal is kept and thrown by the run's
/// next operation here, its commit; the drive's watch sees a takeover within 250 ms.
/// Any other operation on the run forgets what was remembered.
final class ChainedStarts: Sendable {
    struct Committed {
        var lease: Lease
        var run: RunRecord
        var at: ContinuousClock.Instant
    }

    /// How long after a commit its run's next start may be answered from memory.
    static let window: Duration = .milliseconds(50)
    /// How much of the lease must be left for that: far more than the queued start
    /// takes to land, so no takeover can come first.
    static let leaseLeftMs: Int64 = 1_000

    private let committed = Mutex<[String: Committed]>([:])
    /// Refusals of starts queued without waiting, by run id; read on the store's thread.
    private let refused = Mutex<[String: StoreError]>([:])

    func remember(_ lease: Lease, _ run: RunRecord) {
        guard run.status == .running || (run.status == .queued && run.slicesDone == 0), run.owner == lease.owner, run.epoch == lease.epoch, !run.cancelRequested else {
            forget(lease.runId)
            return
        }
        committed.withLock { $0[lease.runId] = Committed(lease: lease, run: run, at: .now) }
    }

    /// A run created held by its owner (epoch 1), as `RunRecord(new)` reads it.
    func rememberCreated(_ new: NewRun) {
        guard new.owner != nil, new.status == .running || new.status == .queued else { return }
        var run = RunRecord(new)
        run.leaseExpiresAt = new.leaseMs.map { Int64(Date().timeIntervalSince1970 * 1000) + $0 }
        if let lease = Lease(run) { remember(lease, run) }
    }

    func forget(_ runId: String) {
        _ = committed.withLock { $0.removeValue(forKey: runId) }
    }

    /// The run as remembered, when `start` under `lease` follows its commit at once.
    func take(_ lease: Lease, _ start: SliceStart) -> RunRecord? {
        committed.withLock { all -> RunRecord? in
            // Only while the lease has a while to run: no other process may claim the run
            // before the queued start lands (SQLite's clock is this machine's).
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            guard let c = all.removeValue(forKey: lease.runId), c.lease == lease,
                  c.run.nextSlice == start.number, c.run.nextAttempt == start.attempt,
                  ContinuousClock.now - c.at < Self.window,
                  let until = c.run.leaseExpiresAt, until - now > Self.leaseLeftMs else { return nil }
            var run = c.run
            run.status = .running  // as the queued start makes it
            return run
        }
    }

    func refuse(_ runId: String, _ error: StoreError) { refused.withLock { $0[runId] = error } }

    /// The refusal of a start queued for `runId`, once.
    func refusal(_ runId: String) -> StoreError? { refused.withLock { $0.removeValue(forKey: runId) } }
}
