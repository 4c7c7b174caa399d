import Synchronization

/// Steers a run being driven, from a signal handler, a shutdown, a cancel flag seen in
/// the store, or another task. Requests arrive as events: whoever waits on the run (a
/// slice's process, a pause between slices) is told at once, nothing polls.
public final class RunControl: Sendable {
    public enum Request: Int, Sendable, Comparable {
        case none = 0
        /// No new slices; the running one finishes or meets its budget; the run stays
        /// resumable (daemon shutdown).
        case drain = 1
        /// SIGTERM to the running slice, its result (if valid) committed, run cancelled.
        case cancel = 2
        /// SIGKILL to the running slice now; the run stays resumable (second signal, or
        /// this process lost the run to another).
        case kill = 3

        public static func < (a: Request, b: Request) -> Bool { a.rawValue < b.rawValue }
    }

    private struct State {
        var request = Request.none
        var listeners: [Int: @Sendable (Request) -> Void] = [:]
        var nextToken = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Raises the request (a weaker one never replaces a stronger one) and tells every
    /// listener of a change.
    public func request(_ r: Request) {
        let (changed, listeners) = state.withLock { s -> (Request?, [@Sendable (Request) -> Void]) in
            guard r > s.request else { return (nil, []) }
            s.request = r
            return (r, Array(s.listeners.values))
        }
        if let changed { for l in listeners { l(changed) } }
    }

    public var current: Request { state.withLock { $0.request } }

    /// Calls `listener` with each raised request (on the requester's thread) until
    /// `stopListening(token)`. A request already made is not replayed: read `current`.
    func listen(_ listener: @escaping @Sendable (Request) -> Void) -> Int {
        state.withLock { s in
            s.nextToken += 1
            s.listeners[s.nextToken] = listener
            return s.nextToken
        }
    }

    func stopListening(_ token: Int) {
        _ = state.withLock { $0.listeners.removeValue(forKey: token) }
    }

    /// Waits up to `ms`, or until a request is raised (or was already).
    func pause(ms: Int64) async {
        guard ms > 0, current == .none else { return }
        let waiter = Waiter()
        let token = listen { _ in waiter.wake() }
        defer { stopListening(token) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: .milliseconds(ms)) }
            group.addTask { await waiter.wait() }
            // A request raised before the listener was in place.
            if current != .none { waiter.wake() }
            await group.next()
            // Whichever ended first, end the other: a sleep is cancelled, a wait woken.
            group.cancelAll()
            waiter.wake()
        }
    }
}

/// One wait, woken once: a wake before the wait makes the wait return at once.
final class Waiter: Sendable {
    private let state = Mutex<(woken: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.woken { return true }
                s.continuation = c
                return false
            }
            if now { c.resume() }
        }
    }

    func wake() {
        state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.woken = true
            defer { s.continuation = nil }
            return s.continuation
        }?.resume()
    }
}
