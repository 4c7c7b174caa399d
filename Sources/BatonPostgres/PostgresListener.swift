import CLibPQ
import Dispatch
import Foundation
import Glibc
import Synchronization

/// `LISTEN` on one channel over a connection of its own, on a thread of its own: it
/// waits in `poll(2)` on the connection's socket (`PQsocket`), then reads what arrived
/// (`PQconsumeInput`, `PQnotifies`), so a daemon learns of another process's change at
/// once without asking the server anything in between. Never on Swift's cooperative
/// pool (every call here blocks).
///
/// A lost connection (the server restarted, the session was terminated, the network
/// cut) is reported once, then reconnected with back-off (0.25 s doubling to 8 s);
/// after every (re)connect `.connected` is reported: notifications sent while it was
/// away are lost, so the caller looks at everything then.
public final class PostgresListener: Sendable {
    public enum Event: Sendable {
        /// Listening (again): what was sent meanwhile was not heard.
        case connected
        /// One notification's payload.
        case notification(String)
        /// The connection was lost or could not be made (libpq's message, no password);
        /// reconnecting.
        case lost(String)
    }

    /// The `application_name` of the listening session (`pg_stat_activity`): the
    /// listener is told apart from the store's own connection by it.
    public static let applicationName = "baton-listen"

    private let stopped = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)

    /// Starts listening on `channel` (an SQL identifier: letters, digits, `_`).
    /// - Parameter onEvent: called on the listener's thread, one event at a time.
    public init(url: String, channel: String, onEvent: @escaping @Sendable (Event) -> Void) {
        precondition(channel.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }, "channel \(channel)")
        let thread = Thread { [self] in loop(url: url, channel: channel, onEvent: onEvent) }
        thread.name = "baton-listen"
        thread.start()
    }

    /// Stops listening: the thread closes its connection within half a second.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        wakeup.signal()
    }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    private func loop(url: String, channel: String, onEvent: @Sendable (Event) -> Void) {
        var backoff = 0.25
        var reported = false
        while !isStopped {
            switch listen(url: url, channel: channel) {
            case let .failure(error):
                if !reported { onEvent(.lost(error.message)); reported = true }
                _ = wakeup.wait(timeout: .now() + backoff)
                backoff = min(backoff * 2, 8)
            case let .success(conn):
                backoff = 0.25
                reported = false
                onEvent(.connected)
                let why = wait(conn, onEvent: onEvent)
                PQfinish(conn)
                if let why, !isStopped { onEvent(.lost(why)); reported = true }
            }
        }
    }

    /// Wraps `PQconnectdbParams(3)` (the URL as `dbname`; TCP keepalives so a silently
    /// dead network is noticed in about 25 s) and `LISTEN`.
    private func listen(url: String, channel: String) -> Result<OpaquePointer, ListenError> {
        // application_name after dbname: it overrides the URL's, so the listener is
        // always found by it.
        let keywords = ["connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count", "dbname",
                        "application_name"]
        let values = [String(PostgresConnection.defaultConnectTimeout), "10", "5", "3", url, Self.applicationName]
        let conn = withCStrings(keywords) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let conn else { return .failure(ListenError("PQconnectdbParams: out of memory")) }
        guard PQstatus(conn) == CONNECTION_OK else {
            let why = Self.message(conn, call: "PQconnectdbParams")
            PQfinish(conn)
            return .failure(ListenError(why))
        }
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        let result = PQexec(conn, "LISTEN \(channel)")
        let ok = PQresultStatus(result) == PGRES_COMMAND_OK
        PQclear(result)
        guard ok else {
            let why = Self.message(conn, call: "LISTEN")
            PQfinish(conn)
            return .failure(ListenError(why))
        }
        return .success(conn)
    }

    /// Waits for notifications until the connection breaks (returns why) or a stop (nil).
    private func wait(_ conn: OpaquePointer, onEvent: @Sendable (Event) -> Void) -> String? {
        let socket = PQsocket(conn)
        guard socket >= 0 else { return "PQsocket: no socket" }
        while !isStopped {
            var pfd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            // A timeout so that a stop is seen without a second descriptor to wake on.
            let ready = poll(&pfd, 1, 500)
            if ready < 0 {
                if errno == EINTR { continue }
                return "poll: \(String(cString: strerror(errno)))"
            }
            if ready == 0 { continue }
            guard PQconsumeInput(conn) == 1, PQstatus(conn) == CONNECTION_OK else {
                return Self.message(conn, call: "PQconsumeInput")
            }
            while let note = PQnotifies(conn) {
                let payload = note.pointee.extra.map { String(cString: $0) } ?? ""
                PQfreemem(note)
                onEvent(.notification(payload))
            }
        }
        return nil
    }

    private static func message(_ conn: OpaquePointer, call: String) -> String {
        let text = PQerrorMessage(conn).map { String(cString: $0) } ?? "unknown error"
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return "\(call): " + (lines.isEmpty ? "the connection was closed" : lines.joined(separator: "; "))
    }
}

private struct ListenError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
