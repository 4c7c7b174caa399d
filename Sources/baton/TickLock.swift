import BatonPostgres
import BatonSQLite
import BatonStore
import BatonStorePostgres
import Foundation
import Glibc

/// What makes two `baton tick`s on one store never both act (SPEC §4): on SQLite an
/// exclusive `flock(2)` on a file next to the store; on PostgreSQL a session advisory
/// lock (`pg_try_advisory_lock`) on a connection of its own, held until the tick ends.
/// Both are let go by the kernel or the server when the process dies, so a killed tick
/// never blocks the next one.
final class TickLock: @unchecked Sendable {
    /// The advisory lock key: "BATN" and 3 (the store uses 1 and 2).
    static let postgresKey: Int64 = 0x4241_544E_0003

    private let fd: Int32
    /// Touched only by `acquire` and `release`, one after the other.
    private let connection: PostgresConnection?

    private init(fd: Int32 = -1, connection: PostgresConnection? = nil) {
        self.fd = fd; self.connection = connection
    }

    /// nil when another tick holds it.
    /// - Throws: `UsageError` when the lock file cannot be made; `StoreError` when the
    ///   database cannot be reached.
    static func acquire(state: String) async throws -> TickLock? {
        if PostgresURL.isPostgres(state) { return try await postgres(state) }
        guard SQLiteURL.isSQLite(state) else { return TickLock() }
        let path = try StateStore.path(state)
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(path + ".tick.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw UsageError(message: "cannot create the tick lock \(path).tick.lock: \(String(cString: strerror(errno)))",
                             hint: "make the store's directory writable, or point --state elsewhere")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 { close(fd); return nil }
        return TickLock(fd: fd)
    }

    /// Connects and tries the advisory lock on a thread of its own (libpq blocks).
    private static func postgres(_ url: String) async throws -> TickLock? {
        let outcome: Result<TickLock?, PostgresError> = await withCheckedContinuation { done in
            Thread {
                do throws(PostgresError) {
                    let connection = try PostgresConnection(url: url)
                    let held = try connection.execute("SELECT pg_try_advisory_lock($1)", [.integer(postgresKey)]).row(0).bool(0)
                    if !held { connection.close() }
                    done.resume(returning: .success(held ? TickLock(connection: connection) : nil))
                } catch {
                    done.resume(returning: .failure(error))
                }
            }.start()
        }
        switch outcome {
        case let .success(lock): return lock
        case let .failure(error): throw StoreError(error)
        }
    }

    func release() {
        if fd >= 0 { flock(fd, LOCK_UN); close(fd) }
        // Closing the session lets the advisory lock go (one round trip; the tick is over).
        connection?.close()
    }
}
