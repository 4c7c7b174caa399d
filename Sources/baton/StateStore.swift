import BatonStore
import BatonStoreSQLite

/// Opens the store named by `--state` / `BATON_STATE` (SPEC §5).
enum StateStore {
    /// - Throws: `UsageError` for a URL baton does not understand; `StoreError` when
    ///   the store cannot be opened (with the path and what to do).
    static func open(_ url: String) throws -> any RunStore {
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else {
                throw UsageError(message: "--state '\(url)' names no file", hint: "write sqlite:var/baton.db")
            }
            return try SQLiteRunStore(path: path)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            throw UsageError(message: "the PostgreSQL store is not in this version",
                             hint: "use the embedded store: --state sqlite:var/baton.db (docs/roadmap.md)")
        }
        throw UsageError(message: "--state '\(url)' is not a store URL", hint: "write sqlite:PATH, e.g. sqlite:var/baton.db")
    }
}
