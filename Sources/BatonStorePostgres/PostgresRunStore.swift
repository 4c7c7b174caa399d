import BatonPostgres
import BatonStore
import Dispatch
import Synchronization

/// The shared `RunStore` (SPEC §5, `postgres://…`): any number of baton daemons on
/// several machines on one PostgreSQL database.
///
/// Each store has one connection, on one dedicated serial `DispatchQueue`: every
/// method hops there through a checked continuation, so libpq's blocking calls never
/// run on Swift's cooperative pool. Every operation is one transaction of prepared
/// statements; lease times come from the database's clock. See docs/store.md.
public final class PostgresRunStore: RunStore {
    /// The server's URL without credentials.
    public let location: String
    private let thread: StoreThread<PostgresRunTables>

    /// Connects to `url` and migrates the database. Blocks while it connects (up to
    /// `connect_timeout`, 10 s unless the URL says) and while another daemon migrates:
    /// from async code, use `open(url:)`, which does this on the store's own thread.
    /// - Throws: `StoreError`: `.cantOpen` (refused: user, password, database),
    ///   `.io` (unreachable), `.tooNew` (a newer baton's database), `.corrupt` (another
    ///   program's tables).
    public init(url: String) throws(StoreError) {
        location = PostgresURL.redacted(url)
        thread = StoreThread(queue: DispatchQueue(label: "baton.store.postgres"), location: location,
                             tables: try Self.connect(url: url), close: { $0.db.close() })
    }

    private init(location: String, queue: DispatchQueue, tables: sending PostgresRunTables) {
        self.location = location
        self.thread = StoreThread(queue: queue, location: location, tables: tables, close: { $0.db.close() })
    }

    /// Opens the store at a `postgres://` or `postgresql://` URL (libpq's URI form:
    /// `postgres://user:password@host:port/database?sslmode=require`), connecting and
    /// migrating on the store's own thread.
    /// - Throws: as `init(url:)`.
    public static func open(url: String) async throws(StoreError) -> PostgresRunStore {
        let queue = DispatchQueue(label: "baton.store.postgres")
        let location = PostgresURL.redacted(url)
        let opened = await withCheckedContinuation { (continuation: CheckedContinuation<Result<OpenedTables, StoreError>, Never>) in
            queue.async {
                continuation.resume(returning: Result { () throws(StoreError) in OpenedTables(try connect(url: url)) })
            }
        }
        return PostgresRunStore(location: location, queue: queue, tables: try opened.get().take())
    }

    private static func connect(url: String) throws(StoreError) -> PostgresRunTables {
        guard PostgresURL.isPostgres(url) else {
            throw StoreError(.cantOpen, location: PostgresURL.redacted(url), "not a PostgreSQL URL",
                             hint: "write postgres://USER@HOST:PORT/DATABASE")
        }
        let db = try PostgresSession(url: url)
        do throws(StoreError) {
            try PostgresSchema.migrate(db.pg)
        } catch {
            db.close()
            throw error
        }
        return PostgresRunTables(db: db)
    }

    /// Closes the connection once the operations already started have finished
    /// (`PQfinish`). Later calls fail with `.io` "the store is closed".
    public func close() async {
        await thread.close()
    }

    /// Runs `body` on the store's thread and hands its result back to the caller's task.
    func perform<T: Sendable>(_ body: @escaping @Sendable (PostgresRunTables) throws(StoreError) -> T)
        async throws(StoreError) -> T {
        try await thread.perform(body)
    }
}

/// Tables just opened on the store's queue, carried back to the opener once.
private final class OpenedTables: Sendable {
    private let tables: Mutex<PostgresRunTables?>
    init(_ tables: sending PostgresRunTables) { self.tables = Mutex(tables) }
    func take() -> sending PostgresRunTables {
        tables.withLock { t -> sending PostgresRunTables in
            guard let taken = t.take() else { preconditionFailure("opened tables taken twice") }
            return taken
        }
    }
}
