import BatonSQLite
import BatonStore
import BatonStoreSQLite

/// Opens the store named by `--state` / `BATON_STATE` (SPEC §5).
enum StateStore {
    /// - Throws: `UsageError` for a URL baton does not understand; `StoreError` when
    ///   the store cannot be opened (with the path and what to do).
    static func open(_ url: String) throws -> any RunStore {
        if SQLiteURL.isSQLite(url) {
            return try SQLiteRunStore(path: try path(url))
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            throw UsageError(message: "the PostgreSQL store is not in this version",
                             hint: "use the embedded store: --state sqlite:var/baton.db (docs/roadmap.md)")
        }
        throw UsageError(message: "--state '\(url)' is not a store URL", hint: "write sqlite:PATH, e.g. sqlite:var/baton.db")
    }

    /// The file of an `sqlite:` `--state` URL.
    /// - Throws: `UsageError` when it names none.
    static func path(_ url: String) throws(UsageError) -> String {
        do { return try SQLiteURL.path(url, setting: "--state", example: "sqlite:var/baton.db") } catch {
            throw UsageError(message: error.message, hint: error.hint)
        }
    }
}
