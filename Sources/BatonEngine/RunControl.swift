import Synchronization

/// Steers a run being driven, from a signal handler, a shutdown or another task.
public final class RunControl: Sendable {
    public enum Request: Int, Sendable, Comparable {
        case none = 0
        /// No new slices; the running one finishes or meets its budget; the run stays
        /// resumable (daemon shutdown).
        case drain = 1
        /// SIGTERM to the running slice, its result (if valid) committed, run cancelled.
        case cancel = 2
        /// SIGKILL to the running slice now; the run stays resumable (second signal).
        case kill = 3

        public static func < (a: Request, b: Request) -> Bool { a.rawValue < b.rawValue }
    }

    private let state = Mutex(Request.none)

    public init() {}

    /// Raises the request (a weaker one never replaces a stronger one).
    public func request(_ r: Request) { state.withLock { $0 = max($0, r) } }

    public var current: Request { state.withLock { $0 } }
}
