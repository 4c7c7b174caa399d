import BatonPostgres
import BatonSQLite
import BatonStore
import BatonStorePostgres
import BatonStoreSQLite

/// Opens the store named by `--state` / `BATON_STATE` (SPEC §5).
enum StateStore {
    /// `sqlite:PATH` opens the embedded store; `postgres://…` or `postgresql://…` the
    /// shared one (connecting and migrating on the store's own thread).
    /// - Throws: `UsageError` for a URL baton does not understand; `StoreError` when
    ///   the store cannot be opened (with the path or the URL without its password, and
    ///   what to do).
    static func open(_ url: String) async throws -> any RunStore {
        if SQLiteURL.isSQLite(url) {
            return try SQLiteRunStore(path: try path(url))
        }
        if PostgresURL.isPostgres(url) {
            return try await PostgresRunStore.open(url: url)
        }
        // Never echo a URL that may carry a password.
        throw UsageError(message: "--state '\(PostgresURL.redacted(url))' is not a store URL",
                         hint: "write sqlite:PATH (e.g. sqlite:var/baton.db) or postgres://USER@HOST:PORT/DATABASE")
    }

    /// The file of an `sqlite:` `--state` URL.
    /// - Throws: `UsageError` when it names none.
    static func path(_ url: String) throws(UsageError) -> String {
        do { return try SQLiteURL.path(url, setting: "--state", example: "sqlite:var/baton.db") } catch {
            throw UsageError(message: error.message, hint: error.hint)
        }
    }
}
