import Foundation
import Glibc
import Synchronization

/// A whole-request deadline per connection: its request's headers and body must have
/// arrived within `deadline` of the connection's accept (or of its previous answer, on
/// a kept-alive connection). libmicrohttpd's own timeout only closes a connection that
/// goes *idle*, so a client sending one byte a second would hold its connection (and a
/// share of the connection cap) for ever; this closes it.
///
/// libmicrohttpd reports connections opening and closing on its polling thread; a
/// thread of baton's own looks at the clock every `tick` and shuts down (`shutdown(2)`,
/// never `close(2)`) the socket of each connection past its deadline, under the same
/// lock the close report takes, so a socket number is never used after libmicrohttpd
/// let go of it. libmicrohttpd then sees the connection end and cleans it up itself.
final class RequestDeadlines: Sendable {
    private struct Watched {
        let fd: Int32
        /// When the current request's clock started; nil while an answer is computed
        /// or sent (the request has fully arrived).
        var since: ContinuousClock.Instant?
        var shut = false
    }

    private struct State {
        var connections: [UInt: Watched] = [:]
        var stopped = false
    }

    let deadline: Duration
    private let state = Mutex(State())
    /// Connections closed for missing their deadline, since start.
    let expired = Atomic<Int>(0)

    init(deadline: Duration, tick: Duration = .milliseconds(250)) {
        self.deadline = deadline
        let micros = useconds_t(tick / .microseconds(1))
        let thread = Thread { [self] in
            while sweep() { usleep(micros) }
        }
        thread.name = "baton-http-deadlines"
        thread.start()
    }

    /// A connection was accepted: its first request's clock starts.
    func opened(_ connection: OpaquePointer, fd: Int32) {
        guard fd >= 0 else { return }
        state.withLock { $0.connections[Self.key(connection)] = Watched(fd: fd, since: .now) }
    }

    /// libmicrohttpd is about to close the connection's socket: forget it first.
    func closed(_ connection: OpaquePointer) {
        _ = state.withLock { $0.connections.removeValue(forKey: Self.key(connection)) }
    }

    /// The request has fully arrived (or is being answered early): its clock stops.
    func arrived(_ connection: OpaquePointer) {
        state.withLock { $0.connections[Self.key(connection)]?.since = nil }
    }

    /// The answer went out: on a kept-alive connection the next request's clock starts.
    func answered(_ connection: OpaquePointer) {
        state.withLock { $0.connections[Self.key(connection)]?.since = .now }
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    /// Shuts down every connection past its deadline; false once stopped.
    private func sweep() -> Bool {
        let now = ContinuousClock.now
        let deadline = self.deadline
        return state.withLock { s -> Bool in
            if s.stopped { return false }
            for (key, w) in s.connections where !w.shut {
                guard let since = w.since, now - since > deadline else { continue }
                // Still libmicrohttpd's socket: `closed` (which runs before it closes
                // the descriptor) has not removed it, and it cannot while we hold the lock.
                Glibc.shutdown(w.fd, Int32(SHUT_RDWR))
                s.connections[key]?.shut = true
                expired.add(1, ordering: .relaxed)
            }
            return true
        }
    }

    private static func key(_ connection: OpaquePointer) -> UInt { UInt(bitPattern: Int(bitPattern: connection)) }
}
