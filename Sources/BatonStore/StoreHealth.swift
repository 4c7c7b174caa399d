import Synchronization

/// Whether the state store works, as the operations through a `MonitoredStore` find
/// it, told once per outage rather than once per failed operation.
///
/// An outage begins at the first operation that fails for a reason that may pass
/// (`mayPass`: the database unreachable or the connection cut, `.busy`, `.full`). It
/// ends once operations have succeeded for `settle` (10 s) with none failing: a store
/// that answers reads but refuses a commit every few seconds (a full disk, one row
/// locked) is still in trouble, and is not reported as back and down again at each
/// retry. Each outage is reported twice: `.down` with the operation that failed first
/// and its error (the reason and the hint), and `.back` with how long it lasted (to
/// the first success of the streak that ended it) and how many operations failed
/// meanwhile. Failures of other kinds (a fenced write, a conflict) are no outage.
public final class StoreHealth: Sendable {
    public enum Event: Sendable {
        /// `operation` (a `RunStore` method) failed with `error`: the outage begins.
        case down(operation: String, error: StoreError)
        /// The store works again after `after`; `failed` operations failed in between
        /// (the first included).
        case back(after: Duration, failed: Int)
    }

    private struct Outage {
        var since: ContinuousClock.Instant
        var failed = 1
        /// The first success since the last failure.
        var recovering: ContinuousClock.Instant?
    }

    /// How long operations must go on succeeding before an outage counts as over.
    public static let settle: Duration = .seconds(10)
    let settle: Duration

    private let outage = Mutex<Outage?>(nil)
    /// Mirrors `outage != nil`: a successful operation outside an outage (every slice's
    /// start and commit) costs one relaxed load, not a lock.
    private let troubled = Atomic<Bool>(false)
    private let report: @Sendable (Event) -> Void

    /// - Parameter settle: how long operations must succeed before an outage is over
    ///   (`StoreHealth.settle`; shorter in tests).
    public init(settle: Duration = StoreHealth.settle, report: @escaping @Sendable (Event) -> Void) {
        self.settle = settle
        self.report = report
    }

    /// Whether an outage is going on (it may be settling).
    public var isDown: Bool { troubled.load(ordering: .relaxed) }

    /// Failures that may clear without anyone changing baton: space freed, the other
    /// process done with its lock, the database back.
    public static func mayPass(_ error: StoreError) -> Bool {
        switch error.kind {
        case .busy, .full, .io: true
        case .readOnly, .cantOpen, .corrupt, .tooNew, .notFound, .conflict, .fenced: false
        }
    }

    func failed(_ operation: String, _ error: StoreError) {
        guard Self.mayPass(error) else { return }
        let began = outage.withLock { o -> Bool in
            guard o != nil else {
                o = Outage(since: .now)
                troubled.store(true, ordering: .relaxed)
                return true
            }
            o!.failed += 1
            o!.recovering = nil
            return false
        }
        if began { report(.down(operation: operation, error: error)) }
    }

    func succeeded() {
        guard troubled.load(ordering: .relaxed) else { return }
        let ended = outage.withLock { o -> (Duration, Int)? in
            guard let current = o else { return nil }
            let now = ContinuousClock.now
            guard let recovering = current.recovering else {
                o!.recovering = now
                return nil
            }
            guard now - recovering >= settle else { return nil }
            o = nil
            troubled.store(false, ordering: .relaxed)
            return (recovering - current.since, current.failed)
        }
        if let (after, failed) = ended { report(.back(after: after, failed: failed)) }
    }
}
