import Foundation

extension PostgresConnection {
    /// How often a transaction is attempted when the server rolls it back for a
    /// serialization failure or a deadlock (or a lock wait past `lock_timeout`), and the
    /// pauses between attempts.
    public static let retryAttempts = 3
    public static let retryBackoff: [Duration] = [.milliseconds(50), .milliseconds(250)]

    /// Runs `body` in a transaction (READ COMMITTED, the server's default): `BEGIN`,
    /// `body`, `COMMIT`; any error rolls back. A retryable failure (`40001`, `40P01`,
    /// `55P03`) runs the whole body again after a short pause, at most `retryAttempts`
    /// times, so `body` must only touch the database. A body that let a statement fail
    /// and went on (outside a savepoint) is not committed: the server would roll the
    /// transaction back and report success.
    /// - Throws: `E` from `body`, or PostgreSQL's error as `E`.
    public func transaction<T, E: PostgresFailure>(_ body: () throws(E) -> T) throws(E) -> T {
        precondition(!transactionOpen, "nested transaction on \(location)")
        var attempt = 1
        while true {
            do throws(E) {
                do { try executeScript("BEGIN") } catch { throw E(error) }
                transactionOpen = true
                defer { transactionOpen = false }
                let value = try body()
                if transactionFailed {
                    throw E(PostgresError(.io, location: location, "a statement of the transaction failed; rolled back"))
                }
                do { try executeScript("COMMIT") } catch { throw E(error) }
                return value
            } catch {
                rollbackIfOpen()
                guard error.isRetryable, attempt < Self.retryAttempts else { throw error }
                Self.pause(Self.retryBackoff[min(attempt - 1, Self.retryBackoff.count - 1)])
                attempt += 1
            }
        }
    }

    /// Runs `body` inside a savepoint of the open transaction: what it did is undone
    /// (`ROLLBACK TO SAVEPOINT`) when it throws or returns false, and the transaction
    /// goes on either way.
    /// - Returns: what `body` returned.
    /// - Throws: `E` from `body`, or PostgreSQL's error as `E`.
    public func savepoint<E: PostgresFailure>(_ body: () throws(E) -> Bool) throws(E) -> Bool {
        precondition(transactionOpen, "savepoint outside a transaction on \(location)")
        do { try execute("SAVEPOINT baton_step") } catch { throw E(error) }
        let kept: Bool
        do throws(E) {
            kept = try body()
        } catch {
            _ = try? execute("ROLLBACK TO SAVEPOINT baton_step")
            _ = try? execute("RELEASE SAVEPOINT baton_step")
            throw error
        }
        do {
            if !kept { try execute("ROLLBACK TO SAVEPOINT baton_step") }
            try execute("RELEASE SAVEPOINT baton_step")
        } catch { throw E(error) }
        return kept
    }

    /// Rolls back what a failed transaction left open; a broken connection has nothing
    /// left to roll back (the server does it when the session ends).
    private func rollbackIfOpen() {
        guard isInTransaction else { return }
        try? executeScript("ROLLBACK")
    }

    /// Blocks this connection's (dedicated) thread; never called on the cooperative pool.
    private static func pause(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
