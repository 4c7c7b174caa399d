import Foundation

extension SQLiteConnection {
    /// How often a write transaction is attempted when the database stays busy past
    /// `busy_timeout`, and the pauses between attempts. The total wait is bounded:
    /// attempts × busy_timeout + the pauses.
    public static let busyAttempts = 3
    public static let busyBackoff: [Duration] = [.milliseconds(50), .milliseconds(250)]

    /// Runs `body` in a write transaction: `BEGIN IMMEDIATE` takes the write lock up
    /// front, so two processes never deadlock upgrading a read lock to a write lock (the
    /// loser of that race could only fail with `SQLITE_BUSY`, even inside busy_timeout).
    /// Any error rolls back. A busy error, whether at `BEGIN` or later, retries the
    /// whole body after a short pause, at most `busyAttempts` times, so `body` must only
    /// touch the database.
    /// - Throws: `E` from `body`, or SQLite's error as `E`; busy when every attempt was.
    ///
    /// Inside a transaction already (a group commit), `body` runs in a savepoint
    /// instead: its error rolls back only what it did, and the outer transaction goes on.
    public func transaction<T, E: SQLiteFailure>(_ body: () throws(E) -> T) throws(E) -> T {
        if isInTransaction { return try savepoint(body) }
        var attempt = 1
        while true {
            do throws(E) {
                do { try execute("BEGIN IMMEDIATE") } catch { throw E(error) }
                let value = try body()
                do { try execute("COMMIT") } catch { throw E(error) }
                return value
            } catch {
                rollbackIfOpen()
                guard error.isBusy, attempt < Self.busyAttempts else { throw error }
                Self.pause(Self.busyBackoff[min(attempt - 1, Self.busyBackoff.count - 1)])
                attempt += 1
            }
        }
    }

    /// `body` inside the open transaction, undone alone when it throws.
    private func savepoint<T, E: SQLiteFailure>(_ body: () throws(E) -> T) throws(E) -> T {
        do { try execute("SAVEPOINT nested") } catch { throw E(error) }
        do throws(E) {
            let value = try body()
            do { try execute("RELEASE nested") } catch { throw E(error) }
            return value
        } catch {
            try? execute("ROLLBACK TO nested")
            try? execute("RELEASE nested")
            throw error
        }
    }

    /// Rolls back what a failed transaction left open. A failed ROLLBACK leaves nothing to
    /// do: SQLite then rolls back itself, or the connection is unusable and the next
    /// statement says so.
    private func rollbackIfOpen() {
        guard isInTransaction else { return }
        try? execute("ROLLBACK")
    }

    /// Blocks this connection's (dedicated) thread; never called on the cooperative pool.
    private static func pause(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
