import BatonStore

/// What happens to a run, as it happens: for progress bars, logs and metrics.
/// Called from the engine's tasks and (for log lines) a supervisor thread.
public protocol RunObserver: Sendable {
    func event(_ event: RunEvent)
}

public enum RunEvent: Sendable {
    case sliceStarted(run: RunRecord, slice: Int, attempt: Int)
    case logLine(run: RunRecord, line: String)
    case sliceFinished(run: RunRecord, slice: SliceRecord)
    case retryScheduled(run: RunRecord, delayMs: Int64, reason: String)
    case runFinished(run: RunRecord)
    /// A slice's commit failed on a store problem that may pass (a full disk, a busy or
    /// unreachable database): its outcome is kept and the commit retried with back-off;
    /// no new slice starts meanwhile. Sent once per trouble, then `storeRecovered`.
    case storeTrouble(run: RunRecord, error: StoreError)
    case storeRecovered(run: RunRecord)
    /// No slice starts: `held` slice results of this engine wait for the store to take
    /// their commits. Sent once, until they are all committed.
    case startsHeld(held: Int)
}

/// Why the engine could not go on (the work itself failing is a run status, not this).
public enum EngineError: Error, Sendable, CustomStringConvertible {
    case store(StoreError)
    case noSuchRun(String)
    case heldElsewhere(String, owner: String)
    /// This process's hold on the run ended: another took it over (fenced off).
    case lost(String, StoreError)

    public var description: String {
        switch self {
        case let .store(e): "state store \(e.location): \(e.message)"
        case let .noSuchRun(id): "no run \(id)"
        case let .heldElsewhere(id, owner): "run \(id) is being driven by \(owner)"
        case let .lost(_, e): e.message
        }
    }

    /// An error from a block that mixes store calls and engine checks, as an EngineError.
    init(_ error: any Error) {
        if let e = error as? EngineError { self = e }
        else if let e = error as? StoreError { self = Self(e, runId: nil) }
        else { self = .store(StoreError(.io, location: "store", "\(error)")) }
    }

    /// A store error as the engine reports it: a fenced write is a lost run.
    init(_ error: StoreError, runId: String? = nil) {
        if error.kind == .fenced { self = .lost(runId ?? "", error) } else { self = .store(error) }
    }

    public var hint: String? {
        switch self {
        case let .store(e): e.hint
        case .noSuchRun: "list runs with 'baton runs'"
        case .heldElsewhere: "cancel it there, or wait for it to finish or for its lease to expire"
        case let .lost(_, e): e.hint
        }
    }
}

/// Several observers as one (the log and the metrics).
public struct Observers: RunObserver {
    let all: [any RunObserver]
    public init(_ all: [any RunObserver]) { self.all = all }
    public func event(_ event: RunEvent) { for o in all { o.event(event) } }
}
